"""Reads for the pages: each returns a queryset or plain data, never writes."""

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import replace

from django.db import connection
from django.db.models import BooleanField, Case, Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from decisions.data import delivery
from decisions.models import Application, Campaign, DailyMetric, GenerationRun, ImportRun, Proposal
from objectives.guardrails import CampaignFacts, KnownCampaigns

# How far back the min_evidence guardrail looks for days and conversions.
EVIDENCE_WINDOW_DAYS = 90


def pending_proposals() -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(status=Proposal.Status.PENDING).select_related("campaign").order_by("-priority", "id")
    )


# --- the review queue ------------------------------------------------------------

# The queue never counts past this: an exact COUNT(*) over every pending
# proposal costs more than the rest of the page, and nobody pages that far.
QUEUE_COUNT_CAP = 1000
# Columns the queue rows never show; the curves alone are kilobytes per proposal.
QUEUE_DEFERRED = ("evidence", "platform_view", "rationale")


def queue_proposals(*, now: dt.datetime | None = None) -> QuerySet[Proposal]:
    """Pending proposals that can still be decided, best first (served by the (status, -priority) index)."""
    now = now or timezone.now()
    return (
        pending_proposals()
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .defer(*QUEUE_DEFERRED, "campaign__tags")
    )


def capped_count(queryset: QuerySet, cap: int = QUEUE_COUNT_CAP) -> int:
    """How many rows, counting no further than cap + 1 (so the page can say "1,000+")."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def _failing_verdict_sql(severity: str | None) -> RawSQL:
    """True when a stored verdict failed (at a severity): a JSON array search each database can index or scan."""
    if connection.vendor == "postgresql":
        wanted = {"passed": False} if severity is None else {"passed": False, "severity": severity}
        sql, params = "decisions_proposal.guardrail_verdicts @> %s::jsonb", [json.dumps([wanted])]
    else:
        sql = (
            "EXISTS (SELECT 1 FROM json_each(decisions_proposal.guardrail_verdicts) AS v "
            "WHERE json_extract(v.value, '$.passed') = 0"
        )
        params = []
        if severity is not None:
            sql += " AND json_extract(v.value, '$.severity') = %s"
            params.append(severity)
        sql += ")"
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 - constant SQL; values go as params


def filter_by_guardrail_status(queryset: QuerySet[Proposal], status: str) -> QuerySet[Proposal]:
    """pass: every stored verdict passed; warn: a warning fails but nothing blocks; block: a block-level one fails."""
    if status == "pass":
        return queryset.exclude(_failing_verdict_sql(None))
    if status == "warn":
        return queryset.filter(_failing_verdict_sql("warn")).exclude(_failing_verdict_sql("block"))
    if status == "block":
        return queryset.filter(_failing_verdict_sql("block"))
    return queryset


def campaign_names(external_ids: Iterable[str]) -> dict[str, str]:
    """Display names by external id, in one query, for the change descriptions."""
    ids = set(external_ids)
    if not ids:
        return {}
    rows = Campaign.objects.filter(external_id__in=ids).values_list("external_id", "name")
    return {external_id: name or external_id for external_id, name in rows}


def campaign_labels(external_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(display name, channel) by external id, in one query: a row names its campaigns and the channels it spans."""
    ids = set(external_ids)
    if not ids:
        return {}
    rows = Campaign.objects.filter(external_id__in=ids).values_list("external_id", "name", "channel")
    return {external_id: (name or external_id, channel) for external_id, name, channel in rows}


def run_objectives(run_ids: Iterable[int]) -> dict[int, tuple[str, dict]]:
    """(metric, weights) of each run's objective, in one query: what a proposal's numbers are counted in."""
    ids = {pk for pk in run_ids if pk is not None}
    if not ids:
        return {}
    rows = GenerationRun.objects.filter(pk__in=ids).values_list("pk", "metric", "objective__weights")
    return {pk: (metric, weights or {}) for pk, metric, weights in rows}


def campaign_channels() -> list[str]:
    return list(Campaign.objects.exclude(channel="").order_by("channel").values_list("channel", flat=True).distinct())


def proposal_for_review(pk: int) -> Proposal:
    """One proposal with what its row shows once decided (review) or applied (its latest application)."""
    return Proposal.objects.select_related("campaign", "review", "run").get(pk=pk)


def latest_application(proposal: Proposal):
    """The outbox row the proposal's row shows: a failed one first (it carries the Retry button), else the newest.

    A change across platforms has a row per platform; the newest may have succeeded while another failed.
    """
    failed_first = Case(When(status=Application.Status.FAILED, then=0), default=1, output_field=IntegerField())
    return proposal.applications.order_by(failed_first, "-id").first()  # one query, every row redraw


TREND_DAYS = 28
# Every metric an objective may weigh, so the chart can draw the objective itself (composites included).
TREND_FIELDS = (
    "spend",
    "platform_revenue",
    "leads",
    "pipeline_value",
    "closed_revenue",
    "customer_lifetime_value",
    "clicks",
    "platform_conversions",
)


def daily_trend(*, external_ids: Iterable[str], days: int = TREND_DAYS) -> dict[str, list[dict]]:
    """The last `days` days of each campaign's numbers (ending at its latest row), keyed by external id."""
    ids = list(dict.fromkeys(external_ids))
    latest = DailyMetric.objects.filter(campaign__external_id__in=ids).aggregate(last=Max("date"))["last"]
    trend: dict[str, list[dict]] = {external_id: [] for external_id in ids}
    if latest is None:
        return trend
    rows = (
        DailyMetric.objects.filter(campaign__external_id__in=ids, date__gt=latest - dt.timedelta(days=days))
        .order_by("date")
        .values("campaign__external_id", "date", *TREND_FIELDS)
    )
    for row in rows:
        external_id = row.pop("campaign__external_id")
        point = {"date": row.pop("date").isoformat()}
        # NULL stays None (not reported), never 0: the chart leaves a gap.
        point.update({name: None if value is None else float(value) for name, value in row.items()})
        trend[external_id].append(point)
    return trend


def campaigns_with_latest_figures(*, archived: bool = False) -> QuerySet[Campaign]:
    """Campaigns (the archived ones instead, with `archived`) annotated with their latest day and that day's
    spend and pipeline, in three queries at most."""
    latest = DailyMetric.objects.filter(campaign=OuterRef("pk")).order_by("-date")
    return (
        Campaign.objects.filter(archived_at__isnull=not archived)
        .annotate(
            latest_date=Max("metrics__date"),
            latest_spend=Subquery(latest.values("spend")[:1]),
            latest_pipeline=Subquery(latest.values("pipeline_value")[:1]),
            latest_platform_revenue=Subquery(latest.values("platform_revenue")[:1]),
        )
        .order_by("channel", "name")
    )


def recent_imports(limit: int = 10) -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("uploaded_by").order_by("-created_at")[:limit]


def campaign_facts(
    *,
    today: dt.date,
    external_ids: Iterable[str] | None = None,
    evidence_for: Iterable[str] | None = None,
    month_spend: bool = True,
) -> dict[str, CampaignFacts]:
    """What the guardrail checker needs to know about campaigns, keyed by external id, in two queries.

    Evidence counts days with spend and conversions (leads where reported, else
    the platform's count) over the last EVIDENCE_WINDOW_DAYS days. Summing it is
    the expensive part, so `evidence_for` limits it to the campaigns a change
    touches (the others are still needed, for total caps, without evidence).
    """
    # An archived campaign (created by mistake) is nobody's to judge: no rule's scope, no cap's total.
    campaigns = Campaign.objects.filter(archived_at__isnull=True)
    if external_ids is not None:
        campaigns = campaigns.filter(external_id__in=list(external_ids))
    evidence = _evidence(today=today, external_ids=None if evidence_for is None else list(evidence_for))
    campaigns = list(campaigns)
    # This month's spend, for monthly budgets: one more query, over a month of rows at most.
    month_of = None if external_ids is None else [c.pk for c in campaigns]
    month = delivery.month_to_date(today=today, campaign_ids=month_of) if month_spend else {}
    return {
        c.external_id: _with_month(_facts(c, *evidence.get(c.pk, (0, None, None))), month.get(c.pk)) for c in campaigns
    }


def _with_month(facts: CampaignFacts, month) -> CampaignFacts:
    if month is None:
        return facts
    return replace(facts, month_spend=month.spend, spend_through=month.through, spend_share=month.spend_share)


def facts_for_change(
    *, today: dt.date, external_ids: Iterable[str], whole_scope: bool = True, month_spend: bool = True
) -> dict[str, CampaignFacts]:
    """What the guardrail checker needs to judge a change to these campaigns, in three small queries.

    The touched campaigns get their full facts (evidence included). The others matter only to a total cap,
    which adds up the daily budgets of its scope (a channel, a tag or every campaign) that are not paused:
    they come summed by (channel, tags), one entry per group under a key no external id can take, so every
    scope adds up to what it adds up to campaign by campaign, without building a thousand campaigns' facts for
    each decision. Paused campaigns count for nothing in a cap and are left out of the sums.

    The caller says what its rules read (GuardrailKind.reads_whole_scope, reads_month_spend): without a rule
    that adds up a scope, the others are not read at all; without one that reads the month's spend, no month.
    """
    ids = set(external_ids)
    facts = campaign_facts(today=today, external_ids=ids, evidence_for=ids, month_spend=month_spend)
    if not whole_scope:
        return facts
    others = (
        Campaign.objects.filter(archived_at__isnull=True)
        .exclude(external_id__in=ids)
        .exclude(status=Campaign.Status.PAUSED)
        .values("channel", "tags")
        .annotate(total=Sum("daily_budget"))
        .order_by()
    )
    for group in others:
        tags = tuple(group["tags"] or ())
        key = f"{OTHERS_PREFIX}{group['channel']}|{'|'.join(tags)}"
        facts[key] = CampaignFacts(
            external_id=key,
            channel=group["channel"],
            tags=tags,
            audience="",
            daily_budget=float(group["total"] or 0),
            status=Campaign.Status.ACTIVE,
        )
    if month_spend:
        _add_others_month(facts, today=today, touched=ids)
    return facts


def _add_others_month(facts: dict[str, CampaignFacts], *, today: dt.date, touched: set[str]) -> None:
    """The other campaigns' spend this month, summed by the same groups, for monthly budgets: a paused
    campaign spent before it was paused, so its month counts (under a key of its own, with no budget)."""
    first = today.replace(day=1)
    months = (
        DailyMetric.objects.filter(date__gte=first, date__lte=today, campaign__archived_at__isnull=True)
        .exclude(campaign__external_id__in=touched)
        .values("campaign__channel", "campaign__tags", "campaign__status")
        .annotate(**delivery.MONTH_SUMS)
        .order_by()
    )
    for group in months:
        tags = tuple(group["campaign__tags"] or ())
        paused = group["campaign__status"] == Campaign.Status.PAUSED
        key = f"{OTHERS_PREFIX}{group['campaign__channel']}|{'|'.join(tags)}{'|paused' if paused else ''}"
        base = facts.get(key) or CampaignFacts(
            external_id=key,
            channel=group["campaign__channel"],
            tags=tags,
            audience="",
            daily_budget=0.0,
            status=Campaign.Status.PAUSED if paused else Campaign.Status.ACTIVE,
        )
        month = delivery.month_of(group)
        facts[key] = replace(base, month_spend=month.spend, spend_through=month.through, spend_share=month.spend_share)


# Keys of the summed "other campaigns" entries of facts_for_change: external ids never contain a NUL.
OTHERS_PREFIX = "\x00others:"


def known_campaigns() -> KnownCampaigns:
    """The campaigns a guardrail scope may name (archived ones left out), for checking scopes as they are typed."""
    campaigns = list(Campaign.objects.filter(archived_at__isnull=True).order_by("external_id"))
    return KnownCampaigns(
        campaigns=tuple(_facts(c, 0, None, None) for c in campaigns),
        names={c.external_id: c.name for c in campaigns if c.name},
    )


def _evidence(*, today: dt.date, external_ids: list[str] | None) -> dict[int, tuple]:
    since = today - dt.timedelta(days=EVIDENCE_WINDOW_DAYS)
    rows = DailyMetric.objects.filter(date__gt=since, date__lte=today)
    if external_ids is not None:
        rows = rows.filter(campaign__external_id__in=external_ids)
    totals = rows.values("campaign_id").annotate(
        days=Count("id", filter=Q(spend__gt=0)), leads=Sum("leads"), platform=Sum("platform_conversions")
    )
    return {t["campaign_id"]: (t["days"], t["leads"], t["platform"]) for t in totals}


def _facts(campaign: Campaign, evidence_days: int, leads, platform_conversions) -> CampaignFacts:
    conversions = leads if leads is not None else platform_conversions
    return CampaignFacts(
        external_id=campaign.external_id,
        name=campaign.name,
        channel=campaign.channel,
        tags=tuple(campaign.tags or ()),
        audience=campaign.audience,
        daily_budget=float(campaign.daily_budget),
        status=campaign.status,
        last_applied_change=campaign.last_changed_at.date() if campaign.last_changed_at else None,
        evidence_days=evidence_days,
        evidence_conversions=float(conversions or 0),
    )
