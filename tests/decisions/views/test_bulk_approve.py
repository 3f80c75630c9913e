"""POST proposals/bulk-approve/: approve the shown rows that pass every guardrail now, and say what happened.

Bulk approval never approves over a guardrail: a row that warns or blocks now is held back for
one-by-one review, so the warn and block checks here are about what it leaves alone.
"""

import pytest

from decisions.audit.actions import Action
from decisions.models import AuditEvent, BulkApproval, Proposal, Review
from decisions.review import transitions as reviewing
from objectives import guardrails
from objectives.models import Severity
from tests.decisions.views.review_support import HTMX, actions, budget_limit, event, status_of, url
from tests.factories import CampaignFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


def small_move() -> Proposal:
    """+5%: under every cap these tests set."""
    return ProposalFactory(
        campaign=CampaignFactory(external_id="S"),
        changes=[{"campaign": "S", "field": guardrails.BUDGET, "from": 100.0, "to": 105.0}],
    )


# --- what the queue page offers --------------------------------------------------------------


def test_bulk_approve_offers_only_the_shown_rows_that_pass(client, reviewer):
    passing = ProposalFactory(priority=2)
    failing = ProposalFactory(
        priority=1,
        guardrail_verdicts=[{"name": "G", "kind": "cooldown", "severity": "warn", "passed": False, "message": "m"}],
    )
    body = client.get(url("queue")).content.decode()
    assert "Approve all shown that pass every guardrail (1)" in body
    assert f'name="ids" value="{passing.pk}"' in body and f'name="ids" value="{failing.pk}"' not in body


# --- happy path, warn and block ---------------------------------------------------------------


def test_bulk_approve_approves_what_passes_now_and_holds_the_rest(client, reviewer):
    small = small_move()
    big = ProposalFactory()
    decided = ProposalFactory()
    reviewing.proposal_reject(proposal=decided, actor=marketer(), reason_code=Review.Reason.BRAND)
    budget_limit(10)
    response = client.post(url("bulk-approve"), {"ids": [small.pk, big.pk, decided.pk]}, follow=True)
    body = response.content.decode()
    assert "Approved 1 proposal; 1 held back: a guardrail fails now; 1 already decided" in body
    assert Proposal.objects.get(pk=small.pk).status == Proposal.Status.APPROVED
    assert Proposal.objects.get(pk=big.pk).status == Proposal.Status.PENDING
    assert AuditEvent.objects.get(proposal=small).human_payload["bulk"] is True


def test_bulk_approve_goes_back_to_the_page_it_came_from(client, reviewer):
    proposals = [ProposalFactory(), ProposalFactory()]
    response = client.post(url("bulk-approve"), {"ids": [p.pk for p in proposals], "next": "/?page=2"})
    batch = BulkApproval.objects.get()  # the page then shows what it approved, with its undo (test_bulk_undo.py)
    assert response.status_code == 302 and response["Location"] == f"/?page=2&bulk={batch.pk}"
    assert [status_of(p) for p in proposals] == [Proposal.Status.APPROVED] * 2


def test_a_warning_holds_a_proposal_back_without_asking(client, reviewer):
    small, warned = small_move(), ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    response = client.post(url("bulk-approve"), {"ids": [small.pk, warned.pk]}, follow=True)
    assert "Approved 1 proposal; 1 held back: a guardrail fails now." in response.content.decode()
    assert status_of(warned) == Proposal.Status.PENDING and actions(warned) == []


def test_a_block_holds_a_proposal_back_even_for_a_guardrail_admin(client, admin_reviewer):
    blocked = ProposalFactory()
    budget_limit(10)
    response = client.post(url("bulk-approve"), {"ids": [blocked.pk]}, follow=True)
    assert "Approved 0 proposals; 1 held back: a guardrail fails now." in response.content.decode()
    assert status_of(blocked) == Proposal.Status.PENDING and actions(blocked) == []


def test_nothing_to_approve_says_so(client, reviewer):
    response = client.post(url("bulk-approve"), {"ids": ["not-a-number"]}, follow=True)
    assert "Nothing to approve: no shown proposal passes every guardrail." in response.content.decode()


# --- already decided: counted, never decided twice (a 409 has no single row to show here) -----


def test_proposals_decided_meanwhile_are_counted_not_decided_again(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    response = client.post(url("bulk-approve"), {"ids": [proposal.pk]}, follow=True)
    assert "Approved 0 proposals; 1 already decided by someone else." in response.content.decode()
    assert Review.objects.filter(proposal=proposal).count() == 1 and actions(proposal) == [Action.PROPOSAL_APPROVED]


# --- wrong role (403) and wrong method (405) ---------------------------------------------------


def test_a_viewer_gets_403_and_nothing_is_approved(client):
    proposal = ProposalFactory()
    client.force_login(viewer())
    assert client.post(url("bulk-approve"), {"ids": [proposal.pk]}).status_code == 403
    assert client.post(url("bulk-approve"), {"ids": [proposal.pk]}, **HTMX).status_code == 403
    assert status_of(proposal) == Proposal.Status.PENDING and actions(proposal) == []


def test_get_is_405(client, reviewer):
    proposal = ProposalFactory()
    assert client.get(url("bulk-approve")).status_code == 405
    assert status_of(proposal) == Proposal.Status.PENDING


# --- audit -------------------------------------------------------------------------------------


def test_each_bulk_approval_is_its_own_event_marked_bulk(client, reviewer):
    proposals = [ProposalFactory(), ProposalFactory()]
    client.post(url("bulk-approve"), {"ids": [p.pk for p in proposals]})
    for proposal in proposals:
        approved = event(proposal, Action.PROPOSAL_APPROVED)
        assert approved.actor == reviewer and approved.machine_payload["changes"] == proposal.changes
        assert approved.human_payload == {
            "decision": Review.Decision.APPROVED,
            "final_changes": proposal.changes,
            "bulk": True,
        }
