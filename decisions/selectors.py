"""Reads for the pages: each returns a queryset or plain data, never writes."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun, Proposal
from objectives.guardrails import CampaignFacts

# How far back the min_evidence guardrail looks for days and conversions.
EVIDENCE_WINDOW_DAYS = 90


def pending_proposals() -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(status=Proposal.Status.PENDING).select_related("campaign").order_by("-priority", "id")
    )


def decided_proposals() -> QuerySet[Proposal]:
    return (
        Proposal.objects.exclude(status=Proposal.Status.PENDING)
        .select_related("campaign", "review")
        .order_by("-decided_at", "-id")
    )


def recent_audit_events(limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("proposal").order_by("-id")[:limit]


def campaigns_with_latest_figures() -> QuerySet[Campaign]:
    """Campaigns annotated with their latest day and that day's spend and pipeline, in three queries at most."""
    latest = DailyMetric.objects.filter(campaign=OuterRef("pk")).order_by("-date")
    return Campaign.objects.annotate(
        latest_date=Max("metrics__date"),
        latest_spend=Subquery(latest.values("spend")[:1]),
        latest_pipeline=Subquery(latest.values("pipeline_value")[:1]),
        latest_platform_revenue=Subquery(latest.values("platform_revenue")[:1]),
    ).order_by("channel", "name")


def recent_imports(limit: int = 10) -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("uploaded_by").order_by("-created_at")[:limit]


def campaign_facts(*, today: dt.date, external_ids: Iterable[str] | None = None) -> dict[str, CampaignFacts]:
    """What the guardrail checker needs to know about campaigns, keyed by external id, in one query.

    Evidence counts days with spend and conversions (leads where reported, else
    the platform's count) over the last EVIDENCE_WINDOW_DAYS days.
    """
    since = today - dt.timedelta(days=EVIDENCE_WINDOW_DAYS)
    recent = Q(metrics__date__gt=since, metrics__date__lte=today)
    campaigns = Campaign.objects.annotate(
        evidence_days=Count("metrics", filter=recent & Q(metrics__spend__gt=0)),
        evidence_leads=Sum("metrics__leads", filter=recent),
        evidence_platform=Sum("metrics__platform_conversions", filter=recent),
    )
    if external_ids is not None:
        campaigns = campaigns.filter(external_id__in=list(external_ids))
    return {c.external_id: _facts(c) for c in campaigns}


def _facts(campaign: Campaign) -> CampaignFacts:
    conversions = campaign.evidence_leads if campaign.evidence_leads is not None else campaign.evidence_platform
    return CampaignFacts(
        external_id=campaign.external_id,
        channel=campaign.channel,
        tags=tuple(campaign.tags or ()),
        audience=campaign.audience,
        daily_budget=float(campaign.daily_budget),
        status=campaign.status,
        last_applied_change=campaign.last_changed_at.date() if campaign.last_changed_at else None,
        evidence_days=campaign.evidence_days,
        evidence_conversions=float(conversions or 0),
    )
