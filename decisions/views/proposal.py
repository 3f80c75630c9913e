"""One proposal: its page, and the row (htmx) or page (plain request) every decision about it answers with."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from decisions.audit import timeline
from decisions.models import Proposal
from decisions.review import selectors
from decisions.review import transitions as reviewing
from decisions.views.presenters import decorate, guard_of

PAGE = "decisions/proposal.html"
ROW = "decisions/queue.html#proposal-row"
DETAIL = "decisions/queue.html#proposal-detail"


def safe_next(request: HttpRequest) -> str | None:
    """Where the reviewer came from, if it is on this site: decisions go back there."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if not candidate and request.htmx:
        candidate = request.htmx.current_url_abs_path
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def load(pk: int) -> Proposal:
    """The proposal with what its row shows; 404 when there is none."""
    try:
        proposal = selectors.proposal_for_review(pk)
    except Proposal.DoesNotExist:
        get_object_or_404(Proposal, pk=pk)
        raise
    return decorate([proposal])[0]


def live_verdicts(proposal: Proposal, changes: list[dict] | None = None) -> dict:
    """Today's verdicts for the proposal's (or the reviewer's) values, and what approving over them needs."""
    verdicts = [v.to_dict() for v in reviewing.current_verdicts(proposal, changes=changes)]
    return {"live_verdicts": verdicts, "live_gate": guard_of(verdicts)}


def row_context(request: HttpRequest, proposal: Proposal, **extra) -> dict:
    context = {"proposal": proposal, "next_url": safe_next(request) or reverse("decisions:queue"), **extra}
    if proposal.status != Proposal.Status.PENDING:
        context["review"] = getattr(proposal, "review", None)
        context["application"] = selectors.latest_application(proposal)
    return context


def detail_context(proposal: Proposal) -> dict:
    """Rationale, live guardrails, charts, the platform's view and the audit timeline."""
    external_ids = [c["campaign"] for c in proposal.changes]
    curves = {curve["campaign"]: curve for curve in (proposal.evidence or {}).get("curves", [])}
    trend = selectors.daily_trend(external_ids=external_ids)
    names = {line["campaign"]: line["name"] for line in proposal.lines}
    charts = {
        "metric": proposal.expected_metric or "pipeline_value",
        "campaigns": [
            {"campaign": eid, "name": names.get(eid, eid), "curve": curves.get(eid), "trend": trend.get(eid, [])}
            for eid in dict.fromkeys(external_ids)
        ],
    }
    context = {
        "charts": charts,
        "chart_id": f"charts-{proposal.pk}",
        "timeline": timeline.proposal_timeline(proposal),
        "anomaly": (proposal.evidence or {}).get("anomaly"),
        "platform": _with_names(proposal.platform_view or {}, names),
    }
    if proposal.status == Proposal.Status.PENDING:
        # Badges in the list are the stored verdicts; here the guardrails are re-checked against today.
        context.update(live_verdicts(proposal))
    return context


def _with_names(platform_view: dict, names: dict[str, str]) -> dict:
    rows = [
        {**row, "name": names.get(row.get("campaign"), row.get("campaign"))}
        for row in platform_view.get("campaigns", [])
    ]
    return {**platform_view, "campaigns": rows}


def render_proposal(request: HttpRequest, proposal: Proposal, *, status: int = 200, **extra) -> HttpResponse:
    """The row fragment for htmx, or the proposal's page with the same row (and its detail) without it."""
    context = row_context(request, proposal, **extra)
    if request.htmx:
        return render(request, ROW, context, status=status)
    # The row's own values (an edit's live verdicts) win over the detail's re-check of the proposal.
    context = {**detail_context(proposal), **context, "on_detail_page": True}
    return render(request, PAGE, context, status=status)


@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = load(pk)
    context = row_context(request, proposal)
    if request.htmx and request.GET.get("row"):
        return render(request, ROW, context)  # "Cancel" on an inline form: the row as it was
    context.update(detail_context(proposal))
    if request.htmx:
        return render(request, DETAIL, context)
    context.update(on_detail_page=True, next_url=safe_next(request) or request.get_full_path())
    return render(request, PAGE, context)
