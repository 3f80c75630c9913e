"""One proposal: its page, and the row (htmx) or page (plain request) every decision about it answers with."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from decisions import spend_tests
from decisions.audit import timeline
from decisions.experiments import follow_ups, segment_estimates
from decisions.experiments import lists as audience_lists
from decisions.models import Campaign, Proposal
from decisions.review import kinds, selectors
from decisions.review import transitions as reviewing
from decisions.views import health as health_views
from decisions.views import pacing as pacing_views
from decisions.views.presenters import decorate, edit_summary, guard_of, pct_text
from objectives import formatting

PAGE = "decisions/proposal.html"
ROW = "decisions/queue.html#proposal-row"
DETAIL = "decisions/queue.html#proposal-detail"
ANNOUNCE = "decisions/queue.html#announce"


def announced(request: HttpRequest, response: HttpResponse, announcement: str) -> HttpResponse:
    """An htmx answer that also says its outcome in base.html's one live region (the row itself is redrawn silently)."""
    if request.htmx and announcement:
        response.content += render_to_string(ANNOUNCE, {"announcement": announcement}, request).encode()
    return response


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


def live_edit(proposal: Proposal, changes: list[dict] | None = None) -> dict:
    """The edit form's live part for the reviewer's values (the machine's until they type): the guardrails'
    verdicts, and the net budget change and weekly impact re-estimated for those values."""
    if segment_estimates.is_audience_kind(proposal.kind):
        # An audience's figure comes from the test's customers, not from response curves.
        summary = segment_estimates.edit_summary(proposal, proposal.changes if changes is None else changes)
    else:
        summary = edit_summary(proposal, proposal.changes if changes is None else changes)
    return {**live_verdicts(proposal, changes), "live_estimate": summary}


def row_context(request: HttpRequest, proposal: Proposal, **extra) -> dict:
    context = {"proposal": proposal, "next_url": safe_next(request) or reverse("decisions:queue"), **extra}
    if proposal.status != Proposal.Status.PENDING:
        context["review"] = getattr(proposal, "review", None)
        context["application"] = selectors.latest_application(proposal)
    return context


def detail_context(proposal: Proposal) -> dict:
    """Rationale, live guardrails, charts, the platform's view and the audit timeline."""
    # The campaigns it moves (a workflow's retirement moves none: no curves, no platform view).
    external_ids = list(dict.fromkeys(c["campaign"] for c in proposal.changes if "campaign" in c))
    curves = {curve["campaign"]: curve for curve in (proposal.evidence or {}).get("curves", [])}
    names = {line["campaign"]: line["name"] for line in proposal.lines}
    context = {
        "charts": chart_data(proposal, external_ids, curves=curves, names=names),
        "chart_id": f"charts-{proposal.pk}",
        "timeline": timeline.proposal_timeline(proposal),
        "anomaly": (proposal.evidence or {}).get("anomaly"),
        "platform": platform_table(proposal, external_ids, curves=curves, names=names),
    }
    if proposal.status == Proposal.Status.PENDING:
        # Badges in the list are the stored verdicts; here the guardrails are re-checked against today.
        context.update(live_verdicts(proposal))
    context["outcome"] = outcome_context(proposal)
    if segment_estimates.is_audience_kind(proposal.kind):
        context["audience_lists"] = audience_lists.lists_of_proposal(proposal)
        context["follow_ups"] = follow_ups.comparisons_of(proposal)
    return context


def outcome_context(proposal: Proposal) -> dict | None:
    """The realised impact against the interval once measured (the timeline's last entry, in a card)."""
    if proposal.kind in kinds.non_campaign_kinds():
        return None  # a workflow's retirement has no realised value to wait for
    outcome = timeline.outcome_of(proposal)
    if outcome is not None:
        return {"entry": timeline.outcome_entry(outcome, rejected=proposal.status == Proposal.Status.REJECTED)}
    if proposal.status in (Proposal.Status.APPROVED, Proposal.Status.APPLIED, Proposal.Status.REJECTED):
        return {"waiting": True}
    return None


def chart_data(proposal: Proposal, external_ids: list[str], *, curves: dict, names: dict[str, str]) -> dict:
    """What queue.js draws: each campaign's curve and its last 28 days, with the objective (weights applied)
    as its own series, so the chart can give it its own axis and platform revenue another."""
    objective = proposal.objective
    weights = {objective.metric: 1.0}
    for metric, weight in (objective.weights or {}).items():
        weights[metric] = weights.get(metric, 0.0) + float(weight)
    trend = selectors.daily_trend(external_ids=external_ids)
    for points in trend.values():
        for point in points:
            point["objective"] = _weighted(point, weights, primary=objective.metric)
    return {
        "metric": objective.metric,
        "objective": {"label": objective.label, "unit": objective.unit.noun, "money": objective.unit.is_money},
        "campaigns": [
            {
                "campaign": eid,
                "name": names.get(eid, eid),
                "curve": curves.get(eid),
                "marginal_text": _per_dollar((curves.get(eid) or {}).get("marginal"), objective.unit),
                "trend": trend.get(eid, []),
                "objective_known": any(point["objective"] is not None for point in trend.get(eid, [])),
            }
            for eid in external_ids
        ],
    }


def _weighted(point: dict, weights: dict[str, float], *, primary: str) -> float | None:
    """The day's objective as the engine fits it: unknown while the primary metric is, other metrics 0 when missing."""
    if point.get(primary) is None:
        return None
    return round(sum(float(point.get(metric) or 0) * weight for metric, weight in weights.items()), 2)


def platform_table(proposal: Proposal, external_ids: list[str], *, curves: dict, names: dict[str, str]) -> dict:
    """Every campaign of the proposal: the platform's ROAS and the objective per dollar on average (both over
    the last 28 days), and the marginal return of the next dollar at today's spend, read off the fitted curve.

    Proposals made before the engine stored every campaign's figures have them for two campaigns only;
    the others show a dash rather than disappear."""
    stored = {row.get("campaign"): row for row in (proposal.platform_view or {}).get("campaigns", [])}
    unit = proposal.objective.unit
    moves = {line["campaign"]: line for line in proposal.lines}
    rows = []
    for eid in external_ids:
        row, curve = stored.get(eid, {}), curves.get(eid) or {}
        line = moves.get(eid, {})
        rows.append(
            {
                "campaign": eid,
                "name": names.get(eid, eid),
                "move": pct_text(line) if line else "",
                "down": (line.get("delta") or 0) < 0,
                "platform_roas": _rate(row.get("platform_roas"), "×"),
                "average": _per_dollar(row.get("objective_per_spend"), unit),
                "marginal": _per_dollar(curve.get("marginal"), unit),
            }
        )
    view = proposal.platform_view or {}
    return {**view, "campaigns": rows, "has_figures": bool(view.get("summary")) or bool(curves)}


def _rate(value, suffix: str) -> str:
    return "—" if value is None else f"{float(value):,.2f}{suffix}"


def _per_dollar(value, unit: formatting.Unit) -> str:
    """$0.59 of a money objective per dollar, or 0.031 leads."""
    if value is None:
        return "—"
    value = float(value)
    if unit.is_money:
        return formatting.money(value)
    return f"{value:.2g} {unit.noun}" if abs(value) < 1 else f"{value:,.2f} {unit.noun}"


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
        # "Cancel" on an inline form: the row as it is now.
        if proposal.status == Proposal.Status.PENDING:
            said = "Closed without a decision: the proposal still waits."
        else:
            said = f"Closed: meanwhile this proposal became {proposal.get_status_display().lower()}."
        return announced(request, render(request, ROW, context), said)
    context.update(detail_context(proposal))
    if request.htmx:
        return render(request, DETAIL, context)
    context.update(on_detail_page=True, next_url=safe_next(request) or request.get_full_path())
    context["utilization"] = utilization_rows(proposal)
    context["spend_test"] = spend_tests.card(proposal)
    context["data_health"] = health_views.proposal_findings(proposal)
    return render(request, PAGE, context)


def utilization_rows(proposal: Proposal) -> list[dict]:
    """Each campaign the proposal changes, with how much of its budget it spends and what limits it."""
    changed = zip(proposal.changes, proposal.lines, strict=True)
    lines = {change["campaign"]: line["name"] for change, line in changed if "campaign" in change}
    campaigns = dict(Campaign.objects.filter(external_id__in=lines).values_list("external_id", "pk"))
    found = pacing_views.utilization_by_pk(campaign_ids=campaigns.values())
    return [
        {"campaign": external_id, "name": name, "utilization": found.get(campaigns.get(external_id))}
        for external_id, name in lines.items()
    ]
