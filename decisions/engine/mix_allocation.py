"""Budget-neutral moves between channels from the mix model's curves.

Each channel's spend per period may move at most `max_change_pct` from today's
(the guardrails' change cap). Inside those bounds the allocator equalises the
channels' marginal returns on the posterior-mean curve (the expected value over
the draws, which already prices in the uncertainty of each curve's shape): it
starts every channel at its lower bound and hands out the rest of the budget in
small increments, the highest marginal return first. The curves are concave
(Hill shape 1, averaged over draws), so this greedy order is the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decisions.engine.mix import Interval

STEPS = 200


@dataclass(frozen=True)
class ChannelPlan:
    current: np.ndarray  # spend per period, per channel
    proposed: np.ndarray
    gain: Interval  # outcome per period, proposed − current
    p_loss: float
    gain_draws: np.ndarray

    @property
    def moved(self) -> float:
        return float(np.abs(self.proposed - self.current).sum() / 2.0)


def allocate(value_fn, current: np.ndarray, *, max_change_pct: float = 30.0, lower=None, upper=None) -> np.ndarray:
    """Spend per channel, same total as `current`, maximising Σ value_fn(c, spend) inside the bounds.

    value_fn(c, spends) → outcome per period at each spend (1-D). Optional `lower`/`upper` (per channel) narrow
    the change-cap bounds further (budget bounds, protected channels that may not be cut).
    """
    current = np.asarray(current, dtype=float)
    cap = max_change_pct / 100.0
    lo = current * (1 - cap) if lower is None else np.maximum(current * (1 - cap), lower)
    hi = current * (1 + cap) if upper is None else np.minimum(current * (1 + cap), upper)
    lo, hi = np.minimum(lo, current), np.maximum(hi, current)
    budget = current.sum() - lo.sum()
    sizes, gains, owners = [], [], []
    for c in range(len(current)):
        grid = np.linspace(lo[c], hi[c], STEPS + 1)
        values = value_fn(c, grid)
        step = np.diff(grid)
        sizes.append(step)
        gains.append(np.diff(values) / np.where(step > 0, step, 1.0))
        owners.append(np.full(STEPS, c))
    sizes, gains, owners = np.concatenate(sizes), np.concatenate(gains), np.concatenate(owners)
    order = np.argsort(-gains, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(sizes[order])[:-1]])
    taken = np.clip(budget - before, 0.0, sizes[order])
    proposed = lo.copy()
    np.add.at(proposed, owners[order], taken)
    return proposed


def plan_shifts(channels, current=None, *, max_change_pct: float = 30.0, lower=None, upper=None) -> ChannelPlan:
    """Moves for the mix model's channels (ChannelResult list), read at each one's recent spend per period."""
    current = np.array([c.current_spend for c in channels]) if current is None else np.asarray(current, float)

    def expected(c, spends):
        return channels[c].draws.value(spends).mean(axis=0)

    proposed = allocate(expected, current, max_change_pct=max_change_pct, lower=lower, upper=upper)
    gain_draws = sum(
        ch.draws.value(np.array([proposed[c]]))[:, 0] - ch.draws.value(np.array([current[c]]))[:, 0]
        for c, ch in enumerate(channels)
    )
    return ChannelPlan(
        current=current,
        proposed=proposed,
        gain=Interval.of(gain_draws),
        p_loss=float(np.mean(gain_draws < 0)),
        gain_draws=gain_draws,
    )
