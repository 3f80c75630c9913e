"""Reads for the pages: each returns a queryset or plain data, never writes."""

from django.db.models import Max, OuterRef, QuerySet, Subquery

from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun, Proposal


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
