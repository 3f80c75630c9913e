"""Data health: load the imported data in a few queries, run the checks (decisions/engine/data_health.py), store
what they find. Runs after every import (on commit, as a follow-up task) and on demand; the engine, the Data
page, the Runs page and the proposals read the newest stored check.

Other imports call `data_health_check_on_commit(trigger=...)` inside their transaction: the check runs once
the import commits, on a worker (or in process when Celery runs eagerly), and never inside the import's lock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from decisions.engine import data_health as checks
from decisions.engine.data_health import Finding
from decisions.models import (
    Campaign,
    DailyMetric,
    DailyTotal,
    DataHealthCheck,
    Deal,
    Experiment,
    ImportRun,
    Transaction,
    Workflow,
)
from decisions.queueing import queue_follow_up_on_commit
from objectives import formatting
from objectives import selectors as objective_selectors

# An import that rewrote stored rows is reported for this long after it ran.
CHANGED_HISTORY_DAYS = 14
# The campaign checks read the objective's metric when it is a daily column; otherwise pipeline.
DAILY_OUTCOMES = ("pipeline_value", "closed_revenue", "leads", "platform_conversions", "platform_revenue")


def _metric(metric: str | None = None) -> str:
    if metric is None:
        objective = objective_selectors.active_objective()
        metric = objective.metric if objective else "pipeline_value"
    return metric if metric in DAILY_OUTCOMES else "pipeline_value"


def load_health_data(
    *, today: dt.date | None = None, metric: str | None = None, window_end: dt.date | None = None
) -> checks.HealthData | None:
    """The window's campaign × day matrices, the recent imports that changed rows, the deals' coverage; None
    when nothing is imported yet. Four or five queries, whatever the number of campaigns. The window ends on
    the newest imported day, or on `window_end` (an engine run replaying an earlier window)."""
    metric = metric or _metric()
    end = window_end or _newest_day()
    if end is None:
        return None
    days = int(getattr(settings, "WAYPOINT_WINDOW_DAYS", 90))
    start = end - dt.timedelta(days=days - 1)
    dates = [start + dt.timedelta(days=k) for k in range(days)]
    campaigns = list(
        Campaign.objects.filter(archived_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "external_id", "name", "status")
    )
    row = {pk: i for i, (pk, *_rest) in enumerate(campaigns)}
    shape = (len(campaigns), days)
    spend, clicks, outcome = (np.full(shape, np.nan) for _ in range(3))
    rows = DailyMetric.objects.filter(date__gte=start, date__lte=end, campaign__archived_at__isnull=True).values_list(
        "campaign_id", "date", "spend", "clicks", metric
    )
    for campaign_pk, day, day_spend, day_clicks, value in rows.iterator(chunk_size=5000):
        i, j = row[campaign_pk], (day - start).days
        spend[i, j] = np.nan if day_spend is None else float(day_spend)
        clicks[i, j] = np.nan if day_clicks is None else float(day_clicks)
        outcome[i, j] = np.nan if value is None else float(value)
        if day_spend is None:  # a row with no spend (a CRM-only row) is still a row for the missing-days check
            spend[i, j] = 0.0
    words = formatting.metric_words(metric)
    # A replayed window is judged as of the day after it ends, as it was then.
    today = today or (end + dt.timedelta(days=1) if window_end else timezone.localdate())
    return checks.HealthData(
        campaign_ids=[c[1] for c in campaigns],
        names=[c[2] or c[1] for c in campaigns],
        dates=dates,
        spend=spend,
        outcome=outcome,
        outcome_label=words.short,
        outcome_money=words.is_money,
        outcome_source=metric,
        clicks=clicks,
        active=np.array([c[3] == Campaign.Status.ACTIVE for c in campaigns], dtype=bool),
        today=today,
        imports=_import_changes(today),
        deals=_deal_coverage(),
    )


# The totals the mix reads carry these outcomes; any other objective is checked on pipeline value.
TOTAL_OUTCOMES = ("pipeline_value", "closed_revenue", "leads")


def load_other_files(metric: str) -> checks.OtherFiles:
    """What the other imports hold, for their checks: four small queries."""
    column = metric if metric in TOTAL_OUTCOMES else "pipeline_value"
    totals = list(
        DailyTotal.objects.filter(source="totals").order_by("date").values_list("date", column, "period_days")
    )
    unbalanced = [
        (name, _what_differs(balance))
        for name, balance in Experiment.objects.exclude(balance=None).values_list("name", "balance")
        if balance and not balance.get("passed", True)
    ]
    return checks.OtherFiles(
        totals=[(day, None if value is None else float(value)) for day, value, _ in totals],
        totals_period_days=totals[-1][2] if totals else 1,
        newest_transaction=Transaction.objects.aggregate(newest=Max("date"))["newest"],
        unbalanced_experiments=unbalanced,
        newest_inventory=_day_of(Workflow.objects.aggregate(newest=Max("imported_at"))["newest"]),
    )


def _what_differs(balance: dict) -> str:
    flagged = [a["name"] for a in balance.get("attributes", []) if a.get("flagged")]
    return ", ".join(flagged) or "its attributes"


def _day_of(moment) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def _newest_day() -> dt.date | None:
    return DailyMetric.objects.aggregate(end=Max("date"))["end"]


def _import_changes(today: dt.date) -> list[checks.ImportChange]:
    since = timezone.now() - dt.timedelta(days=CHANGED_HISTORY_DAYS)
    runs = ImportRun.objects.filter(
        status=ImportRun.Status.SUCCEEDED, dry_run=False, rows_changed__gt=0, created_at__gte=since
    ).order_by("-created_at")[:20]
    return [
        checks.ImportChange(
            filename=run.filename,
            imported_on=timezone.localdate(run.created_at),
            rows_changed=run.rows_changed,
            first_changed=run.changed_first,
            last_changed=run.changed_last,
            newest_day=run.newest_day,
        )
        for run in runs
    ]


def _deal_coverage() -> checks.DealCoverage | None:
    if not Deal.objects.exists():
        return None
    # The deals page's own figure (decisions/data/deal_selectors.py): the share of deal value a campaign has.
    from decisions.data.deal_selectors import match_summary

    summary = match_summary()
    return checks.DealCoverage(float(summary.matched.amount), float(summary.total.amount))


def data_health_check(
    *, trigger: str = "on demand", today: dt.date | None = None, metric: str | None = None
) -> DataHealthCheck:
    """Run every check over the imported data and store the findings; the newest stored check is the one in force."""
    metric = _metric(metric)
    data = load_health_data(today=today, metric=metric)
    findings = checks.check_health(data) if data is not None else []
    findings += checks.other_files(load_other_files(metric), today or timezone.localdate())
    return DataHealthCheck.objects.create(
        trigger=trigger[:64],
        window_end=data.dates[-1] if data is not None else None,
        metric=metric,
        findings=[finding.to_dict() for finding in findings],
    )


def data_health_check_on_commit(*, trigger: str) -> None:
    """What every import calls inside its transaction: check the data's health once the import commits."""
    from decisions.data.tasks import check_data_health

    queue_follow_up_on_commit(check_data_health, trigger)


def latest_check() -> DataHealthCheck | None:
    return DataHealthCheck.objects.order_by("-checked_at", "-pk").first()


def latest_findings() -> list[Finding]:
    check = latest_check()
    return [Finding.from_dict(data) for data in check.findings] if check else []


def findings_for_run(run) -> list[Finding]:
    """The findings an engine run obeys: the newest check if it covers the run's window and metric, else a new
    check (say, the first run after the demo was seeded, or after the objective changed)."""
    check = latest_check()
    metric = _metric(run.metric or None)
    if check is not None and check.window_end == run.window_end and check.metric == metric:
        return [Finding.from_dict(data) for data in check.findings]
    if run.window_end is None or run.window_end == _newest_day():
        check = data_health_check(trigger="engine run", metric=metric)
        return [Finding.from_dict(data) for data in check.findings]
    # An earlier window (the demo's replay): judged as it was, and not stored as the data's health today.
    data = load_health_data(metric=metric, window_end=run.window_end)
    return checks.check_health(data) if data is not None else []


def campaign_names(findings: list[Finding]) -> dict[str, str]:
    ids = {f.campaign_id for f in findings if f.campaign_id}
    return dict(Campaign.objects.filter(external_id__in=ids).values_list("external_id", "name"))
