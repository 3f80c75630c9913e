"""The demo's steady campaigns: a few whose budget nobody touched, so their curves are uncertain and the engine
proposes a spend test for them (decisions/generation/spend_test_drafting.py).

The simulator's histories vary every budget the same way; real accounts also hold "set and forget" campaigns
whose spend has barely moved in months. Their rows are taken from a second history of the same world with
low variation (budgets wandering ±3%): every other campaign keeps its own days.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from decisions.engine.simulator import SimHistory, World, simulate_history

STEADY = 4  # campaigns
_ARRAYS = [f.name for f in fields(SimHistory) if f.name != "dates"]


def steady_campaigns(world: World, *, count: int = STEADY, skip: set[int] = frozenset()) -> list[int]:
    """Ordinary campaigns (not brand, not traps, not demand-limited) whose true return on the next dollar is
    nearest the portfolio's median: whether their budget should move is exactly what only a test can tell."""
    ordinary = [
        i
        for i, c in enumerate(world.campaigns)
        if i > 0 and i not in skip and not c.is_trap and c.spend_ceiling is None and "brand" not in c.tags
    ]
    marginal = {i: float(c.pipeline_curve.marginal(c.daily_budget)) for i, c in enumerate(world.campaigns)}
    median = float(np.median(list(marginal.values())))
    return sorted(sorted(ordinary, key=lambda i: abs(np.log(max(marginal[i], 1e-9) / median)))[:count])


def with_steady_campaigns(
    world: World, history: SimHistory, *, count: int = STEADY, skip: set[int] = frozenset()
) -> SimHistory:
    """`history` with `count` steady campaigns' rows from a low-variation history over the same days."""
    steady = steady_campaigns(world, count=count, skip=skip) if count else []
    if not steady:
        return history
    flat = simulate_history(
        world, days=len(history.dates), end_date=history.dates[-1], spend_variation="low", seed=world.seed + 7919
    )
    changed = {}
    for name in _ARRAYS:
        mine, theirs = getattr(history, name), getattr(flat, name)
        if mine is None or theirs is None:
            continue
        merged = np.array(mine, copy=True)
        merged[steady] = theirs[steady]
        changed[name] = merged
    return replace(history, **changed)
