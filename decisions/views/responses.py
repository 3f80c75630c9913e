"""How the review endpoints answer: success, and one mapping from every refusal of the review services.

    refusal                                           status  what the reviewer sees
    InvalidTransition (AlreadyDecided, NotDecidable)  409     the row saying who decided and when, or why nobody can
    ProposalOutOfDate (an InvalidTransition)          409     the row saying which campaign moved since, and to what
    NotRetryable                                      409     the row saying why not
    GuardrailGate (ConfirmationRequired,              200     the question again: confirm the warnings, or
                   OverrideReasonRequired)                    (a guardrail admin) write why a block may be overridden
    PermissionDenied                                  403     the question again, saying who may answer it
    InvalidDecision                                   422     the form again with the error, or the row saying so

An htmx request gets the proposal's row redrawn; a plain POST gets the proposal's page with that row.
When there is nothing to ask again (the proposal moved on, or the endpoint has no form to re-show),
a plain POST goes back where the reviewer came from, with the refusal as a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django_htmx.http import trigger_client_event

from decisions.delivery import outbox as applying
from decisions.models import Proposal
from decisions.review import transitions as reviewing
from decisions.views.proposal import (
    ROW,
    announced,
    live_edit,
    live_verdicts,
    load,
    render_proposal,
    row_context,
    safe_next,
)
from decisions.views.queue import summary_after_decision

# What a decision on the queue page redraws out of band, beside its row (templates/decisions/queue.html).
QUEUE_UPDATES = (
    "decisions/queue.html#queue-count",
    "decisions/queue.html#bulk-approve",
)

STATUS_OF_REFUSAL: dict[type[Exception], int] = {
    reviewing.ProposalOutOfDate: 409,  # a campaign moved since: the change's target would be another move now
    reviewing.InvalidTransition: 409,
    applying.NotRetryable: 409,
    reviewing.GuardrailGate: 200,  # not an error: approving needs one more answer
    PermissionDenied: 403,
    reviewing.InvalidDecision: 422,
}
# What a review endpoint catches around its one service call and hands to `refused`.
REFUSALS = tuple(STATUS_OF_REFUSAL)
# The proposal (or its outbox row) moved on: there is nothing left to ask, only who or what got there first.
CONFLICTS = tuple(kind for kind, status in STATUS_OF_REFUSAL.items() if status == 409)


@dataclass(frozen=True)
class Question:
    """The form a decision puts to the reviewer, in a panel of the row, shown again when the answer is refused."""

    mode: str  # the row panel that holds the form: "gate", "edit" or "reject"
    form: forms.Form
    changes: list[dict] | None = None  # what the guardrails judge: the reviewer's values; None = the proposal's


def status_of(refusal: Exception) -> int:
    for kind, status in STATUS_OF_REFUSAL.items():
        if isinstance(refusal, kind):
            return status
    raise TypeError(f"{type(refusal).__name__} is not a refusal of the review services") from refusal


def ask(request: HttpRequest, proposal: Proposal, question: Question, *, status: int = 200, **extra) -> HttpResponse:
    """Show the question's form in the proposal's row (and say why it is asked again, when it is)."""
    response = render_proposal(request, proposal, status=status, mode=question.mode, form=question.form, **extra)
    return announced(request, response, extra.get("gate_message") or _form_problems(question.form))


def _form_problems(form: forms.Form) -> str:
    if not form.is_bound or form.is_valid():
        return ""
    problems = [str(error) for errors in form.errors.values() for error in errors]
    return "Not saved: " + " ".join(problems)


def refused(
    request: HttpRequest, proposal: Proposal, refusal: Exception, question: Question | None = None
) -> HttpResponse:
    """The one answer to a refused decision, whichever endpoint asked (see the table above)."""
    status = status_of(refusal)
    if question is None or isinstance(refusal, CONFLICTS):
        return _tell(request, proposal.pk, str(refusal), status=status)
    if isinstance(refusal, reviewing.InvalidDecision):
        question.form.add_error(None, str(refusal))
        return ask(request, proposal, question, status=status)
    return ask(request, proposal, question, status=status, **_gate(proposal, question, str(refusal)))


def _gate(proposal: Proposal, question: Question, message: str) -> dict:
    # Every failing verdict, not only the exception's severity: a reviewer answering the
    # warning must also see (and answer) a block that fails beside it.
    # An edit's panel also shows what its values should bring.
    check = live_edit if question.mode == "edit" else live_verdicts
    live = check(proposal, question.changes)
    return {"gate_message": message, "gate": live["live_gate"], **live}


def _tell(request: HttpRequest, pk: int, message: str, *, status: int) -> HttpResponse:
    # Reloaded: when someone decided first, the row shows their decision, never ours.
    if request.htmx:
        context = row_context(request, load(pk), notice=message, notice_kind="error")
        return _row_and_updates(request, context, message, status=status)
    messages.error(request, message)
    return redirect(safe_next(request) or "decisions:queue")


def decided(request: HttpRequest, pk: int, message: str, *, proposal: Proposal | None = None) -> HttpResponse:
    """After a decision: redraw the row in place (htmx) or go back where the reviewer came from.

    `proposal`: the row's proposal as the view already holds it, brought up to date after the decision
    (decisions/views/review.py), so the redraw does not load and present it again.
    """
    if request.htmx:
        proposal = load(pk) if proposal is None else proposal
        return _row_and_updates(request, row_context(request, proposal, notice=message, notice_kind="success"), message)
    messages.success(request, message)
    return redirect(safe_next(request) or "decisions:queue")


def _row_and_updates(request: HttpRequest, context: dict, message: str, *, status: int = 200) -> HttpResponse:
    """The redrawn row, the outcome for the live region and, on the queue page, its counts and bulk button now."""
    response = render(request, ROW, context, status=status)
    summary = summary_after_decision(request)
    if summary is not None:
        for fragment in QUEUE_UPDATES:
            response.content += render_to_string(fragment, {**summary, "oob": True}, request).encode()
        # The expected value waiting is summed by a request of its own (decisions/queue.html#waiting-value).
        trigger_client_event(response, "decided-on-queue")
    return announced(request, response, message)
