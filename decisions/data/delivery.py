"""Reads about delivery: how much of its budget each campaign spends, what limits it, and how each monthly
budget is pacing. Each read is a fixed number of queries whatever the number of campaigns."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Max, Q, Sum

from decisions.engine import pacing
from decisions.engine.utilization import Utilization, measure
from decisions.models import Campaign, DailyMetric
from objectives import selectors as objective_selectors
from objectives.guardrails import Rule, in_scope
from objectives.guardrails.base import CampaignFacts

UTILIZATION_DAYS = 90  # the window utilization is measured over, ending on the latest day with data


@dataclass(frozen=True)
class Delivery:
    """One campaign's utilization and, where the platform reports them, its mean impression shares (0–1)."""

    utilization: Utilization
    impression_share: float | None = None
    lost_is_budget: float | None = None
    lost_is_rank: float | None = None

    @property
    def limited_by(self) -> str:
        return self.utilization.limited_by

    def sentence(self) -> str:
        return self.utilization.sentence()


def _latest_day() -> dt.date | None:
    return DailyMetric.objects.filter(spend__isnull=False).aggregate(day=Max("date"))["day"]


def delivery_by_campaign(
    *, campaign_ids: Iterable[int] | None = None, end: dt.date | None = None, days: int = UTILIZATION_DAYS
) -> dict[int, Delivery]:
    """Delivery per campaign pk over the `days` ending `end` (the latest day with spend by default).

    Two queries: the end day, then the window's rows (days × campaigns of them, a few numbers each).
    """
    end = end or _latest_day()
    if end is None:
        return {}
    start = end - dt.timedelta(days=days - 1)
    rows = DailyMetric.objects.filter(date__gte=start, date__lte=end)
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=list(campaign_ids))
    columns = ("spend", "daily_budget", "lost_is_budget", "limited_by_budget", "impression_share", "lost_is_rank")
    series: dict[int, np.ndarray] = {}
    for campaign_id, day, *values in rows.order_by().values_list("campaign_id", "date", *columns).iterator(2000):
        grid = series.get(campaign_id)
        if grid is None:
            grid = series[campaign_id] = np.full((len(columns), days), np.nan)
        grid[:, (day - start).days] = [np.nan if v is None else float(v) for v in values]
    return {campaign_id: _delivery(grid) for campaign_id, grid in series.items()}


def _delivery(grid: np.ndarray) -> Delivery:
    spend, budget, lost_budget, limited, share, lost_rank = grid
    utilization = measure(spend, budget, lost_is_budget=lost_budget, limited_by_budget=limited)
    return Delivery(
        utilization=utilization,
        impression_share=_mean(share),
        lost_is_budget=_mean(lost_budget),
        lost_is_rank=_mean(lost_rank),
    )


def _mean(values: np.ndarray) -> float | None:
    reported = values[np.isfinite(values)]
    return float(reported.mean()) if reported.size else None


def demand_limited_campaigns(deliveries: dict[int, Delivery]) -> list[tuple[Campaign, Delivery]]:
    """The active campaigns demand holds back (a raise would not be spent), least of their budget spent first."""
    ids = [pk for pk, delivery in deliveries.items() if delivery.utilization.is_demand_limited]
    campaigns = Campaign.objects.filter(pk__in=ids, archived_at__isnull=True).order_by("name")
    found = [(campaign, deliveries[campaign.pk]) for campaign in campaigns]
    return sorted(found, key=lambda pair: pair[1].utilization.share_spent)


# --- this month, for monthly budgets ----------------------------------------------------------------------


@dataclass(frozen=True)
class MonthToDate:
    spend: float
    through: dt.date | None
    spend_share: float  # spend / budget over the month's days that have both (1.0 when none has)
    paired_spend: float = 0.0  # the spend and budget of those days, so months of several campaigns add up
    paired_budget: float = 0.0


def month_to_date(*, today: dt.date, campaign_ids: Iterable[int] | None = None) -> dict[int, MonthToDate]:
    """Each campaign's spend this month up to `today`, in one query."""
    first, _ = pacing.month_bounds(today)
    rows = DailyMetric.objects.filter(date__gte=first, date__lte=today)
    if campaign_ids is not None:
        rows = rows.filter(campaign_id__in=list(campaign_ids))
    totals = rows.values("campaign_id").annotate(**MONTH_SUMS).order_by()
    return {row["campaign_id"]: month_of(row) for row in totals}


# A month's rows summed (per campaign, or per group of campaigns): its spend, the last day with spend, and the
# spend and budget of the days that carry both, whose ratio is the share of its budget it spends.
_BOTH = Q(spend__isnull=False, daily_budget__isnull=False, daily_budget__gt=0)
MONTH_SUMS = {
    "month_spend": Sum("spend"),
    "through": Max("date", filter=Q(spend__isnull=False)),
    "paired_spend": Sum("spend", filter=_BOTH),
    "paired_budget": Sum("daily_budget", filter=_BOTH),
}


def month_of(row: dict) -> MonthToDate:
    """A row of MONTH_SUMS as spend this month, through which day, and the share of its budget it spends."""
    paired_spend, paired_budget = float(row["paired_spend"] or 0), float(row["paired_budget"] or 0)
    share = paired_spend / paired_budget if paired_budget > 0 else 1.0
    return MonthToDate(
        spend=float(row["month_spend"] or 0),
        through=row["through"],
        spend_share=share,
        paired_spend=paired_spend,
        paired_budget=paired_budget,
    )


def pacing_band() -> pacing.Band:
    low, high = settings.WAYPOINT_PACING_BAND
    return pacing.Band(low=low, high=high)


@dataclass(frozen=True)
class MonthlyBudgetCourse:
    rule: Rule
    course: pacing.Course
    campaigns: list[CampaignFacts]


def monthly_courses(*, today: dt.date, facts: dict[str, CampaignFacts], rules: list[Rule] | None = None):
    """The course of every active monthly budget this month, from the campaigns' facts (their month figures
    included: see review.selectors.campaign_facts) and one query for the month's spend per day."""
    rules = [r for r in (objective_selectors.active_rules() if rules is None else rules) if r.kind == "monthly_budget"]
    if not rules:
        return []
    first, _ = pacing.month_bounds(today)
    by_day: dict[str, dict[dt.date, float]] = defaultdict(dict)
    rows = DailyMetric.objects.filter(date__gte=first, date__lte=today, spend__isnull=False)
    for external_id, day, spend in rows.order_by().values_list("campaign__external_id", "date", "spend"):
        by_day[external_id][day] = float(spend)
    courses = []
    for rule in rules:
        scoped = [f for f in facts.values() if in_scope(rule.scope, f)]
        spend: dict[dt.date, float] = defaultdict(float)
        for f in scoped:
            for day, value in by_day.get(f.external_id, {}).items():
                spend[day] += value
        active = [f for f in scoped if f.status != "paused"]
        budget = sum(f.daily_budget for f in active)
        share = sum(f.daily_budget * f.spend_share for f in active) / budget if budget > 0 else 1.0
        course = pacing.course(
            amount=float(rule.params["amount"]), today=today, daily_spend=spend, daily_budget=budget, spend_share=share
        )
        courses.append(MonthlyBudgetCourse(rule=rule, course=course, campaigns=scoped))
    return courses
