"""How much of its budget a campaign spends, and whether demand or the budget is what holds it back.

The curves read spend → outcome and the allocator moves budgets, which only
works if a higher budget means higher spend. A search campaign that runs out of
queries spends the same whatever its budget: it is *demand-limited*, a raise
would not be spent and a cut down to what it spends costs nothing. One that
hits its budget most days is *budget-limited*: money given to it is spent.

`measure` reads one campaign's days (spend and the budget in force that day,
NaN = missing) and, where the platform reports it, the share of impressions
lost to budget (Google Ads' *Search lost IS (budget)*) or its "Limited by
budget" status. Pure numpy, no database.

The ceiling (the spend/day the campaign can reach) is read from the days it did
*not* hit its budget: on those days it spent what demand allowed. A day at the
budget only says demand was at least that budget, so the days form
right-censored data and the distribution of daily demand is the Kaplan–Meier
estimate over them. That keeps the estimate honest when the budget moved during
the window (capped on the weeks it was low, free on the weeks it was high), and
it answers the question that matters for a raise: at *today's* budget, on what
share of days would demand reach it? Rarely (≤ 10%): demand-limited, with a
ceiling (median daily demand) and an interval (its 10th–90th percentiles).
Mostly (≥ 50%), or the platform says budget held it back: budget-limited, no
ceiling known. In between, or too little data: unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Utilization", "measure"]

# A day counts as "at budget" when spend reaches 98% of that day's budget:
# platforms stop serving a little short of the cap (the last auction would
# overshoot it) and report spend rounded, so requiring 100% would miss most
# capped days, while 2% is well inside the day-to-day noise of a demand-limited
# campaign's spend, which sits far below its budget.
AT_BUDGET = 0.98
# Fewer days than this say nothing about a campaign's pattern.
MIN_DAYS = 14
# Demand-limited: demand would reach today's budget on at most this share of
# days, so the ceiling's 90th percentile lies below the budget.
DEMAND_MAX_SHARE_AT_BUDGET = 0.10
# Budget-limited: demand would reach today's budget on at least this share of days.
BUDGET_MIN_SHARE_AT_BUDGET = 0.50
# Days below the budget needed to read a demand level from at all.
MIN_FREE_DAYS = 10
# Google reports lost IS (budget) in whole percent; anything above 1% on average
# means the budget stopped ads from showing, whatever the spend says.
LOST_IS_BUDGET_MIN = 0.01
# The ceiling's interval: the 10th to 90th percentile of the spend demand allowed.
INTERVAL_QUANTILES = (0.10, 0.90)


@dataclass(frozen=True)
class Utilization:
    """One campaign's budget use over a window; money figures per day."""

    days: int  # days with both spend and a budget
    window_days: int  # days given (with or without data)
    share_spent: float  # total spend / total budget over `days` (nan when no days)
    days_at_budget: int  # days spend reached AT_BUDGET of that day's budget
    mean_spend: float
    mean_budget: float
    ceiling: float | None  # median spend/day demand allows; None unless demand-limited
    ceiling_low: float | None  # its 10th percentile
    ceiling_high: float | None  # its 90th percentile: the most budget worth keeping
    limited_by: str  # "demand" | "budget" | "unknown"
    lost_is_budget: float | None = None  # mean share of impressions lost to budget, None when not reported
    share_days_reaching: float | None = None  # estimated share of days demand reaches today's budget

    @property
    def is_demand_limited(self) -> bool:
        return self.limited_by == "demand"

    @property
    def is_budget_limited(self) -> bool:
        return self.limited_by == "budget"

    @property
    def spend_cap(self) -> float:
        """The budget beyond which more buys nothing: the ceiling's upper bound, inf when unknown.

        The upper bound, not the median, so a cut down to it leaves room for the
        campaign's better days (it spent more than this on only 1 day in 10).
        """
        return float("inf") if self.ceiling_high is None else self.ceiling_high

    def effective_spend(self, budget):
        """Spend/day a budget buys: min(budget, ceiling) when the ceiling is known, else the budget."""
        b = np.asarray(budget, dtype=float)
        out = b if self.ceiling is None else np.minimum(b, self.ceiling)
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict:
        """JSON-ready figures and the sentence, for a proposal's evidence."""
        return {
            "limited_by": self.limited_by,
            "days": self.days,
            "window_days": self.window_days,
            "share_spent": None if not np.isfinite(self.share_spent) else round(self.share_spent, 4),
            "days_at_budget": self.days_at_budget,
            "mean_spend": round(self.mean_spend, 2),
            "mean_budget": round(self.mean_budget, 2),
            "ceiling": _rounded(self.ceiling),
            "ceiling_low": _rounded(self.ceiling_low),
            "ceiling_high": _rounded(self.ceiling_high),
            "lost_is_budget": None if self.lost_is_budget is None else round(self.lost_is_budget, 4),
            "sentence": self.sentence(),
        }

    def sentence(self) -> str:
        """E.g. 'spent 79% of its budget on 90 of 90 days: demand-limited, a raise would not be spent'."""
        if self.days < MIN_DAYS or not np.isfinite(self.share_spent):
            return f"only {self.days} of {self.window_days} days with spend and budget: too few to tell what limits it"
        head = f"spent {self.share_spent:.0%} of its budget on {self.days} of {self.window_days} days"
        reached = "none" if self.days_at_budget == 0 else f"{self.days_at_budget}"
        if self.limited_by == "demand":
            if self.days_at_budget:
                head += f", reaching it on {reached}"
            return f"{head}: demand-limited, a raise would not be spent"
        if self.lost_is_budget is not None and self.lost_is_budget > LOST_IS_BUDGET_MIN:
            head += f", losing {self.lost_is_budget:.0%} of impressions to budget"
        else:
            head += f", reaching it on {reached}"
        if self.limited_by == "budget":
            return f"{head}: budget-limited, a raise would be spent"
        if self.mean_spend <= 0:
            return f"{head}: it spent nothing, so what limits it is unknown"
        return f"{head}: not clearly limited by demand or by budget"


def measure(
    spend: np.ndarray,
    budget: np.ndarray,
    *,
    lost_is_budget: np.ndarray | None = None,
    limited_by_budget: np.ndarray | None = None,
    current_budget: float | None = None,
) -> Utilization:
    """Utilization of one campaign from its daily spend and daily budget (NaN = missing).

    `lost_is_budget` (0–1 share of impressions lost to budget, NaN where not
    reported) and `limited_by_budget` (1/0 platform status, NaN unknown) are
    the platform's own word: when either says the budget held the campaign
    back, it is budget-limited even if its spend sits below the budget.
    `current_budget` is today's budget (default: the last measured day's).
    """
    spend = np.asarray(spend, dtype=float)
    budget = np.asarray(budget, dtype=float)
    if spend.shape != budget.shape:
        raise ValueError(f"spend and budget differ in length: {spend.shape} vs {budget.shape}")
    window_days = int(spend.size)
    ok = np.isfinite(spend) & np.isfinite(budget) & (budget > 0)
    s, b = np.maximum(spend[ok], 0.0), budget[ok]
    days = int(ok.sum())
    at_budget = s >= AT_BUDGET * b
    days_at = int(at_budget.sum())
    lost_daily = _reported(lost_is_budget, ok, spend.shape)
    flagged_daily = _reported(limited_by_budget, ok, spend.shape)
    lost = _mean(lost_daily)
    share = float(s.sum() / b.sum()) if days else float("nan")
    today = float(b[-1]) if current_budget is None and days else float(current_budget or 0.0)
    # The platform's word on a day: the budget cost impressions. Such a day is censored like a day at budget
    # (demand was above what it spent), whatever the spend. Days on a lower budget than today's say nothing
    # about today's, so the platform's verdict is read on the days run at today's budget or more: the budget
    # binds if it cost impressions on most of them. Unlike spend, it is not blurred by the platforms' day-to-day
    # under-delivery, so it decides where it is reported.
    held_back = (lost_daily > LOST_IS_BUDGET_MIN) | (flagged_daily >= 0.5)
    reported = np.isfinite(lost_daily) | np.isfinite(flagged_daily)
    at_today = (b >= AT_BUDGET * today) & reported
    platform = float(held_back[at_today].mean()) if at_today.sum() >= MIN_FREE_DAYS else None

    demand = _Demand(s, censored=at_budget | held_back)
    reaching = demand.share_reaching(AT_BUDGET * today) if today > 0 else None
    free_days = int((~(at_budget | held_back)).sum())
    if days < MIN_DAYS or s.sum() <= 0:
        # Too little data, or no spend at all (paused, disapproved): not demand.
        limited_by = "budget" if days >= MIN_DAYS and platform is not None and platform >= 0.5 else "unknown"
    elif platform is not None:
        limited_by = (
            "budget"
            if platform >= BUDGET_MIN_SHARE_AT_BUDGET
            else "demand"
            if free_days >= MIN_FREE_DAYS
            else "unknown"
        )
    elif reaching is not None and reaching >= BUDGET_MIN_SHARE_AT_BUDGET:
        limited_by = "budget"
    elif free_days >= MIN_FREE_DAYS and reaching is not None and reaching <= DEMAND_MAX_SHARE_AT_BUDGET:
        limited_by = "demand"
    else:
        limited_by = "unknown"

    ceiling = low = high = None
    if limited_by == "demand":
        q_low, q_high = INTERVAL_QUANTILES
        low, ceiling, high = demand.quantile(q_low), demand.quantile(0.5), demand.quantile(q_high)
        # Demand above today's budget on more than 1 day in 10 (the platform said so) hides the 90th
        # percentile: keep today's budget as the most worth keeping (no raise, no reclaim).
        high = today if high is None else high
        low = ceiling if low is None else low
    if limited_by == "demand" and ceiling is None:  # censored past the median: no level to read
        limited_by, low, high = "unknown", None, None
    return Utilization(
        days=days,
        window_days=window_days,
        share_spent=share,
        days_at_budget=days_at,
        mean_spend=float(s.mean()) if days else 0.0,
        mean_budget=float(b.mean()) if days else 0.0,
        ceiling=ceiling,
        ceiling_low=low,
        ceiling_high=high,
        limited_by=limited_by,
        lost_is_budget=lost,
        share_days_reaching=reaching,
    )


class _Demand:
    """Kaplan–Meier estimate of daily demand from spend, right-censored on the days at budget."""

    def __init__(self, spend: np.ndarray, *, censored: np.ndarray):
        # Ties: an uncensored day sorts before a censored one at the same value (the usual convention).
        order = np.lexsort((censored, spend))
        self.values = spend[order]
        self.free = ~censored[order]
        at_risk = len(spend) - np.arange(len(spend))
        # S(t) after each sorted day: a free day is a demand observation, a censored one only leaves the risk set.
        self.survival = np.cumprod(np.where(self.free, 1.0 - 1.0 / np.maximum(at_risk, 1), 1.0))

    def share_reaching(self, level: float) -> float | None:
        """P(demand ≥ level): the survival just below `level`; None when no day says anything."""
        if not len(self.values):
            return None
        below = int(np.searchsorted(self.values, level, side="left"))
        return 1.0 if below == 0 else float(self.survival[below - 1])

    def quantile(self, q: float) -> float | None:
        """Smallest observed demand with P(demand ≤ it) ≥ q, None when censoring hides it."""
        reached = np.flatnonzero(self.free & (self.survival <= 1.0 - q + 1e-12))
        return float(self.values[reached[0]]) if reached.size else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _reported(values, ok: np.ndarray, shape) -> np.ndarray:
    """A per-day platform figure over the measured days, NaN where not reported."""
    if values is None:
        return np.full(int(ok.sum()), np.nan)
    v = np.asarray(values, dtype=float)
    if v.shape != shape:
        raise ValueError(f"platform figures differ in length from spend: {v.shape} vs {shape}")
    return v[ok]


def _mean(values: np.ndarray) -> float | None:
    """Mean over the days a figure was reported; None if never."""
    v = values[np.isfinite(values)]
    return float(v.mean()) if v.size else None
