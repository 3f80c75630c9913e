"""Data health on the Data page (at a glance, per source and campaign, each finding linked to its rows), and the
rows page a finding links to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from decisions.data import health
from decisions.engine import data_health as checks
from decisions.models import Campaign, DailyMetric
from objectives import formatting

# Severity → the badge it wears (the stylesheet's pass / warn / block colours) and its word.
BADGES = {"red": "block", "amber": "warn", "green": "pass"}
STATUS_WORDS = {"red": "Fail", "amber": "Review", "green": "OK"}
SEVERITY_STATUS = {checks.FAIL: "red", checks.REVIEW: "amber", checks.INFO: "green"}
SOURCE_LABELS = {
    "spend": "Ad platforms (spend, days)",
    "deals": "CRM deals (matching)",
    "imports": "Imports (changed history)",
}
# Shown only once a finding is about them: most teams import none of these.
OTHER_FILE_LABELS = {
    "totals": "Outcome totals (channel mix)",
    "transactions": "Customer transactions",
    "experiments": "Randomised tests",
    "workflows": "Workflow inventory",
}
MAX_ROWS_DAYS = 120  # the rows page shows at most this many days


@dataclass(frozen=True)
class FindingView:
    finding: checks.Finding
    campaign_name: str
    status: str
    rows_url: str

    @property
    def badge(self) -> str:
        return BADGES[self.status]

    @property
    def severity_word(self) -> str:
        return self.finding.severity.capitalize()


def rows_url(finding: checks.Finding) -> str:
    if finding.since is None:
        return reverse("decisions:deals") if finding.source == "deals" else ""
    query = {"from": finding.since.isoformat(), "to": (finding.until or finding.since).isoformat()}
    if finding.campaign_id:
        query["campaign"] = finding.campaign_id
    return f"{reverse('decisions:data-rows')}?{urlencode(query)}"


def overview(names: dict[str, str] | None = None) -> dict:
    """The Data page's health section: the newest check, its findings, a status per source and per campaign.
    `names`: campaign names by external id where the page has read them already (else one query)."""
    check = health.latest_check()
    findings = [checks.Finding.from_dict(data) for data in check.findings] if check else []
    if names is None or any(f.campaign_id and f.campaign_id not in names for f in findings):
        names = {**(names or {}), **health.campaign_names(findings)}
    views = [
        FindingView(f, names.get(f.campaign_id, f.campaign_id or ""), SEVERITY_STATUS[f.severity], rows_url(f))
        for f in findings
    ]
    by_campaign: dict[str, list[checks.Finding]] = {}
    for f in findings:
        if f.campaign_id:
            by_campaign.setdefault(f.campaign_id, []).append(f)
    return {
        "health_check": check,
        "health_findings": views,
        "health_status": _badge(checks.status_of(findings)),
        "health_sources": _sources(findings, check.metric if check else "pipeline_value"),
        "health_by_campaign": {cid: _badge(checks.status_of(fs)) for cid, fs in by_campaign.items()},
        "health_held": len(checks.held_campaigns(findings)),
    }


def proposal_findings(proposal) -> list[FindingView]:
    """The newest check's REVIEW and FAIL findings about the campaigns a proposal moves, for its page."""
    moved = {change.get("campaign") for change in proposal.changes or []}
    findings = [f for f in health.latest_findings() if f.campaign_id in moved and f.severity != checks.INFO]
    names = health.campaign_names(findings) if findings else {}
    return [
        FindingView(f, names.get(f.campaign_id, f.campaign_id), SEVERITY_STATUS[f.severity], rows_url(f))
        for f in findings
    ]


def _badge(status: str) -> dict:
    return {"status": status, "badge": BADGES[status], "word": STATUS_WORDS[status]}


def _sources(findings: list[checks.Finding], metric: str) -> list[dict]:
    outcome = f"CRM {formatting.metric_words(metric).short} (per campaign)"
    present = {f.source for f in findings}
    labels = {metric: outcome, **SOURCE_LABELS, **{k: v for k, v in OTHER_FILE_LABELS.items() if k in present}}
    sources = []
    for source, label in labels.items():
        about = [f for f in findings if f.source == source]
        status = checks.status_of(about)
        sources.append({"label": label, "status": status, "badge": BADGES[status], "word": STATUS_WORDS[status]})
    campaign_findings = [f for f in findings if f.campaign_id]
    status = checks.status_of(campaign_findings)
    red = len({f.campaign_id for f in campaign_findings if f.severity == checks.FAIL})
    amber = len({f.campaign_id for f in campaign_findings if f.severity == checks.REVIEW}) if not red else 0
    sources.append(
        {
            "label": "Campaigns (each one's own history)",
            "status": status,
            "badge": BADGES[status],
            "word": STATUS_WORDS[status],
            "note": f"{red} failing" if red else (f"{amber} to review" if amber else ""),
        }
    )
    return sources


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@require_GET
def data_rows(request: HttpRequest) -> HttpResponse:
    """The daily rows behind a finding: one campaign's, or every campaign's summed per day for a source."""
    last = DailyMetric.objects.order_by("-date").values_list("date", flat=True).first() or dt.date.today()
    end = _day(request.GET.get("to")) or last
    start = _day(request.GET.get("from")) or end - dt.timedelta(days=13)
    if start > end:
        start, end = end, start
    start = max(start, end - dt.timedelta(days=MAX_ROWS_DAYS - 1))
    campaign = None
    rows = DailyMetric.objects.filter(date__gte=start, date__lte=end)
    if external_id := request.GET.get("campaign"):
        campaign = get_object_or_404(Campaign, external_id=external_id)
        days = list(
            rows.filter(campaign=campaign)
            .order_by("date")
            .values("date", "spend", "clicks", "leads", "pipeline_value", "closed_revenue")
        )
    else:
        days = list(
            rows.filter(campaign__archived_at__isnull=True)
            .order_by()
            .values("date")
            .annotate(
                campaigns=Count("pk"),
                spend=Sum("spend"),
                clicks=Sum("clicks"),
                leads=Sum("leads"),
                pipeline_value=Sum("pipeline_value"),
                closed_revenue=Sum("closed_revenue"),
            )
            .order_by("date")
        )
    context = {"campaign": campaign, "start": start, "end": end, "days": days}
    return render(request, "decisions/data_rows.html", context)
