"""POST proposals/<pk>/rollback/: send the inverse of an applied change, with a reason."""

import pytest

from decisions.audit.actions import Action
from decisions.models import Application, AuditEvent, Proposal
from tests.decisions.views.review_support import (
    HTMX,
    actions,
    applied_proposal,
    budget_limit,
    event,
    status_of,
    url,
)
from tests.factories import ProposalFactory, viewer

pytestmark = pytest.mark.django_db


# --- happy path ----------------------------------------------------------------------------


def test_rollback_sends_the_inverse_change_and_is_audited(client, reviewer):
    proposal = applied_proposal()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, **HTMX)
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ROLLED_BACK
    rollback = Application.objects.get(proposal=proposal, direction=Application.Direction.ROLLBACK)
    assert rollback.changes[0]["to"] == 100.0
    assert AuditEvent.objects.get(proposal=proposal, action=Action.PROPOSAL_ROLLED_BACK).reason == "Sales pushed back"


def test_rollback_without_javascript_redirects_with_a_message(client, reviewer):
    proposal = applied_proposal()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, follow=True)
    assert response.redirect_chain == [(url("queue"), 302)]
    assert "Rollback sent: the previous values are being restored." in response.content.decode()


def test_an_applied_row_offers_rollback(client, reviewer):
    proposal = applied_proposal()
    body = client.get(url("proposal", proposal.pk)).content.decode()
    assert ">Rollback</button>" in body and "Applied" in body


def test_rollback_needs_a_reason(client, reviewer):
    proposal = applied_proposal()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": ""}, **HTMX)
    assert response.status_code == 422
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED
    assert "Write why this change is rolled back." in response.content.decode()


# --- warn and block: guardrails judge new changes, never the undoing of one ------------------------


def test_a_guardrail_failing_now_does_not_stand_in_the_way_of_a_rollback(client, reviewer):
    proposal = applied_proposal()
    budget_limit(5)  # the inverse move, 120 → 100, is about 17%
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, **HTMX)
    assert response.status_code == 200 and status_of(proposal) == Proposal.Status.ROLLED_BACK


# --- wrong state (409) --------------------------------------------------------------------------


def test_rollback_of_a_pending_proposal_is_refused(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "x"}, **HTMX)
    assert response.status_code == 409 and "Only an applied proposal" in response.content.decode()


def test_a_second_rollback_is_409(client, reviewer):
    proposal = applied_proposal()
    client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, **HTMX)
    again = client.post(url("proposal-rollback", proposal.pk), {"reason": "Twice"}, **HTMX)
    assert again.status_code == 409 and "this one is rolled_back" in again.content.decode()
    assert Application.objects.filter(proposal=proposal, direction=Application.Direction.ROLLBACK).count() == 1


# --- wrong role (403) and wrong method (405) ---------------------------------------------------


def test_a_viewer_gets_403_and_nothing_is_recorded(client):
    proposal = applied_proposal()
    before = actions(proposal)
    client.force_login(viewer())
    assert client.post(url("proposal-rollback", proposal.pk), {"reason": "x"}).status_code == 403
    assert client.post(url("proposal-rollback", proposal.pk), {"reason": "x"}, **HTMX).status_code == 403
    assert status_of(proposal) == Proposal.Status.APPLIED and actions(proposal) == before


def test_get_is_405(client, reviewer):
    proposal = ProposalFactory()
    assert client.get(url("proposal-rollback", proposal.pk)).status_code == 405
    assert status_of(proposal) == Proposal.Status.PENDING


# --- audit -------------------------------------------------------------------------------------


def test_the_rollback_event_keeps_what_was_applied_and_its_inverse(client, reviewer):
    proposal = applied_proposal()
    client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, **HTMX)
    rolled_back = event(proposal, Action.PROPOSAL_ROLLED_BACK)
    change = proposal.changes[0]
    assert rolled_back.actor == reviewer
    assert rolled_back.machine_payload == {"changes": proposal.changes, "applied_changes": proposal.changes}
    assert rolled_back.human_payload == {"inverse_changes": [{**change, "from": change["to"], "to": change["from"]}]}
