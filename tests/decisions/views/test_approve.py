"""POST proposals/<pk>/approve/: approve as proposed; over a guardrail only with the answer it needs."""

import datetime as dt

import pytest
from django.utils import timezone

from decisions.audit.actions import Action
from decisions.models import AuditEvent, Proposal, Review
from decisions.review import transitions as reviewing
from objectives.models import Severity
from tests.decisions.views.review_support import HTMX, actions, budget_limit, event, status_of, url
from tests.factories import ProposalFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db


# --- happy path ----------------------------------------------------------------------------


def test_approve_redirects_back_with_a_message_and_is_audited(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), {"next": "/?kind=pause"})
    assert response.status_code == 302 and response["Location"] == "/?kind=pause"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert proposal.review.reviewer == reviewer
    assert actions(proposal) == [Action.PROPOSAL_APPROVED]


def test_approve_without_javascript_says_what_was_approved(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [(url("queue"), 302)]
    assert "Approved: Raise " in body and "daily budget by $20.00." in body


def test_approve_refuses_a_next_on_another_site(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), {"next": "https://evil.example/"})
    assert response["Location"] == url("queue")


def test_approve_over_htmx_redraws_the_row_in_place(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tbody id="proposal-{proposal.pk}"')
    assert "Approved as proposed by Maya Lind" in body
    assert ">Approve</button>" not in body


def test_approving_an_unknown_proposal_is_404(client, reviewer):
    assert client.post(url("proposal-approve", 999)).status_code == 404


# --- warn gate -------------------------------------------------------------------------------


def test_approving_over_a_warning_asks_then_logs_the_override(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    asked = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert asked.status_code == 200
    assert 'name="confirm_warnings"' in asked.content.decode()
    assert "Confirm that you approve over the warnings." in asked.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    client.post(url("proposal-approve", proposal.pk), {"confirm_warnings": "on"}, **HTMX)
    assert actions(proposal) == [Action.PROPOSAL_APPROVED, Action.PROPOSAL_OVERRIDE_WARN]


def test_approve_without_javascript_shows_the_guardrail_question_on_the_proposal_page(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    response = client.post(url("proposal-approve", proposal.pk))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body and 'name="confirm_warnings"' in body
    confirmed = client.post(url("proposal-approve", proposal.pk), {"confirm_warnings": "on"})
    assert confirmed.status_code == 302
    assert status_of(proposal) == Proposal.Status.APPROVED


# --- block gate ------------------------------------------------------------------------------


def test_a_marketer_cannot_approve_over_a_block(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10)
    response = client.post(url("proposal-approve", proposal.pk), {"override_reason": "please"}, **HTMX)
    assert response.status_code == 403
    assert "Only a guardrail admin" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    assert actions(proposal) == []


def test_a_marketer_over_a_block_without_javascript_is_told_whom_to_ask(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10)
    response = client.post(url("proposal-approve", proposal.pk))
    body = response.content.decode()
    assert response.status_code == 403 and "<html" in body
    assert "Only a guardrail admin" in body and "Ask a guardrail admin to approve it" in body
    assert 'name="override_reason"' not in body
    assert actions(proposal) == []


def test_a_guardrail_admin_approves_over_a_block_with_a_reason(client):
    proposal = ProposalFactory()
    budget_limit(10)
    client.force_login(guardrail_admin())
    asked = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert 'name="override_reason"' in asked.content.decode()
    client.post(url("proposal-approve", proposal.pk), {"override_reason": "Launch week"}, **HTMX)
    assert actions(proposal) == [Action.PROPOSAL_APPROVED, Action.PROPOSAL_OVERRIDE_BLOCK]
    assert AuditEvent.objects.get(proposal=proposal, action=Action.PROPOSAL_OVERRIDE_BLOCK).reason == "Launch week"


def test_a_guardrail_admin_without_javascript_is_asked_for_a_reason(client, admin_reviewer):
    proposal = ProposalFactory()
    budget_limit(10)
    asked = client.post(url("proposal-approve", proposal.pk))
    body = asked.content.decode()
    assert asked.status_code == 200 and "<html" in body
    assert "Write why this block-level guardrail may be overridden." in body and 'name="override_reason"' in body
    assert status_of(proposal) == Proposal.Status.PENDING
    approved = client.post(url("proposal-approve", proposal.pk), {"override_reason": "Launch week"})
    assert approved.status_code == 302
    assert actions(proposal) == [Action.PROPOSAL_APPROVED, Action.PROPOSAL_OVERRIDE_BLOCK]


def test_a_reason_for_the_block_does_not_answer_a_warning_beside_it(client, admin_reviewer):
    proposal = ProposalFactory()
    budget_limit(10)
    budget_limit(15, severity=Severity.WARN)
    asked = client.post(url("proposal-approve", proposal.pk), {"override_reason": "Launch week"}, **HTMX)
    body = asked.content.decode()
    assert asked.status_code == 200 and "Confirm that you approve over the warnings." in body
    # Both questions stay on screen, the reason already written kept in its box.
    assert 'name="confirm_warnings"' in body and "Launch week</textarea>" in body
    answered = {"override_reason": "Launch week", "confirm_warnings": "on"}
    client.post(url("proposal-approve", proposal.pk), answered, **HTMX)
    overrides = [Action.PROPOSAL_OVERRIDE_BLOCK, Action.PROPOSAL_OVERRIDE_WARN]
    assert actions(proposal) == [Action.PROPOSAL_APPROVED, *overrides]


# --- already decided (409) --------------------------------------------------------------------


def test_a_second_approval_over_htmx_is_409_with_who_decided(client, reviewer):
    proposal = ProposalFactory()
    first = marketer(first_name="Ann", last_name="Lee")
    reviewing.proposal_approve(proposal=proposal, actor=first)
    response = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert response.status_code == 409
    assert "Already approved by Ann Lee" in response.content.decode()
    assert Review.objects.filter(proposal=proposal).count() == 1
    assert actions(proposal) == [Action.PROPOSAL_APPROVED]


def test_a_second_approval_without_htmx_redirects_with_who_decided(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_reject(proposal=proposal, actor=marketer(username="ann"), reason_code=Review.Reason.BRAND)
    response = client.post(url("proposal-approve", proposal.pk), follow=True)
    assert "Already rejected by ann" in response.content.decode()
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.REJECTED


def test_a_late_answer_to_the_guardrail_question_hears_who_decided_first(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"), confirm_warnings=True)
    response = client.post(url("proposal-approve", proposal.pk), {"confirm_warnings": "on"}, **HTMX)
    assert response.status_code == 409 and "Already approved by ann" in response.content.decode()
    assert actions(proposal) == [Action.PROPOSAL_APPROVED, Action.PROPOSAL_OVERRIDE_WARN]


def test_an_expired_proposal_cannot_be_approved(client, reviewer):
    proposal = ProposalFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert response.status_code == 409
    assert "can no longer be decided" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


# --- wrong role (403) and wrong method (405) ---------------------------------------------------


def test_a_viewer_gets_403_and_nothing_is_recorded(client):
    proposal = ProposalFactory()
    client.force_login(viewer())
    assert client.post(url("proposal-approve", proposal.pk)).status_code == 403
    assert client.post(url("proposal-approve", proposal.pk), **HTMX).status_code == 403
    assert status_of(proposal) == Proposal.Status.PENDING and actions(proposal) == []


def test_get_is_405(client, reviewer):
    proposal = ProposalFactory()
    assert client.get(url("proposal-approve", proposal.pk)).status_code == 405
    assert status_of(proposal) == Proposal.Status.PENDING


# --- audit -------------------------------------------------------------------------------------


def test_the_approval_event_keeps_the_machines_values_and_the_decision(client, reviewer):
    proposal = ProposalFactory()
    client.post(url("proposal-approve", proposal.pk), **HTMX)
    approved = event(proposal, Action.PROPOSAL_APPROVED)
    assert approved.actor == reviewer and approved.reason == ""
    assert approved.machine_payload["changes"] == proposal.changes
    assert approved.machine_payload["verdicts"] == []
    assert approved.human_payload == {
        "decision": Review.Decision.APPROVED,
        "final_changes": proposal.changes,
        "bulk": False,
    }


def test_an_override_event_names_the_verdict_it_overrode(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    client.post(url("proposal-approve", proposal.pk), {"confirm_warnings": "on"}, **HTMX)
    override = event(proposal, Action.PROPOSAL_OVERRIDE_WARN)
    assert override.actor == reviewer
    assert [(v["severity"], v["passed"]) for v in override.machine_payload["verdicts"]] == [(Severity.WARN, False)]
    assert override.human_payload == {"final_changes": proposal.changes, "confirmed": True}
