"""Split a daily budget across campaigns to maximise expected objective value, inside the guardrails.

The structure does the work, not a general-purpose optimiser: at the optimum
every campaign that is not at one of its bounds earns the same marginal return
(the Lagrange multiplier of the total). For a given multiplier each campaign's
best budget is found on its own, so one bisection over the multiplier, with an
inner bisection per campaign (vectorised), finds the split in milliseconds
where SLSQP over 1,000 budgets took minutes.

S-shaped curves (shape > 1) are convex below their inflection point. There a
campaign's best budget for a multiplier is either its lower bound or the point
on its concave part where the marginal equals the multiplier, whichever earns
more net of the multiplier; the sum over campaigns can then jump past the
total, and the remainder is placed by a greedy grid (small steps of budget,
each to the campaign that gains most from it).

When the bounds cannot hold the total (their lower bounds add up to more, or
their upper bounds to less), the result is the nearest feasible split: every
campaign at that bound, with `Allocation.feasible` False.

Demand-limited campaigns (decisions/engine/utilization.py) carry a spend cap:
a budget above it is not spent, so its value is value(min(budget, cap)). The
search then runs only up to the cap, which is exactly that: past the cap more
budget costs the multiplier and earns nothing. Money no campaign can use
(every capped one at its cap, every other at its upper bound) goes back where
it came from, the capped campaigns' own budgets, so the total still holds and
nothing is cut for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from decisions.engine.types import Allocation, Bounds, CurveFit, FittedCurve, hill_marginal, hill_value

__all__ = ["Allocation", "Bounds", "allocate", "allocate_detailed", "bounds_from_limits"]

OUTER_STEPS = 64
INNER_STEPS = 48
GREEDY_STEPS = 64
MAX_ROUNDS = 8
DEFAULT_MIN_MOVE = 1.0  # currency units per day; smaller moves are not worth a reviewer's time


def bounds_from_limits(
    current,
    *,
    max_change_pct=None,
    budget_min=None,
    budget_max=None,
    no_cut=None,
    no_increase=None,
    seen_max=None,
    spend_cap=None,
) -> Bounds:
    """Per-campaign budget bounds from the guardrails; scalars or arrays, NaN = no limit there.

    `no_cut` (protected campaigns) and `no_increase` (forbidden audiences) are
    boolean masks. `seen_max` is the largest daily spend in a campaign's data:
    the curve is not trusted more than the change cap beyond it. `spend_cap`
    (inf/NaN = none) is what a demand-limited campaign can spend: no budget is
    raised above it (one already above it may stay, or be cut). Where limits
    contradict each other (a protected campaign already above its budget
    maximum), the campaign is held at its current budget, so the engine
    proposes nothing there and the guardrail check reports the conflict.
    """
    current = np.asarray(current, dtype=float)
    lower = np.zeros_like(current)
    upper = np.full_like(current, np.inf)
    pct = _per_campaign(max_change_pct, current) / 100.0
    lower = np.fmax(lower, current * (1 - pct))
    upper = np.fmin(upper, current * (1 + pct))
    lower = np.fmax(lower, _per_campaign(budget_min, current))
    upper = np.fmin(upper, _per_campaign(budget_max, current))
    if no_cut is not None:
        lower = np.where(np.asarray(no_cut, dtype=bool), np.maximum(lower, current), lower)
    if no_increase is not None:
        upper = np.where(np.asarray(no_increase, dtype=bool), np.minimum(upper, current), upper)
    if seen_max is not None:
        reach = _per_campaign(seen_max, current) * (1 + np.nan_to_num(pct, nan=0.0))
        upper = np.fmin(upper, np.fmax(reach, current))
    if spend_cap is not None:
        upper = np.fmin(upper, np.fmax(_per_campaign(spend_cap, current), current))
    conflict = lower > upper
    lower = np.where(conflict, current, np.maximum(lower, 0.0))
    upper = np.where(conflict, current, upper)
    return Bounds(lower=lower, upper=upper)


def _per_campaign(limit, current: np.ndarray) -> np.ndarray:
    if limit is None:
        return np.full_like(current, np.nan)
    return np.broadcast_to(np.asarray(limit, dtype=float), current.shape).copy()


def allocate(
    curves: Sequence[FittedCurve | None],
    current,
    bounds: Bounds,
    *,
    total: float | None = None,
    min_move: float = DEFAULT_MIN_MOVE,
    min_move_pct: float = 0.0,
) -> np.ndarray:
    """New daily budgets; they sum to `total` (default: today's) unless the bounds make that impossible."""
    return allocate_detailed(curves, current, bounds, total=total, min_move=min_move, min_move_pct=min_move_pct).budgets


def allocate_detailed(
    curves: Sequence[FittedCurve | CurveFit | None],
    current,
    bounds: Bounds,
    *,
    total: float | None = None,
    total_cap: float | None = None,
    min_move: float = DEFAULT_MIN_MOVE,
    min_move_pct: float = 0.0,
    max_p_loss: float | None = None,
    opportunity_rate: float = 0.0,
    spend_caps=None,
) -> Allocation:
    """Allocate, then hold moves too small to matter or (with draws) too likely to lose value.

    `spend_caps` (per campaign, inf = none): the budget beyond which a
    campaign spends no more; value and P(loss) are then read at the effective
    spend min(budget, cap).

    Pass CurveFits (with parameter draws) to get `p_loss` per campaign: the
    share of draws in which the move does worse than the money would do where
    it came from or goes to (see `_move_p_loss`). With `max_p_loss`, moves
    above it are held at today's budget and the rest re-allocated. A None
    curve (no fit, or too little evidence) is held at today's budget, even outside its bounds.
    """
    current = np.asarray(current, dtype=float)
    fits = [f if isinstance(f, CurveFit) else None for f in curves]
    params = _curve_arrays([f.curve if isinstance(f, CurveFit) else f for f in curves])
    total = float(current.sum() if total is None else total)
    if total_cap is not None:
        total = min(total, float(total_cap))
    lower = np.asarray(bounds.lower, dtype=float).copy()
    upper = np.minimum(np.asarray(bounds.upper, dtype=float), max(total, lower.max(initial=0.0)))
    # Held even outside its bounds: with no curve a move cannot be valued, so bringing the budget within a
    # guardrail's bounds is left to the guardrail and the people who set it, not to a shift.
    held = np.array([c is None for c in curves])
    lower, upper = _hold(lower, upper, current, held)
    caps = np.full(len(current), np.inf) if spend_caps is None else np.nan_to_num(spend_caps, nan=np.inf)
    caps = np.broadcast_to(np.asarray(caps, dtype=float), current.shape)

    budgets, level, feasible = _solve_capped(params, lower, upper, caps, total, current)
    p_loss = np.full(len(current), np.nan)
    for _ in range(MAX_ROUNDS):
        threshold = np.maximum(min_move, min_move_pct * current)
        holdable = ~held & (bounds.lower <= current) & (current <= bounds.upper)
        too_small = holdable & (np.abs(budgets - current) < threshold)
        p_loss = _move_p_loss(fits, np.minimum(current, caps), np.minimum(budgets, caps), opportunity_rate)
        too_risky = holdable & (p_loss > max_p_loss) if max_p_loss is not None else np.zeros_like(held)
        new_holds = too_small | too_risky
        if not new_holds.any():
            break
        trial_lower, trial_upper = _hold(lower, upper, current, new_holds)
        trial = _solve_capped(params, trial_lower, trial_upper, caps, total, current)
        if feasible and not trial[2]:
            break  # holding these would make the total unreachable: keep the moves
        held |= new_holds
        lower, upper = trial_lower, trial_upper
        budgets, level, feasible = trial
    budgets = np.where(held, current, budgets)
    p_loss = np.where(held, np.nan, p_loss)
    return Allocation(budgets=budgets, total=total, feasible=feasible, marginal_level=level, held=held, p_loss=p_loss)


def _hold(lower, upper, current, mask):
    return np.where(mask, current, lower), np.where(mask, current, upper)


def _curve_arrays(curves: Sequence[FittedCurve | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.array([0.0 if f is None else f.ceiling for f in curves])
    k = np.array([1.0 if f is None else f.half_saturation for f in curves])
    n = np.array([1.0 if f is None else f.shape for f in curves])
    return c, k, n


# --- the solver ---------------------------------------------------------------------


def _solve_capped(params, lower, upper, caps, total, current) -> tuple[np.ndarray, float, bool]:
    """`_solve` with each campaign's useful range ending at its spend cap; see the module's docstring."""
    reach = np.clip(caps, lower, upper)
    if not np.isfinite(caps).any() or total <= reach.sum():
        return _solve(*params, lower, reach, total)
    budgets, level, _ = _solve(*params, lower, reach, reach.sum())
    # What nobody can spend: first back to the capped campaigns (up to today's budget), then wherever room is.
    left = total - budgets.sum()
    for room in (
        np.where(np.isfinite(caps), np.clip(np.minimum(current, upper) - budgets, 0, None), 0.0),
        upper - budgets,
    ):
        if left <= 1e-9 or room.sum() <= 1e-12:
            continue
        given = room * min(1.0, left / room.sum())
        budgets, left = budgets + given, left - given.sum()
    return budgets, level, bool(left <= 1e-6 * max(total, 1.0))


def _solve(c, k, n, lower, upper, total) -> tuple[np.ndarray, float, bool]:
    if total <= lower.sum():
        return lower.copy(), np.inf, bool(np.isclose(total, lower.sum()))
    if total >= upper.sum():
        return upper.copy(), 0.0, bool(np.isclose(total, upper.sum()))
    inflection = np.where(n > 1, k * ((np.maximum(n, 1) - 1) / (n + 1)) ** (1 / n), 0.0)
    start = np.clip(inflection, lower, upper)  # where each curve's concave part begins, inside the bounds

    top = float(np.nanmax(np.where(upper > lower, hill_marginal(np.maximum(start, 1e-9 * upper), c, k, n), 0)))
    if not np.isfinite(top) or top <= 0:
        top = 1e12
    low_level, high_level = 1e-15 * top, 2.0 * top
    for _ in range(OUTER_STEPS):
        level = np.sqrt(low_level * high_level)  # the multiplier spans orders of magnitude: bisect its log
        if _demand(level, c, k, n, lower, upper, start).sum() > total:
            low_level = level
        else:
            high_level = level
    budgets = _demand(high_level, c, k, n, lower, upper, start)
    budgets = _greedy_fill(budgets, total - budgets.sum(), c, k, n, upper)
    return budgets, float(high_level), True


def _demand(level, c, k, n, lower, upper, start) -> np.ndarray:
    """Each campaign's best budget when a unit of budget is worth `level` elsewhere."""
    concave = _inverse_marginal(level, c, k, n, start, upper)
    # Below the inflection the curve is convex: the best point there is an end, and
    # the upper end (the inflection) is the start of the concave search already.
    net_concave = hill_value(concave, c, k, n) - level * concave
    net_lower = hill_value(lower, c, k, n) - level * lower
    return np.where((start > lower) & (net_lower >= net_concave), lower, concave)


def _inverse_marginal(level, c, k, n, lo, hi) -> np.ndarray:
    """Spend in [lo, hi] where the (there decreasing) marginal equals `level`, clipped to the ends."""
    floor = np.maximum(hi * 1e-9, 1e-12)
    log_lo, log_hi = np.log(np.maximum(lo, floor)), np.log(np.maximum(hi, floor))
    a, b = log_lo.copy(), log_hi.copy()
    for _ in range(INNER_STEPS):
        mid = (a + b) / 2
        above = hill_marginal(np.exp(mid), c, k, n) > level
        a, b = np.where(above, mid, a), np.where(above, b, mid)
    inner = np.exp((a + b) / 2)
    at_lo = hill_marginal(np.maximum(lo, floor), c, k, n) <= level
    at_hi = hill_marginal(hi, c, k, n) >= level
    return np.where(hi <= lo, lo, np.where(at_lo, lo, np.where(at_hi, hi, inner)))


def _greedy_fill(budgets, remainder, c, k, n, upper) -> np.ndarray:
    """Place what the bisection left over in small steps, each where it earns most."""
    budgets = budgets.copy()
    step = remainder / GREEDY_STEPS
    for _ in range(4 * GREEDY_STEPS):
        if remainder <= 1e-9 * max(1.0, abs(budgets.sum())):
            break
        room = upper - budgets
        size = np.minimum(min(step, remainder), room)
        gain = np.where(room > 1e-12, hill_value(budgets + size, c, k, n) - hill_value(budgets, c, k, n), -np.inf)
        best = int(np.argmax(gain))
        # Equal gains (flat or zero curves): spread by room so no campaign is singled out.
        if not np.isfinite(gain[best]) or gain[best] <= 0:
            share = room / room.sum()
            return budgets + remainder * share
        budgets[best] += size[best]
        remainder -= size[best]
    return budgets


# --- risk of a move -------------------------------------------------------------------


def _move_p_loss(fits: list[CurveFit | None], current, budgets, opportunity_rate: float) -> np.ndarray:
    """Per campaign, the share of parameter draws in which its move loses value against its opportunity cost.

    A budget increase is funded by the cuts: it loses if it earns less per
    unit than the cut campaigns did with that money (in the same draw). A cut
    loses if the value it gives up exceeds what the money earns in the
    increased campaigns. Without counterparts (new money, no cuts) the rate
    is `opportunity_rate` (0: any value is a gain).
    """
    out = np.full(len(current), np.nan)
    delta = budgets - current
    moved = [i for i, f in enumerate(fits) if f is not None and abs(delta[i]) > 1e-9]
    if not moved:
        return out
    impact = {i: fits[i].impact_draws(current[i], budgets[i]) for i in moved}
    ups = [i for i in moved if delta[i] > 0]
    downs = [i for i in moved if delta[i] < 0]
    rate_of_cuts = _rate(impact, delta, downs, opportunity_rate)
    rate_of_increases = _rate(impact, delta, ups, opportunity_rate)
    for i in ups:
        out[i] = float(np.mean(impact[i] < rate_of_cuts * delta[i]))
    for i in downs:
        out[i] = float(np.mean(-impact[i] > rate_of_increases * -delta[i]))
    return out


def _rate(impact: dict, delta: np.ndarray, members: list[int], fallback: float):
    if not members:
        return fallback
    value = np.abs(np.sum([impact[i] for i in members], axis=0))
    return value / np.abs(delta[members]).sum()
