"""GET/POST proposals/<pk>/edit/: the edit form, and approving with the reviewer's values.

Edited values meet the guardrails exactly as an approval does: a warning needs a confirmation,
a block needs a guardrail admin and a written reason, and a marketer over a block gets 403.
"""

import datetime as dt

import pytest
from django.utils import timezone

from decisions.audit.actions import Action
from decisions.models import AuditEvent, Proposal, Review
from decisions.review import kinds
from decisions.review import transitions as reviewing
from objectives.models import Severity
from tests.decisions.views.review_support import HTMX, actions, budget_limit, event, status_of, url
from tests.factories import ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db

# ProposalFactory's proposal moves a budget 100 → 120 (+20%); these values move it +50%.
OVER_30_PCT = {"change_0": "150"}


# --- the form and the happy path -----------------------------------------------------------


def test_the_edit_form_holds_the_proposed_numbers(client, reviewer):
    proposal = ProposalFactory()
    body = client.get(url("proposal-edit", proposal.pk), **HTMX).content.decode()
    assert 'value="120.0"' in body and "Save and approve" in body
    assert url("proposal-check", proposal.pk) in body


def test_the_edit_form_without_javascript_is_on_the_proposal_page(client, reviewer):
    proposal = ProposalFactory()
    response = client.get(url("proposal-edit", proposal.pk))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert 'name="change_0"' in body and "Save and approve" in body


def test_edit_and_approve_keeps_both_values_and_is_audited(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110", "note": "Smaller step"}, **HTMX)
    assert response.status_code == 200 and "Edited and approved by Maya Lind" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.changes[0]["to"] == 120.0
    assert proposal.review.final_changes[0]["to"] == 110.0
    assert proposal.review.note == "Smaller step"
    event = AuditEvent.objects.get(proposal=proposal, action=Action.PROPOSAL_EDITED)
    assert event.machine_payload["changes"][0]["to"] == 120.0 and event.human_payload["final_changes"][0]["to"] == 110.0


def test_the_confirmation_after_an_edit_names_the_reviewers_move_not_the_machines(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}, **HTMX)
    said = response.content.decode() + str(response.headers)
    assert "Approved with your values:" in said and "by $10" in said and "by $20" not in said


def test_a_pause_edit_form_shows_no_net_budget_line_and_a_budget_edit_does(client, reviewer):
    pause = ProposalFactory(
        kind=kinds.PAUSE.name,
        changes=[{"campaign": "SIM-1", "field": "status", "from": "active", "to": "paused"}],
    )
    pause.changes[0]["campaign"] = pause.campaign.external_id
    pause.save()
    assert "Net daily budget change" not in client.get(url("proposal-edit", pause.pk), **HTMX).content.decode()
    budget = ProposalFactory()
    assert "Net daily budget change" in client.get(url("proposal-edit", budget.pk), **HTMX).content.decode()


def test_edit_without_javascript_redirects_to_the_queue(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"})
    assert response.status_code == 302 and response["Location"] == url("queue")


def test_saving_the_machines_own_values_is_a_plain_approval(client, reviewer):
    proposal = ProposalFactory()
    client.post(url("proposal-edit", proposal.pk), {"change_0": "120"}, **HTMX)
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.APPROVED
    assert actions(proposal) == [Action.PROPOSAL_APPROVED]


def test_edit_refuses_a_negative_budget(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "-5"}, **HTMX)
    assert response.status_code == 422
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


# --- warn gate -------------------------------------------------------------------------------


def test_editing_into_a_warning_asks_then_logs_the_override(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30, severity=Severity.WARN)
    asked = client.post(url("proposal-edit", proposal.pk), OVER_30_PCT, **HTMX)
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "Confirm that you approve over the warnings." in body and 'name="confirm_warnings"' in body
    assert 'name="change_0"' in body and 'value="150"' in body  # the reviewer's values, not the machine's
    assert status_of(proposal) == Proposal.Status.PENDING and actions(proposal) == []
    confirmed = client.post(url("proposal-edit", proposal.pk), {**OVER_30_PCT, "confirm_warnings": "on"}, **HTMX)
    assert confirmed.status_code == 200 and "Edited and approved by Maya Lind" in confirmed.content.decode()
    assert actions(proposal) == [Action.PROPOSAL_EDITED, Action.PROPOSAL_OVERRIDE_WARN]
    assert Review.objects.get(proposal=proposal).final_changes[0]["to"] == 150.0


def test_editing_into_a_warning_without_javascript_asks_on_the_proposal_page(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30, severity=Severity.WARN)
    asked = client.post(url("proposal-edit", proposal.pk), OVER_30_PCT)
    body = asked.content.decode()
    assert asked.status_code == 200 and "<html" in body
    assert "Confirm that you approve over the warnings." in body and 'name="confirm_warnings"' in body
    confirmed = client.post(url("proposal-edit", proposal.pk), {**OVER_30_PCT, "confirm_warnings": "on"})
    assert confirmed.status_code == 302
    assert actions(proposal) == [Action.PROPOSAL_EDITED, Action.PROPOSAL_OVERRIDE_WARN]


def test_values_that_pass_need_no_confirmation_even_when_the_proposal_warned(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "105"}, **HTMX)
    assert response.status_code == 200
    assert actions(proposal) == [Action.PROPOSAL_EDITED]


# --- block gate ------------------------------------------------------------------------------


def test_edited_values_over_a_block_are_refused_for_a_marketer(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "150"}, **HTMX)
    assert response.status_code == 403
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    body = response.content.decode()
    assert "Only a guardrail admin may approve over a block-level guardrail." in body
    assert "only a guardrail admin can approve these values" in body and 'name="override_reason"' not in body
    assert actions(proposal) == []


def test_a_marketer_editing_over_a_block_without_javascript_gets_403_on_the_proposal_page(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    response = client.post(url("proposal-edit", proposal.pk), OVER_30_PCT)
    body = response.content.decode()
    assert response.status_code == 403 and "<html" in body
    assert "Only a guardrail admin may approve over a block-level guardrail." in body
    assert actions(proposal) == []


def test_a_guardrail_admin_editing_over_a_block_is_asked_for_a_reason(client, admin_reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    asked = client.post(url("proposal-edit", proposal.pk), OVER_30_PCT, **HTMX)
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "Write why this block-level guardrail may be overridden." in body and 'name="override_reason"' in body
    assert status_of(proposal) == Proposal.Status.PENDING and actions(proposal) == []
    answered = {**OVER_30_PCT, "override_reason": "Launch week"}
    approved = client.post(url("proposal-edit", proposal.pk), answered, **HTMX)
    assert approved.status_code == 200 and "Edited and approved by Gus Admin" in approved.content.decode()
    assert actions(proposal) == [Action.PROPOSAL_EDITED, Action.PROPOSAL_OVERRIDE_BLOCK]


def test_a_guardrail_admin_editing_over_a_block_without_javascript_is_asked_on_the_proposal_page(
    client, admin_reviewer
):
    proposal = ProposalFactory()
    budget_limit(30)
    asked = client.post(url("proposal-edit", proposal.pk), OVER_30_PCT)
    body = asked.content.decode()
    assert asked.status_code == 200 and "<html" in body
    assert "Write why this block-level guardrail may be overridden." in body and 'name="override_reason"' in body
    approved = client.post(url("proposal-edit", proposal.pk), {**OVER_30_PCT, "override_reason": "Launch week"})
    assert approved.status_code == 302
    assert actions(proposal) == [Action.PROPOSAL_EDITED, Action.PROPOSAL_OVERRIDE_BLOCK]


# --- already decided (409) --------------------------------------------------------------------


def test_editing_a_decided_proposal_is_refused(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    assert client.get(url("proposal-edit", proposal.pk), **HTMX).status_code == 409
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}, **HTMX)
    assert response.status_code == 409 and "Already approved by ann" in response.content.decode()


def test_editing_a_decided_proposal_without_javascript_redirects_with_who_decided(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}, follow=True)
    assert response.redirect_chain == [(url("queue"), 302)]
    assert "Already approved by ann" in response.content.decode()
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.APPROVED


def test_an_expired_proposal_cannot_be_edited_and_approved(client, reviewer):
    proposal = ProposalFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}, **HTMX)
    assert response.status_code == 409 and "can no longer be decided" in response.content.decode()
    assert actions(proposal) == []


# --- wrong role (403) and wrong method (405) ---------------------------------------------------


def test_a_viewer_gets_403_on_the_form_and_the_post(client):
    proposal = ProposalFactory()
    client.force_login(viewer())
    assert client.get(url("proposal-edit", proposal.pk)).status_code == 403
    assert client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}).status_code == 403
    assert client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}, **HTMX).status_code == 403
    assert status_of(proposal) == Proposal.Status.PENDING and actions(proposal) == []


def test_put_is_405(client, reviewer):
    proposal = ProposalFactory()
    assert client.put(url("proposal-edit", proposal.pk)).status_code == 405
    assert status_of(proposal) == Proposal.Status.PENDING


# --- audit -------------------------------------------------------------------------------------


def test_an_edit_over_a_block_records_the_reviewers_values_and_reason(client, admin_reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    client.post(url("proposal-edit", proposal.pk), {**OVER_30_PCT, "override_reason": "Launch week"}, **HTMX)
    edited = event(proposal, Action.PROPOSAL_EDITED)
    final = [{**proposal.changes[0], "to": 150.0}]
    assert edited.actor == admin_reviewer and edited.reason == "Launch week"
    assert edited.machine_payload["changes"] == proposal.changes
    assert edited.human_payload == {"decision": Review.Decision.EDITED, "final_changes": final, "bulk": False}
    override = event(proposal, Action.PROPOSAL_OVERRIDE_BLOCK)
    assert override.reason == "Launch week"
    assert [(v["severity"], v["passed"]) for v in override.machine_payload["verdicts"]] == [(Severity.BLOCK, False)]
    assert override.human_payload == {"final_changes": final, "confirmed": True}
