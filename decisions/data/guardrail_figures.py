"""The figures guardrails read from campaigns' days, summed once per change of data instead of once per decision.

A decision re-checks its guardrails against today's data. Two of them read the days: `min_evidence` (days with
spend and conversions over the last 90 days) and `monthly_budget` (this month's spend of a whole scope, every
campaign in it). Summing those rows took most of an approval's time (a month of a thousand campaigns' days is
30,000 rows), though they only change when an import writes new days. So each process keeps one snapshot of
every campaign's figures and sums again when:

- the day changes, or a new import run or a new day row appears (`stamp`: one query, two index lookups);
- this process wrote days itself (`forget`, called by the importers and the demo);
- WAYPOINT_GUARDRAIL_FIGURES_SECONDS have passed (60 by default): the bound on how stale a snapshot can be when
  another process only updates existing rows without an import run (a command-line re-import). 0 turns the
  snapshot off (the test settings do: their days change under the same ids).

Budgets, statuses and last changes are never kept here: they are read live with each decision.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum

from decisions.data import delivery
from decisions.models import DailyMetric, ImportRun

# How far back the min_evidence guardrail looks for days and conversions.
EVIDENCE_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Evidence:
    days: int  # days with spend
    leads: float | None
    platform_conversions: float | None

    @property
    def conversions(self) -> float:
        """Leads where the campaign reports them, else the platform's count."""
        return float((self.leads if self.leads is not None else self.platform_conversions) or 0)


NO_EVIDENCE = Evidence(0, None, None)


@dataclass(frozen=True)
class Snapshot:
    evidence: dict[int, Evidence]  # by campaign pk
    month: dict[int, delivery.MonthToDate]  # by campaign pk; a campaign without days this month is absent


def snapshot(*, today: dt.date) -> Snapshot:
    """Every campaign's evidence and month so far, as of `today`: from this process's copy while it is current."""
    seconds = float(getattr(settings, "WAYPOINT_GUARDRAIL_FIGURES_SECONDS", 60))
    if seconds <= 0:
        return _summed(today)
    key = (today, stamp())
    kept = _kept.get(connection.alias)
    if kept is not None and kept[0] == key and time.monotonic() < kept[1]:
        return kept[2]
    fresh = _summed(today)
    _kept[connection.alias] = (key, time.monotonic() + seconds, fresh)
    return fresh


def forget() -> None:
    """Drop this process's snapshot: call after writing days, so the next decision sums them again."""
    _kept.clear()


def stamp() -> tuple:
    """What changes when days are added: the newest day row and the newest import run (one query)."""
    metric, run = DailyMetric._meta.db_table, ImportRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT MAX(id) FROM {metric}), (SELECT MAX(id) FROM {run})")  # noqa: S608
        return tuple(cursor.fetchone())


_kept: dict[str, tuple] = {}  # database alias → (key, monotonic deadline, Snapshot)


def _summed(today: dt.date) -> Snapshot:
    return Snapshot(evidence=_evidence(today), month=delivery.month_to_date(today=today))


def _evidence(today: dt.date) -> dict[int, Evidence]:
    since = today - dt.timedelta(days=EVIDENCE_WINDOW_DAYS)
    totals = (
        DailyMetric.objects.filter(date__gt=since, date__lte=today)
        .values("campaign_id")
        .annotate(days=Count("id", filter=Q(spend__gt=0)), leads=Sum("leads"), platform=Sum("platform_conversions"))
        .order_by()
    )
    return {t["campaign_id"]: Evidence(t["days"], t["leads"], t["platform"]) for t in totals}
