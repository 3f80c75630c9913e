"""POST proposals/<pk>/check/: the edit form's live re-check; answers the verdict list, decides nothing."""

import pytest

from decisions.models import AuditEvent, Proposal
from decisions.review import transitions as reviewing
from objectives.models import Severity
from tests.decisions.views.review_support import HTMX, budget_limit, status_of, url
from tests.factories import ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


def test_the_live_check_shows_a_violation_and_its_fix(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    over = client.post(url("proposal-check", proposal.pk), {"change_0": "150"}).content.decode()
    assert '<span class="badge block">block</span>' in over and "only a guardrail admin" in over
    fixed = client.post(url("proposal-check", proposal.pk), {"change_0": "125"}).content.decode()
    assert '<span class="badge block">' not in fixed and '<span class="badge pass">pass</span>' in fixed
    unusable = client.post(url("proposal-check", proposal.pk), {"change_0": "abc"}).content.decode()
    assert "Enter a number" in unusable


def test_the_live_check_answers_only_the_verdict_list(client, reviewer):
    proposal = ProposalFactory()
    body = client.post(url("proposal-check", proposal.pk), {"change_0": "110"}, **HTMX).content.decode()
    assert body.lstrip().startswith(f'<div id="verdicts-{proposal.pk}"') and "<html" not in body


def test_a_warning_offers_the_confirmation_before_saving(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30, severity=Severity.WARN)
    body = client.post(url("proposal-check", proposal.pk), {"change_0": "150"}, **HTMX).content.decode()
    assert '<span class="badge warn">warn</span>' in body and 'name="confirm_warnings"' in body


def test_a_block_offers_a_guardrail_admin_the_reason_box(client, admin_reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    body = client.post(url("proposal-check", proposal.pk), {"change_0": "150"}, **HTMX).content.decode()
    assert '<span class="badge block">block</span>' in body and 'name="override_reason"' in body


def test_checking_decides_and_records_nothing(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    client.post(url("proposal-check", proposal.pk), {"change_0": "150"}, **HTMX)
    assert status_of(proposal) == Proposal.Status.PENDING and not AuditEvent.objects.exists()


def test_checking_a_decided_proposal_still_answers(client, reviewer):
    # The form may outlive the proposal's pending state; the save, not the check, says who decided.
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert client.post(url("proposal-check", proposal.pk), {"change_0": "110"}, **HTMX).status_code == 200


def test_a_viewer_gets_403(client):
    proposal = ProposalFactory()
    client.force_login(viewer())
    assert client.post(url("proposal-check", proposal.pk), {"change_0": "110"}).status_code == 403
    assert client.post(url("proposal-check", proposal.pk), {"change_0": "110"}, **HTMX).status_code == 403


def test_get_is_405(client, reviewer):
    proposal = ProposalFactory()
    assert client.get(url("proposal-check", proposal.pk)).status_code == 405
    assert status_of(proposal) == Proposal.Status.PENDING
