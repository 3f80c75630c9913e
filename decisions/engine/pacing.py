"""Monthly pacing: a monthly budget's course (month-to-date spend against the pro-rated target, the projected
month-end spend) and the daily budget that lands the month on its amount. Pure: dates and numbers in.

Pace is the month-to-date spend over the pro-rated target (the amount × days gone / days in the month), the
figure pacing reports use; the projection adds, for each day left, the scope's daily budget times the share of
it the campaigns actually spend. A scope is *off pace* when either leaves the band (90–110% by default): a
pace far off with an on-target projection is a scope whose budget was already corrected, so both must agree it
is fine.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from objectives.guardrails.pacing import days_left, month_bounds

# Fewer days left than this and a correction changes little of the month (and cuts an overspent scope to
# nothing): the Pacing page still says the scope is off pace, but the engine proposes nothing.
CORRECTABLE_DAYS = 3

__all__ = ["Band", "Course", "Member", "corrections", "course", "landing_budgets", "month_bounds", "unneeded_chance"]


@dataclass(frozen=True)
class Band:
    low: float = 0.90
    high: float = 1.10

    def holds(self, ratio: float | None) -> bool:
        return ratio is None or self.low <= ratio <= self.high

    def __str__(self) -> str:
        return f"{self.low:.0%}–{self.high:.0%}"


@dataclass(frozen=True)
class Course:
    """One monthly budget's month so far; money per month unless named per day."""

    amount: float
    first: dt.date
    last: dt.date
    through: dt.date | None  # the last day with spend data this month
    spent: float  # month to date
    daily_budget: float  # the scope's daily budgets today (paused campaigns: 0)
    spend_share: float  # the share of its daily budget the scope spends
    cumulative: tuple[tuple[dt.date, float], ...] = ()  # (day, spend to date) for the chart

    @property
    def days_in_month(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def days_gone(self) -> int:
        return (self.through - self.first).days + 1 if self.through else 0

    @property
    def days_left(self) -> int:
        return days_left(self.first, self.through)

    @property
    def daily_sd(self) -> float:
        """How much the scope's spend varies from day to day this month (0 with fewer than two days)."""
        spends = [b - a for (_, a), (_, b) in zip(((None, 0.0), *self.cumulative), self.cumulative, strict=False)]
        if len(spends) < 2:
            return 0.0
        mean = sum(spends) / len(spends)
        return math.sqrt(sum((x - mean) ** 2 for x in spends) / (len(spends) - 1))

    @property
    def target_to_date(self) -> float:
        return self.amount * self.days_gone / self.days_in_month

    @property
    def pace(self) -> float | None:
        """Month-to-date spend / pro-rated target; None before the month has a day of data."""
        return self.spent / self.target_to_date if self.target_to_date > 0 else None

    @property
    def projected(self) -> float:
        return self.spent + self.daily_budget * self.spend_share * self.days_left

    @property
    def projected_share(self) -> float | None:
        return self.projected / self.amount if self.amount > 0 else None

    def off_pace(self, band: Band) -> bool:
        """Outside the band by the pace or the projection, with days left to correct it."""
        if self.days_left <= 0 or self.days_gone == 0:
            return False
        return not (band.holds(self.pace) and band.holds(self.projected_share))

    def needs_correction(self, band: Band) -> bool:
        """Off pace with enough of the month left for a correction to matter."""
        return self.off_pace(band) and self.days_left >= CORRECTABLE_DAYS

    def landing_daily_budget(self) -> float | None:
        """The scope's total daily budget that ends the month on the amount; None when no day is left."""
        if self.days_left <= 0 or self.spend_share <= 0:
            return None
        return max(self.amount - self.spent, 0.0) / self.days_left / self.spend_share

    def target_line(self) -> list[tuple[dt.date, float]]:
        """The pro-rated target, day by day, for the chart."""
        return [
            (self.first + dt.timedelta(days=i), self.amount * (i + 1) / self.days_in_month)
            for i in range(self.days_in_month)
        ]

    def projection_line(self) -> list[tuple[dt.date, float]]:
        """From the last day with data to month end at today's budgets."""
        start = self.through or self.first - dt.timedelta(days=1)
        per_day = self.daily_budget * self.spend_share
        return [(start + dt.timedelta(days=i), self.spent + per_day * i) for i in range(self.days_left + 1)]


def course(
    *,
    amount: float,
    today: dt.date,
    daily_spend: Mapping[dt.date, float],
    daily_budget: float,
    spend_share: float,
) -> Course:
    """The course of a monthly budget in today's month from the scope's spend per day (days of other months
    are ignored)."""
    first, last = month_bounds(today)
    days = sorted(day for day in daily_spend if first <= day <= min(last, today))
    running, cumulative = 0.0, []
    for day in days:
        running += daily_spend[day]
        cumulative.append((day, running))
    return Course(
        amount=amount,
        first=first,
        last=last,
        through=days[-1] if days else None,
        spent=running,
        daily_budget=daily_budget,
        spend_share=spend_share,
        cumulative=tuple(cumulative),
    )


def landing_budgets(budgets: Mapping[str, float], total: float) -> dict[str, float]:
    """Each campaign's budget when the scope's total moves to `total`, in proportion to today's budgets
    (a scope of one campaign gets the total)."""
    current = sum(budgets.values())
    if current <= 0:
        return {key: total / len(budgets) for key in budgets} if budgets else {}
    return {key: round(value * total / current, 2) for key, value in budgets.items()}


@dataclass(frozen=True)
class Member:
    """A campaign of a monthly budget's scope, as the correction sees it."""

    key: str
    budget: float
    spend_share: float  # of its budget it spends
    may_raise: bool = True  # False when demand, not the budget, limits it: a raise would not be spent
    low: float = 0.0  # the lowest and highest budget the block-level guardrails allow
    high: float = float("inf")


def corrections(course: Course, members: list[Member], *, others_per_day: float = 0.0) -> dict[str, float]:
    """New daily budgets that bring the scope's projected month-end spend to the amount.

    An overspending scope is cut in proportion to what each campaign spends; an underspending one is raised
    only where a raise would be spent, in proportion to budget. Each budget stays within its guardrail limits,
    so the month may land short of the amount when the limits allow no more (the next run corrects again).
    `others_per_day`: what the scope's campaigns that cannot be moved (held back by a guardrail) spend a day.
    """
    if course.days_left <= 0 or not members:
        return {}
    needed = max(max(course.amount - course.spent, 0.0) / course.days_left - others_per_day, 0.0)
    spending = sum(m.budget * m.spend_share for m in members)
    gap = needed - spending
    if gap < 0:
        factor = needed / spending if spending > 0 else 1.0
        targets = {m.key: m.budget * factor for m in members}
    else:
        open_to_raise = [m for m in members if m.may_raise and m.spend_share > 0]
        weight = sum(m.budget for m in open_to_raise)
        if weight <= 0:
            return {}
        targets = {m.key: m.budget + gap * (m.budget / weight) / m.spend_share for m in open_to_raise}
    by_key = {m.key: m for m in members}
    return {key: round(min(max(value, by_key[key].low), by_key[key].high), 2) for key, value in targets.items()}


def projected_with(course: Course, budgets: dict[str, float], members: list[Member], others_per_day: float) -> float:
    """The scope's projected month-end spend once the members' budgets are `budgets` (the others unchanged)."""
    per_day = others_per_day + sum(budgets.get(m.key, m.budget) * m.spend_share for m in members)
    return course.spent + per_day * course.days_left


def unneeded_chance(course: Course, band: Band, daily_sd: float) -> float:
    """The chance the month would have ended inside the band without a correction: what a correction risks
    giving up for nothing (its P(loss)). Days ahead vary like the days so far (independent, `daily_sd`)."""
    if course.amount <= 0:
        return 0.0
    sd = daily_sd * math.sqrt(max(course.days_left, 0))
    low, high = band.low * course.amount, band.high * course.amount
    if sd <= 0:
        return 1.0 if low <= course.projected <= high else 0.0
    return max(_normal_cdf((high - course.projected) / sd) - _normal_cdf((low - course.projected) / sd), 0.0)


def _normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))
