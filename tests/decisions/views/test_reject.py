"""GET/POST proposals/<pk>/reject/: the reason form, and rejecting with a reason the weekly report counts."""

import pytest

from decisions.audit.actions import Action
from decisions.models import AuditEvent, Proposal, Review
from decisions.review import transitions as reviewing
from objectives.models import Severity
from tests.decisions.views.review_support import HTMX, actions, budget_limit, event, status_of, url
from tests.factories import ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


# --- the form and the happy path -----------------------------------------------------------


def test_reject_needs_a_reason(client, reviewer):
    proposal = ProposalFactory()
    form = client.get(url("proposal-reject", proposal.pk), **HTMX).content.decode()
    assert "Confirm rejection" in form and f'value="{Review.Reason.TOO_RISKY}"' in form
    response = client.post(url("proposal-reject", proposal.pk), {"note": "no"}, **HTMX)
    assert response.status_code == 422 and "Choose a reason" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_reject_with_a_reason_is_recorded(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(
        url("proposal-reject", proposal.pk), {"reason_code": Review.Reason.TIMING, "note": "After launch"}
    )
    assert response.status_code == 302
    review = Review.objects.get(proposal=proposal)
    assert (review.decision, review.reason_code, review.note) == (
        Review.Decision.REJECTED,
        Review.Reason.TIMING,
        "After launch",
    )
    event = AuditEvent.objects.get(proposal=proposal)
    assert (event.action, event.reason) == (Action.PROPOSAL_REJECTED, "After launch")


def test_reject_over_htmx_redraws_the_row_with_the_decision(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-reject", proposal.pk), {"reason_code": Review.Reason.BRAND}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith(f'<tbody id="proposal-{proposal.pk}"')
    assert "Rejected by Maya Lind" in body and "Rejected (brand): Raise " in body


def test_reject_without_javascript_shows_the_form_on_the_proposal_page(client, reviewer):
    proposal = ProposalFactory()
    form = client.get(url("proposal-reject", proposal.pk))
    assert form.status_code == 200 and "<html" in form.content.decode()
    assert "Confirm rejection" in form.content.decode()
    missing = client.post(url("proposal-reject", proposal.pk), {"note": "no"})
    assert missing.status_code == 422 and "Choose a reason" in missing.content.decode()


# --- warn and block: a failing guardrail never stands in the way of saying no --------------------


@pytest.mark.parametrize("severity", [Severity.WARN, Severity.BLOCK])
def test_a_failing_guardrail_asks_nothing_before_a_rejection(client, reviewer, severity):
    proposal = ProposalFactory()
    budget_limit(10, severity=severity)
    response = client.post(url("proposal-reject", proposal.pk), {"reason_code": Review.Reason.TOO_RISKY}, **HTMX)
    assert response.status_code == 200 and 'name="confirm_warnings"' not in response.content.decode()
    assert actions(proposal) == [Action.PROPOSAL_REJECTED]


# --- already decided (409) --------------------------------------------------------------------


def test_rejecting_a_decided_proposal_is_409(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    response = client.post(url("proposal-reject", proposal.pk), {"reason_code": Review.Reason.BRAND}, **HTMX)
    assert response.status_code == 409 and "Already approved by ann" in response.content.decode()


def test_the_reject_form_of_a_decided_proposal_is_409(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    response = client.get(url("proposal-reject", proposal.pk), **HTMX)
    assert response.status_code == 409 and "Already approved by ann" in response.content.decode()


# --- wrong role (403) and wrong method (405) ---------------------------------------------------


def test_a_viewer_gets_403_on_the_form_and_the_post(client):
    proposal = ProposalFactory()
    client.force_login(viewer())
    assert client.get(url("proposal-reject", proposal.pk)).status_code == 403
    data = {"reason_code": Review.Reason.BRAND}
    assert client.post(url("proposal-reject", proposal.pk), data).status_code == 403
    assert client.post(url("proposal-reject", proposal.pk), data, **HTMX).status_code == 403
    assert status_of(proposal) == Proposal.Status.PENDING and actions(proposal) == []


def test_delete_is_405(client, reviewer):
    proposal = ProposalFactory()
    assert client.delete(url("proposal-reject", proposal.pk)).status_code == 405
    assert status_of(proposal) == Proposal.Status.PENDING


# --- audit -------------------------------------------------------------------------------------


def test_the_rejection_event_keeps_the_machines_values_and_the_reason_code(client, reviewer):
    proposal = ProposalFactory()
    client.post(url("proposal-reject", proposal.pk), {"reason_code": Review.Reason.TIMING, "note": " Later "}, **HTMX)
    rejected = event(proposal, Action.PROPOSAL_REJECTED)
    assert rejected.actor == reviewer and rejected.reason == "Later"
    assert rejected.machine_payload["changes"] == proposal.changes
    assert rejected.human_payload == {"decision": Review.Decision.REJECTED, "reason_code": Review.Reason.TIMING}
