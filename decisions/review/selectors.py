"""Reads for the pages: each returns a queryset or plain data, never writes."""

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import replace

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from decisions.data import delivery, guardrail_figures
from decisions.models import Application, Campaign, DailyMetric, GenerationRun, ImportRun, Proposal
from objectives.guardrails import CampaignFacts, KnownCampaigns

# How far back the min_evidence guardrail looks for days and conversions.
EVIDENCE_WINDOW_DAYS = guardrail_figures.EVIDENCE_WINDOW_DAYS


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
    month_spend: bool = True,
    figures: guardrail_figures.Snapshot | None = None,
) -> dict[str, CampaignFacts]:
    """What the guardrail checker needs to know about campaigns, keyed by external id: one query for the campaigns,
    their days' figures (evidence, this month's spend) from guardrail_figures' snapshot."""
    # An archived campaign (created by mistake) is nobody's to judge: no rule's scope, no cap's total.
    campaigns = Campaign.objects.filter(archived_at__isnull=True)
    if external_ids is not None:
        campaigns = campaigns.filter(external_id__in=list(external_ids))
    figures = figures or guardrail_figures.snapshot(today=today)
    return {
        c.external_id: _with_month(
            _facts(c, figures.evidence.get(c.pk, guardrail_figures.NO_EVIDENCE)),
            figures.month.get(c.pk) if month_spend else None,
        )
        for c in campaigns
    }


def _with_month(facts: CampaignFacts, month) -> CampaignFacts:
    if month is None:
        return facts
    return replace(facts, month_spend=month.spend, spend_through=month.through, spend_share=month.spend_share)


def facts_for_change(
    *, today: dt.date, external_ids: Iterable[str], whole_scope: bool = True, month_spend: bool = True
) -> dict[str, CampaignFacts]:
    """What the guardrail checker needs to judge a change to these campaigns, in two small queries.

    The touched campaigns get their full facts (evidence included). The others matter only to a whole-scope
    rule: a total cap adds up the daily budgets of its scope (a channel, a tag or every campaign) that are not
    paused, a monthly budget its month's spend. They come summed by (channel, tags) — and paused apart, for the
    month — one entry per group under a key no external id can take, so every scope adds up to what it adds up to
    campaign by campaign, without building a thousand campaigns' facts for each decision.

    The caller says what its rules read (GuardrailKind.reads_whole_scope, reads_month_spend): without a rule
    that adds up a scope, the others are not read at all; without one that reads the month's spend, no month.
    """
    ids = set(external_ids)
    figures = guardrail_figures.snapshot(today=today)
    facts = campaign_facts(today=today, external_ids=ids, month_spend=month_spend, figures=figures)
    if not whole_scope:
        return facts
    # Tags come as their JSON text, decoded once per group rather than once per campaign.
    others = (
        Campaign.objects.filter(archived_at__isnull=True)
        .exclude(external_id__in=ids)
        .values_list("pk", "channel", Cast("tags", TextField()), "status", Cast("daily_budget", FloatField()))
        .order_by()
    )
    month = figures.month if month_spend else {}
    groups: dict[str, _OthersGroup] = {}
    for pk, channel, tags, status, budget in others:
        paused = status == Campaign.Status.PAUSED
        if not paused:
            _group(groups, channel, tags, paused=False).daily_budget += budget or 0.0
        if (spent := month.get(pk)) is not None:
            _group(groups, channel, tags, paused=paused).add_month(spent)
    facts.update((group.key, group.facts()) for group in groups.values())
    return facts


class _OthersGroup:
    """The other campaigns of one (channel, tags), summed: their budgets, and their month as one campaign's."""

    def __init__(self, key: str, channel: str, tags: tuple[str, ...], paused: bool):
        self.key, self.channel, self.tags, self.paused = key, channel, tags, paused
        self.daily_budget = 0.0
        self.month_spend, self.paired_spend, self.paired_budget = 0.0, 0.0, 0.0
        self.through: dt.date | None = None
        self.has_month = False

    def add_month(self, month: delivery.MonthToDate) -> None:
        self.has_month = True
        self.month_spend += month.spend
        self.paired_spend += month.paired_spend
        self.paired_budget += month.paired_budget
        if month.through is not None and (self.through is None or month.through > self.through):
            self.through = month.through

    def facts(self) -> CampaignFacts:
        base = CampaignFacts(
            external_id=self.key,
            channel=self.channel,
            tags=self.tags,
            audience="",
            daily_budget=self.daily_budget,
            status=Campaign.Status.PAUSED if self.paused else Campaign.Status.ACTIVE,
        )
        if not self.has_month:
            return base
        share = self.paired_spend / self.paired_budget if self.paired_budget > 0 else 1.0
        return replace(base, month_spend=self.month_spend, spend_through=self.through, spend_share=share)


def _group(groups: dict, channel: str, tags_json: str | None, *, paused: bool) -> _OthersGroup:
    found = groups.get((channel, tags_json, paused))
    if found is None:
        tags = tuple(json.loads(tags_json or "[]"))
        key = f"{OTHERS_PREFIX}{channel}|{'|'.join(tags)}{'|paused' if paused else ''}"
        found = groups[(channel, tags_json, paused)] = _OthersGroup(key, channel, tags, paused)
    return found


# Keys of the summed "other campaigns" entries of facts_for_change: external ids never contain a NUL.
OTHERS_PREFIX = "\x00others:"


def known_campaigns() -> KnownCampaigns:
    """The campaigns a guardrail scope may name (archived ones left out), for checking scopes as they are typed."""
    campaigns = list(Campaign.objects.filter(archived_at__isnull=True).order_by("external_id"))
    return KnownCampaigns(
        campaigns=tuple(_facts(c) for c in campaigns),
        names={c.external_id: c.name for c in campaigns if c.name},
    )


def _facts(campaign: Campaign, evidence: guardrail_figures.Evidence = guardrail_figures.NO_EVIDENCE) -> CampaignFacts:
    return CampaignFacts(
        external_id=campaign.external_id,
        name=campaign.name,
        channel=campaign.channel,
        tags=tuple(campaign.tags or ()),
        audience=campaign.audience,
        daily_budget=float(campaign.daily_budget),
        status=campaign.status,
        last_applied_change=campaign.last_changed_at.date() if campaign.last_changed_at else None,
        evidence_days=evidence.days,
        evidence_conversions=evidence.conversions,
    )
