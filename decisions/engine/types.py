"""Dataclasses shared by the engine's pure math: fitted curves, budget bounds, anomalies.

Nothing here touches the database; every array is per campaign (or per draw)
and every money figure is per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def hill_value(spend, ceiling, half_saturation, shape):
    """value/day = ceiling * s^shape / (s^shape + k^shape), broadcasting over all arguments."""
    s = np.maximum(np.asarray(spend, dtype=float), 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        r = (s / half_saturation) ** shape
        out = ceiling * r / (1.0 + r)
    # r overflows to inf far past saturation; the limit there is the ceiling.
    return np.where(np.isinf(r), ceiling * np.ones_like(out), out)


def hill_marginal(spend, ceiling, half_saturation, shape):
    """d value / d spend; at zero spend the limit (c/k for shape 1, 0 above, inf below)."""
    s = np.maximum(np.asarray(spend, dtype=float), 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        r = (s / half_saturation) ** shape
        slope = ceiling * shape * r / (s * (1.0 + r) ** 2)
        at_zero = np.where(shape == 1, ceiling / half_saturation, np.where(shape > 1, 0.0, np.inf))
    slope = np.where(np.isinf(r), 0.0, slope)
    return np.where(s > 0, slope, at_zero)


@dataclass(frozen=True)
class FittedCurve:
    """One campaign's estimated response: objective value/day as a Hill function of steady spend/day.

    `adstock` is the geometric carryover rate used in the fit (0 = none). The
    carryover is normalised, so at a steady spend s the adstocked spend is s
    and `value(s)` is the long-run value of keeping the budget at s.
    """

    ceiling: float
    half_saturation: float
    shape: float
    adstock: float
    n_days: int
    spend_min: float
    spend_max: float
    residual_sd: float
    spend_mean: float = 0.0
    value_mean: float = 0.0
    autocorrelation: float = 0.0

    @property
    def is_concave(self) -> bool:
        return self.shape <= 1.0

    @property
    def inflection(self) -> float:
        """Spend where the marginal return peaks (0 for concave curves)."""
        n = self.shape
        return 0.0 if n <= 1 else self.half_saturation * ((n - 1) / (n + 1)) ** (1 / n)

    def value(self, spend):
        return hill_value(spend, self.ceiling, self.half_saturation, self.shape)

    def marginal(self, spend):
        return hill_marginal(spend, self.ceiling, self.half_saturation, self.shape)


@dataclass(frozen=True)
class CurveFit:
    """A fitted curve plus draws of its parameters, columns (ceiling, half_saturation, shape)."""

    curve: FittedCurve
    draws: np.ndarray = field(repr=False)

    def value_draws(self, spend) -> np.ndarray:
        """(n_draws,) values at one spend, or (n_draws, len(spend)) for an array of spends."""
        s = np.asarray(spend, dtype=float)
        c, k, n = (self.draws[:, j].reshape((-1,) + (1,) * s.ndim) for j in range(3))
        return hill_value(s, c, k, n)

    def marginal_draws(self, spend) -> np.ndarray:
        s = np.asarray(spend, dtype=float)
        c, k, n = (self.draws[:, j].reshape((-1,) + (1,) * s.ndim) for j in range(3))
        return hill_marginal(s, c, k, n)

    def impact_draws(self, from_spend: float, to_spend: float) -> np.ndarray:
        """Change in value/day from moving the budget, one number per parameter draw."""
        return self.value_draws(to_spend) - self.value_draws(from_spend)

    def value_interval(self, spend, level: float = 0.8) -> tuple:
        return _interval(self.value_draws(spend), level)

    def marginal_interval(self, spend, level: float = 0.8) -> tuple:
        return _interval(self.marginal_draws(spend), level)

    def impact_interval(self, from_spend: float, to_spend: float, level: float = 0.8) -> tuple[float, float]:
        return _interval(self.impact_draws(from_spend, to_spend), level)


def _interval(draws: np.ndarray, level: float) -> tuple:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    return low, high


@dataclass(frozen=True)
class Bounds:
    """Per-campaign daily budget limits; lower <= upper always holds."""

    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Allocation:
    """What the allocator decided and why, per campaign."""

    budgets: np.ndarray
    total: float
    feasible: bool  # False: the bounds cannot hold the total, budgets sit at the nearest bound
    marginal_level: float  # the equalised marginal return (the shadow price of one more unit of budget)
    held: np.ndarray  # True where a campaign was kept at its current budget (move too small or too risky)
    p_loss: np.ndarray  # probability each move loses value against its opportunity cost (nan: no draws)


@dataclass(frozen=True)
class Anomaly:
    index: int
    kind: str  # "no_outcome" | "cost_spike"
    days: int
    p_value: float
    message: str
    action: str = "pause"  # what the proposal should do: "pause" or "cut"
    expected: float = 0.0  # outcomes the campaign's own history predicts for those days
    observed: float = 0.0
