"""The review endpoints: approve, edit, reject, roll back, retry and bulk approve, and the edit form's live check.

Each parses its form, calls one service and answers through decisions.views.responses: the row
redrawn for htmx, a redirect or the proposal's page for a plain POST (pages work without
JavaScript), and every refusal the same way whichever endpoint met it.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit, urlunsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from decisions import access as roles
from decisions.delivery import outbox as applying
from decisions.models import Application, BulkApproval, Proposal, Review
from decisions.review import transitions as reviewing
from decisions.review.forms import ApproveForm, RejectForm, RollbackForm, edit_form
from decisions.views.proposal import live_edit, load, safe_next
from decisions.views.responses import REFUSALS, Question, ask, decided, refused

EDIT_VERDICTS = "decisions/queue.html#edit-verdicts"


def reviewers_only(view):
    """403 for anyone who may not decide (viewers), before anything is loaded or parsed."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not roles.can_review(request.user):
            raise PermissionDenied("Only marketers and guardrail admins may decide proposals.")
        return view(request, *args, **kwargs)

    return wrapper


def _gate_answers(form: ApproveForm) -> dict:
    """What the reviewer answered to the guardrail question; both fields are optional, so always clean."""
    return {
        "confirm_warnings": form.cleaned_data.get("confirm_warnings", False),
        "override_reason": form.cleaned_data.get("override_reason", ""),
    }


def _as_decided(proposal: Proposal, review: Review) -> Proposal:
    """The proposal as loaded and presented before the decision, brought up to date for its redrawn row.

    Decided as proposed (approved or rejected), its words and numbers stay the machine's, so nothing is
    presented again: only its status is read back (an eager apply may have run at COMMIT) with its review.
    An edit changes the numbers the row shows, so that row is loaded again instead.
    """
    proposal.status, proposal.decided_at = (
        Proposal.objects.filter(pk=proposal.pk).values_list("status", "decided_at").get()
    )
    proposal.review = review
    proposal.out_of_date = ""  # said of pending proposals only
    return proposal


def _not_pending(proposal: Proposal) -> reviewing.InvalidTransition:
    """Why a decision form is not offered any more: who decided, or that nobody can."""
    review = getattr(proposal, "review", None)
    if review is not None:
        return reviewing.AlreadyDecided(
            status=proposal.status, decision=review.decision, by=review.reviewer_label, at=review.created_at
        )
    return reviewing.NotDecidable(status=proposal.status)


@require_POST
@reviewers_only
def proposal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = load(pk)
    form = ApproveForm(request.POST)
    form.is_valid()
    try:
        review = reviewing.proposal_approve(proposal=proposal, actor=request.user, **_gate_answers(form))
    except REFUSALS as refusal:
        return refused(request, proposal, refusal, Question("gate", form))
    return decided(request, pk, f"Approved: {proposal.headline}.", proposal=_as_decided(proposal, review))


@require_http_methods(["GET", "POST"])
@reviewers_only
def proposal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = load(pk)
    names = {line["campaign"]: line["name"] for line in proposal.lines}
    if request.method == "GET":
        if proposal.status != Proposal.Status.PENDING:
            return refused(request, proposal, _not_pending(proposal))
        form = edit_form(proposal=proposal, names=names)
        return ask(request, proposal, Question("edit", form), **live_edit(proposal))
    form = edit_form(request.POST, proposal=proposal, names=names)
    if not form.is_valid():
        return ask(request, proposal, Question("edit", form), status=422, unusable=True)
    # The guardrails judge the reviewer's values, so a refusal re-asks about those, not the machine's.
    question = Question("edit", form, changes=form.final_changes())
    try:
        reviewing.proposal_edit_and_approve(
            proposal=proposal,
            actor=request.user,
            final_changes=question.changes,
            note=form.cleaned_data["note"],
            **_gate_answers(form),
        )
    except REFUSALS as refusal:
        return refused(request, proposal, refusal, question)
    # Say what was approved: the reviewer's values, as the redrawn row now shows them.
    edited = load(pk)
    return decided(request, pk, f"Approved with your values: {edited.headline}.", proposal=edited)


@require_POST
@reviewers_only
def proposal_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-check the values being typed into the edit form; answers the verdict list alone."""
    proposal = load(pk)
    form = edit_form(request.POST, proposal=proposal, names={})
    changes = form.partial_changes()
    context = {"proposal": proposal, "form": form, "unusable": changes is None}
    if changes is not None:
        context.update(live_edit(proposal, changes))
    return render(request, EDIT_VERDICTS, context)


@require_http_methods(["GET", "POST"])
@reviewers_only
def proposal_reject(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = load(pk)
    if request.method == "GET":
        if proposal.status != Proposal.Status.PENDING:
            return refused(request, proposal, _not_pending(proposal))
        return ask(request, proposal, Question("reject", RejectForm()))
    form = RejectForm(request.POST)
    question = Question("reject", form)
    if not form.is_valid():
        return ask(request, proposal, question, status=422)
    try:
        review = reviewing.proposal_reject(proposal=proposal, actor=request.user, **form.cleaned_data)
    except REFUSALS as refusal:
        return refused(request, proposal, refusal, question)
    reason = form.cleaned_data["reason_code"].replace("_", " ")
    return decided(request, pk, f"Rejected ({reason}): {proposal.headline}.", proposal=_as_decided(proposal, review))


@require_POST
@reviewers_only
def proposal_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = load(pk)
    form = RollbackForm(request.POST)
    if not form.is_valid():
        # The reason is a one-line input inside the row, not a panel: say what is missing instead.
        message = " ".join(form.errors.get("reason", ["Write why this change is rolled back."]))
        return refused(request, proposal, reviewing.InvalidDecision(message))
    try:
        reviewing.proposal_rollback(proposal=proposal, actor=request.user, reason=form.cleaned_data["reason"])
    except REFUSALS as refusal:
        return refused(request, proposal, refusal)
    return decided(request, pk, "Rollback sent: the previous values are being restored.")


@require_POST
@reviewers_only
def application_retry(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(Application, pk=pk)
    try:
        applying.application_retry(application=application, actor=request.user)
    except REFUSALS as refusal:
        return refused(request, load(application.proposal_id), refusal)
    return decided(request, application.proposal_id, "Sent again.")


@require_POST
@reviewers_only
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve the shown proposals that pass every guardrail now; the service re-checks each one.

    The service counts what it could not approve instead of refusing, so the answer is always
    the queue again with one message saying how many went through and why the rest did not.
    """
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    if not ids:
        messages.info(request, "Nothing to approve: no shown proposal passes every guardrail.")
        return redirect(safe_next(request) or "decisions:queue")
    # Not only pending ones: the service counts those decided meanwhile, so the message can say so.
    proposals = Proposal.objects.filter(pk__in=ids).order_by("-priority", "id")
    left_before = _left_the_queue(ids, request.user)
    result = reviewing.proposals_bulk_approve(proposals=proposals, actor=request.user)
    parts = [f"Approved {result.approved} proposal{'s' if result.approved != 1 else ''}"]
    if result.held_by_guardrails:
        parts.append(f"{result.held_by_guardrails} held back: a guardrail fails now")
    if result.out_of_date:
        parts.append(f"{result.out_of_date} out of date: a campaign moved since it was proposed")
    if result.too_likely_to_lose:
        parts.append(f"{result.too_likely_to_lose} held back: too likely to lose (above the P(loss) cap)")
    if result.already_decided:
        parts += _why_already_decided(result.already_decided, left_before)
    messages.success(request, "; ".join(parts) + ".")
    back = safe_next(request) or reverse("decisions:queue")
    # The queue then shows what this bulk approval did, with "Undo these N approvals".
    return redirect(with_bulk_result(back, result.batch.pk) if result.batch else back)


def with_bulk_result(address: str, batch_id: int) -> str:
    """The address with ?bulk=<id>: the queue shows that bulk approval's proposals and its undo button."""
    parts = urlsplit(address)
    query = QueryDict(parts.query, mutable=True)
    query["bulk"] = str(batch_id)
    return urlunsplit(parts._replace(query=query.urlencode()))


@require_POST
@reviewers_only
def bulk_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Roll back every proposal one bulk approval approved; say which could not be and why."""
    batch = get_object_or_404(BulkApproval, pk=pk)
    back = with_bulk_result(safe_next(request) or reverse("decisions:queue"), batch.pk)
    try:
        result = reviewing.bulk_approval_undo(batch=batch, actor=request.user)
    except REFUSALS as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    count = len(result.rolled_back)
    parts = [f"Rolled back {count} proposal{'s' if count != 1 else ''} of that bulk approval"]
    if result.moved:
        parts.append(
            f"not rolled back, because their campaigns moved since: {', '.join(result.moved_names)} "
            "(set them by hand if needed)"
        )
    if result.not_applied:
        waiting = len(result.not_applied)
        parts.append(
            f"{waiting} not rolled back: not applied yet (roll {'it' if waiting == 1 else 'them'} back from "
            "its page once applied)"
        )
    (messages.warning if result.moved or result.not_applied else messages.success)(request, "; ".join(parts) + ".")
    return redirect(back)


def _left_the_queue(ids: list[int], reviewer) -> dict[str, int]:
    """Of the shown proposals, those no longer pending before the click: the reviewer's own decisions, and those
    that left without anyone's review (expired, superseded, approved by the auto-approval policy)."""
    reviewers = (
        Proposal.objects.filter(pk__in=ids).exclude(status=Proposal.Status.PENDING).values_list("review__reviewer_id")
    )
    who = [reviewer_id for (reviewer_id,) in reviewers]
    return {"mine": who.count(reviewer.pk), "nobody": who.count(None)}


def _why_already_decided(count: int, left_before: dict[str, int]) -> list[str]:
    # Never blame "someone else" for the reviewer's own decisions (a bulk button drawn before they decided a row).
    mine = min(left_before["mine"], count)
    nobody = min(left_before["nobody"], count - mine)
    others = count - mine - nobody
    parts = []
    if mine:
        parts.append(f"{mine} you had already decided")
    if others:
        parts.append(f"{others} already decided by someone else")
    if nobody:
        parts.append(f"{nobody} no longer waiting (expired, replaced by a newer proposal or auto-approved)")
    return parts
