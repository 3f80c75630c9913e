"""The review queue: ranked pending proposals, their detail, and the decisions taken on them.

Every write is a plain form POST that redirects (pages work without
JavaScript); an htmx request gets the proposal's row redrawn instead. A
decision that lost the race answers 409 with the row showing who decided.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince, timeuntil
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from decisions import access as roles
from decisions.delivery import outbox as applying
from decisions.models import Application, Proposal
from decisions.review import kinds, selectors
from decisions.review import transitions as reviewing
from decisions.review.filters import QueueFilter
from decisions.review.forms import ApproveForm, EditForm, RejectForm, RollbackForm
from objectives import guardrails
from objectives.models import Metric

PAGE = "decisions/queue.html"
DETAIL_PAGE = "decisions/proposal.html"
ROW = f"{PAGE}#proposal-row"
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
EXPIRING_SOON = dt.timedelta(hours=12)
METRIC_LABELS = {**dict(Metric.choices), Metric.PLATFORM_REVENUE: "Platform revenue"}


# --- presenting a proposal ---------------------------------------------------------


def change_lines(changes: list[dict], names: dict[str, str]) -> list[dict]:
    """Each change with its campaign's name and the size of the move, for the row's numbers."""
    lines = []
    for change in changes:
        line = {**change, "name": names.get(change["campaign"], change["campaign"]), "pct": None, "delta": None}
        line["from_text"], line["to_text"] = str(change["from"]), str(change["to"])
        if change["field"] == guardrails.BUDGET:
            before, after = float(change["from"]), float(change["to"])
            line["delta"] = round(after - before, 2)
            line["pct"] = round(100 * (after - before) / before, 1) if before else None
            line["from_text"], line["to_text"] = _money(before), _money(after)
            line["pct_text"] = "new" if line["pct"] is None else f"{_sign(line['pct'])}{abs(line['pct']):g}%"
        lines.append(line)
    return lines


def _sign(value: float) -> str:
    return "−" if value < 0 else "+"


def _money(value: float) -> str:
    return f"${abs(value):,.0f}" if abs(value) >= 100 else f"${abs(value):,.2f}"


def signed_money(value: float) -> str:
    return "$0" if round(value, 2) == 0 else f"{_sign(value)}{_money(value)}"


def headline(kind: str, lines: list[dict]) -> str:
    """The change in words: what moves where (each kind words its own, decisions/review/kinds.py)."""
    return kinds.get(kind).headline(lines)


@dataclass(frozen=True)
class Guard:
    """The guardrail badges of a row: the worst severity that fails, and which verdicts fail."""

    status: str  # pass | warn | block
    failing: list[dict]
    checked: int

    @property
    def blocks(self) -> bool:
        return any(v.get("severity") == "block" for v in self.failing)

    @property
    def warns(self) -> bool:
        return any(v.get("severity") == "warn" for v in self.failing)


def guard_of(verdicts: list[dict]) -> Guard:
    failing = [v for v in verdicts if not v.get("passed")]
    severities = {v.get("severity") for v in failing}
    status = "block" if "block" in severities else "warn" if failing else "pass"
    return Guard(status=status, failing=failing, checked=len(verdicts))


_PK = 987654321  # a placeholder pk, reversed once per URL name


@functools.cache
def _url_pattern(name: str) -> str:
    return reverse(f"decisions:{name}", args=[_PK])


def row_urls(pk: int) -> dict[str, str]:
    """The row's links without a reverse() per link per row: the queue page draws up to 100 rows."""
    names = {"detail": "proposal", "approve": "proposal-approve", "edit": "proposal-edit", "reject": "proposal-reject"}
    return {key: _url_pattern(name).replace(str(_PK), str(pk)) for key, name in names.items()}


def decorate(proposals: list[Proposal]) -> list[Proposal]:
    """Attach what the row template shows (words, numbers, badges), with one query for every campaign name."""
    names = selectors.campaign_names(c["campaign"] for p in proposals for c in p.changes)
    now = timezone.now()
    for proposal in proposals:
        proposal.lines = change_lines(proposal.changes, names)
        proposal.headline = headline(proposal.kind, proposal.lines)
        proposal.guard = guard_of(proposal.guardrail_verdicts)
        proposal.urls = row_urls(proposal.pk)
        proposal.impact = {
            "mean": signed_money(proposal.expected_mean),
            "low": signed_money(proposal.expected_low),
            "high": signed_money(proposal.expected_high),
            "metric": METRIC_LABELS.get(proposal.expected_metric, proposal.expected_metric.replace("_", " ")),
        }
        proposal.age = timesince(proposal.created_at, now, depth=1)
        proposal.expires_in = timeuntil(proposal.expires_at, now, depth=1) if proposal.expires_at else ""
        proposal.expiring_soon = bool(proposal.expires_at and proposal.expires_at - now < EXPIRING_SOON)
    return proposals


# --- the queue page ------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue without an exact COUNT(*): one row past the page says whether another follows."""

    rows: list[Proposal]
    number: int
    size: int
    has_next: bool
    total: int
    total_capped: bool

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _positive_int(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def queue_page(queryset, *, number: int, size: int) -> QueuePage:
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    # When the whole queue fits on the first page there is nothing left to count.
    total = len(rows) if number == 1 and not has_next else selectors.capped_count(queryset)
    return QueuePage(
        rows=rows,
        number=number,
        size=size,
        has_next=has_next,
        total=total,
        total_capped=total > selectors.QUEUE_COUNT_CAP,
    )


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    size = _positive_int(request.GET.get("per_page"), DEFAULT_PAGE_SIZE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    filterset = QueueFilter(request.GET or None, queryset=selectors.queue_proposals())
    page = queue_page(filterset.qs, number=_positive_int(request.GET.get("page"), 1), size=size)
    decorate(page.rows)
    context = {
        "page": page,
        "filter": filterset,
        "page_sizes": PAGE_SIZES,
        "passing_ids": [p.pk for p in page.rows if p.guard.status == "pass"],
        "query": _query_without_page(request),
        "next_url": request.get_full_path(),
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, f"{PAGE}#queue-results", context)
    return render(request, PAGE, context)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- one proposal ----------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str | None:
    candidate = request.POST.get("next") or request.GET.get("next")
    if not candidate and request.htmx:
        candidate = request.htmx.current_url_abs_path
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _row_context(request: HttpRequest, proposal: Proposal, **extra) -> dict:
    context = {"proposal": proposal, "next_url": _safe_next(request) or reverse("decisions:queue"), **extra}
    if proposal.status != Proposal.Status.PENDING:
        context["review"] = getattr(proposal, "review", None)
        context["application"] = selectors.latest_application(proposal)
    return context


def _detail_context(proposal: Proposal) -> dict:
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
        "timeline": selectors.proposal_timeline(proposal),
        "anomaly": (proposal.evidence or {}).get("anomaly"),
        "platform": _with_names(proposal.platform_view or {}, names),
    }
    if proposal.status == Proposal.Status.PENDING:
        # Badges in the list are the stored verdicts; here the guardrails are re-checked against today.
        context.update(_live(proposal))
    return context


def _with_names(platform_view: dict, names: dict[str, str]) -> dict:
    rows = [
        {**row, "name": names.get(row.get("campaign"), row.get("campaign"))}
        for row in platform_view.get("campaigns", [])
    ]
    return {**platform_view, "campaigns": rows}


def _load(pk: int) -> Proposal:
    try:
        proposal = selectors.proposal_for_review(pk)
    except Proposal.DoesNotExist:
        get_object_or_404(Proposal, pk=pk)
        raise
    return decorate([proposal])[0]


def _respond(request: HttpRequest, proposal: Proposal, *, status: int = 200, **extra) -> HttpResponse:
    """The row fragment for htmx, or the proposal's page with the same row (and its detail) without it."""
    context = _row_context(request, proposal, **extra)
    if request.htmx:
        return render(request, ROW, context, status=status)
    # The row's own values (an edit's live verdicts) win over the detail's re-check of the proposal.
    context = {**_detail_context(proposal), **context, "on_detail_page": True}
    return render(request, DETAIL_PAGE, context, status=status)


@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _load(pk)
    context = _row_context(request, proposal)
    if request.htmx and request.GET.get("row"):
        return render(request, ROW, context)  # "Cancel" on an inline form: the row as it was
    context.update(_detail_context(proposal))
    if request.htmx:
        return render(request, f"{PAGE}#proposal-detail", context)
    context.update(on_detail_page=True, next_url=_safe_next(request) or request.get_full_path())
    return render(request, DETAIL_PAGE, context)


def _require_reviewer(request: HttpRequest) -> None:
    if not roles.can_review(request.user):
        raise PermissionDenied("Only marketers and guardrail admins may decide proposals.")


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    """After a decision: redraw the row in place (htmx) or go back where the reviewer came from."""
    if request.htmx:
        return render(request, ROW, _row_context(request, _load(pk), notice=message, notice_kind="success"))
    messages.success(request, message)
    return redirect(_safe_next(request) or "decisions:queue")


def _refused(request: HttpRequest, pk: int, refusal: Exception, *, status: int = 409) -> HttpResponse:
    """Someone decided first (or the clock did): show who and when, never decide twice."""
    if request.htmx:
        context = _row_context(request, _load(pk), notice=str(refusal), notice_kind="error")
        return render(request, ROW, context, status=status)
    messages.error(request, str(refusal))
    return redirect(_safe_next(request) or "decisions:queue")


def _live(proposal: Proposal, changes: list[dict] | None = None) -> dict:
    """Today's verdicts for the proposal's (or the reviewer's) values, and what approving over them needs."""
    verdicts = [v.to_dict() for v in reviewing.current_verdicts(proposal, changes=changes)]
    return {"live_verdicts": verdicts, "live_gate": guard_of(verdicts)}


def _gate_extra(proposal: Proposal, message: str, form, changes: list[dict] | None = None) -> dict:
    # Every failing verdict, not only the exception's severity: a reviewer answering the
    # warning must also see (and answer) a block that fails beside it.
    live = _live(proposal, changes)
    return {"gate_message": message, "gate": live["live_gate"], "form": form, **live}


@require_POST
def proposal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reviewer(request)
    proposal = _load(pk)
    form = ApproveForm(request.POST)
    form.is_valid()
    answers = {
        "confirm_warnings": form.cleaned_data.get("confirm_warnings", False),
        "override_reason": form.cleaned_data.get("override_reason", ""),
    }
    try:
        reviewing.proposal_approve(proposal=proposal, actor=request.user, **answers)
    except reviewing.InvalidTransition as refusal:
        return _refused(request, pk, refusal)
    except reviewing.GuardrailGate as gate:
        # Not an error: approving over these guardrails needs one more answer from the reviewer.
        return _respond(request, proposal, mode="gate", **_gate_extra(proposal, str(gate), form))
    except PermissionDenied as denied:
        return _respond(request, proposal, status=403, mode="gate", **_gate_extra(proposal, str(denied), form))
    return _done(request, pk, f"Approved: {proposal.headline}.")


@require_http_methods(["GET", "POST"])
def proposal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reviewer(request)
    proposal = _load(pk)
    names = {line["campaign"]: line["name"] for line in proposal.lines}
    if request.method == "GET":
        if proposal.status != Proposal.Status.PENDING:
            return _refused(request, pk, _not_pending(proposal))
        form = EditForm(proposal=proposal, names=names)
        return _respond(request, proposal, mode="edit", form=form, **_live(proposal))
    form = EditForm(request.POST, proposal=proposal, names=names)
    if not form.is_valid():
        return _respond(request, proposal, status=422, mode="edit", form=form, unusable=True)
    try:
        reviewing.proposal_edit_and_approve(
            proposal=proposal,
            actor=request.user,
            final_changes=form.final_changes(),
            note=form.cleaned_data["note"],
            confirm_warnings=form.cleaned_data["confirm_warnings"],
            override_reason=form.cleaned_data["override_reason"],
        )
    except reviewing.InvalidTransition as refusal:
        return _refused(request, pk, refusal)
    except reviewing.GuardrailGate as gate:
        live = [v.to_dict() for v in reviewing.current_verdicts(proposal, changes=form.final_changes())]
        return _respond(request, proposal, mode="edit", live_verdicts=live, **_gate_extra(gate, form))
    except reviewing.InvalidDecision as invalid:
        form.add_error(None, str(invalid))
        return _respond(request, proposal, status=422, mode="edit", form=form)
    except PermissionDenied as denied:
        live = [v.to_dict() for v in reviewing.current_verdicts(proposal, changes=form.final_changes())]
        return _respond(
            request,
            proposal,
            status=403,
            mode="edit",
            form=form,
            live_verdicts=live,
            notice=str(denied),
            notice_kind="error",
        )
    return _done(request, pk, f"Approved with your values: {proposal.headline}.")


def _not_pending(proposal: Proposal) -> reviewing.InvalidTransition:
    review = getattr(proposal, "review", None)
    if review is not None:
        return reviewing.AlreadyDecided(
            status=proposal.status, decision=review.decision, by=review.reviewer_label, at=review.created_at
        )
    return reviewing.NotDecidable(status=proposal.status)


@require_POST
def proposal_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-check the values being typed into the edit form; answers the verdict list alone."""
    _require_reviewer(request)
    proposal = _load(pk)
    form = EditForm(request.POST, proposal=proposal, names={})
    changes = form.partial_changes()
    context = {"proposal": proposal, "form": form, "unusable": changes is None}
    if changes is not None:
        context.update(_live(proposal, changes))
    return render(request, f"{PAGE}#edit-verdicts", context)


@require_http_methods(["GET", "POST"])
def proposal_reject(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reviewer(request)
    proposal = _load(pk)
    if request.method == "GET":
        if proposal.status != Proposal.Status.PENDING:
            return _refused(request, pk, _not_pending(proposal))
        return _respond(request, proposal, mode="reject", form=RejectForm())
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _respond(request, proposal, status=422, mode="reject", form=form)
    try:
        reviewing.proposal_reject(proposal=proposal, actor=request.user, **form.cleaned_data)
    except reviewing.InvalidTransition as refusal:
        return _refused(request, pk, refusal)
    return _done(request, pk, f"Rejected ({form.cleaned_data['reason_code'].replace('_', ' ')}): {proposal.headline}.")


@require_POST
def proposal_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reviewer(request)
    proposal = _load(pk)
    form = RollbackForm(request.POST)
    if not form.is_valid():
        message = " ".join(form.errors.get("reason", ["Write why this change is rolled back."]))
        return _refused(request, pk, reviewing.InvalidDecision(message), status=422)
    try:
        reviewing.proposal_rollback(proposal=proposal, actor=request.user, reason=form.cleaned_data["reason"])
    except reviewing.InvalidTransition as refusal:
        return _refused(request, pk, refusal)
    return _done(request, pk, "Rollback sent: the previous values are being restored.")


@require_POST
def application_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reviewer(request)
    application = get_object_or_404(Application, pk=pk)
    try:
        applying.application_retry(application=application, actor=request.user)
    except applying.NotRetryable as refusal:
        return _refused(request, application.proposal_id, refusal)
    return _done(request, application.proposal_id, "Sent again.")


@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve the shown proposals that pass every guardrail now; the service re-checks each one."""
    _require_reviewer(request)
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    if not ids:
        messages.info(request, "Nothing to approve: no shown proposal passes every guardrail.")
        return redirect(_safe_next(request) or "decisions:queue")
    # Not only pending ones: the service counts those decided meanwhile, so the message can say so.
    proposals = Proposal.objects.filter(pk__in=ids).order_by("-priority", "id")
    result = reviewing.proposals_bulk_approve(proposals=proposals, actor=request.user)
    parts = [f"Approved {result.approved} proposal{'s' if result.approved != 1 else ''}"]
    if result.held_by_guardrails:
        parts.append(f"{result.held_by_guardrails} held back: a guardrail fails now")
    if result.already_decided:
        parts.append(f"{result.already_decided} already decided by someone else")
    messages.success(request, "; ".join(parts) + ".")
    return redirect(_safe_next(request) or "decisions:queue")
