"""POST proposals/bulk-approve/<id>/undo/: roll back, as one step, every proposal one bulk approval approved.

"Approve all that pass" lands on the queue with ?bulk=<id>: what it approved, and "Undo these N approvals".
"""

from decimal import Decimal

import pytest

from decisions.audit.actions import Action
from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, BulkApproval, Campaign, Proposal
from decisions.review import transitions as reviewing
from tests.decisions.views.review_support import status_of, url
from tests.factories import CampaignFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


def two_proposals() -> list[Proposal]:
    return [
        ProposalFactory(campaign=CampaignFactory(external_id="A", name="Search – Brand"), priority=2),
        ProposalFactory(campaign=CampaignFactory(external_id="B", name="Social – Prospects"), priority=1),
    ]


def bulk_approved(proposals: list[Proposal], *, applied: bool = True) -> BulkApproval:
    result = reviewing.proposals_bulk_approve(proposals=proposals, actor=marketer())
    if applied:
        for application in Application.objects.filter(proposal__in=proposals):
            applying.application_apply(application_id=application.pk)
    return result.batch


def undo(client, batch: BulkApproval, **kwargs):
    return client.post(url("bulk-undo", batch.pk), {"next": url("queue")}, **kwargs)


# --- what "Approve all that pass" leaves behind ---------------------------------------------------


def test_bulk_approval_records_what_it_approved_and_lands_on_its_result(client, reviewer):
    proposals = two_proposals()
    response = client.post(url("bulk-approve"), {"ids": [p.pk for p in proposals], "next": url("queue")})
    batch = BulkApproval.objects.get()
    assert sorted(batch.proposal_ids) == sorted(p.pk for p in proposals)
    assert batch.reviewer_id == reviewer.pk and batch.undone_at is None
    assert response.status_code == 302 and response.url == f"{url('queue')}?bulk={batch.pk}"
    body = client.get(response.url).content.decode()
    assert "Bulk approval of 2 proposals" in body
    assert "Undo these 2 approvals" in body
    assert f'action="{url("bulk-undo", batch.pk)}"' in body


def test_a_bulk_approval_that_approves_nothing_records_nothing(client, reviewer):
    decided = ProposalFactory()
    reviewing.proposal_approve(proposal=decided, actor=marketer())
    response = client.post(url("bulk-approve"), {"ids": [decided.pk], "next": url("queue")})
    assert response.url == url("queue")
    assert not BulkApproval.objects.exists()


def test_a_viewer_sees_the_result_without_the_undo_button(client):
    batch = bulk_approved(two_proposals())
    client.force_login(viewer())
    body = client.get(f"{url('queue')}?bulk={batch.pk}").content.decode()
    assert "Bulk approval of 2 proposals" in body and "Undo these" not in body


# --- happy path -----------------------------------------------------------------------------------


def test_undo_rolls_back_every_proposal_as_one_step_and_is_audited(client, reviewer):
    proposals = two_proposals()
    batch = bulk_approved(proposals)
    assert {status_of(p) for p in proposals} == {Proposal.Status.APPLIED}

    response = undo(client, batch, follow=True)

    body = response.content.decode()
    assert "Rolled back 2 proposals of that bulk approval." in body
    assert response.redirect_chain == [(f"{url('queue')}?bulk={batch.pk}", 302)]
    assert {status_of(p) for p in proposals} == {Proposal.Status.ROLLED_BACK}
    for proposal in proposals:
        rollback = Application.objects.get(proposal=proposal, direction=Application.Direction.ROLLBACK)
        assert rollback.changes[0]["to"] == 100.0
        rolled = AuditEvent.objects.get(proposal=proposal, action=Action.PROPOSAL_ROLLED_BACK)
        assert rolled.actor_id == reviewer.pk and rolled.reason == reviewing.BULK_UNDO_REASON
    event = AuditEvent.objects.get(action=Action.BULK_APPROVAL_UNDONE)
    assert event.actor_id == reviewer.pk and event.proposal_id is None
    assert event.machine_payload["bulk_approval"] == batch.pk
    assert sorted(event.machine_payload["proposal_ids"]) == sorted(p.pk for p in proposals)
    assert sorted(event.human_payload["rolled_back"]) == sorted(p.pk for p in proposals)
    batch.refresh_from_db()
    assert batch.undone_at is not None and batch.undone_by_id == reviewer.pk
    # The result now shows the rows rolled back, and offers no second undo.
    assert body.count('class="status-pill rolled_back"') == 2
    assert "Undo these" not in body and "undone by Maya Lind" in body


def test_a_campaign_that_moved_since_is_named_and_the_others_still_roll_back(client, reviewer):
    moved, kept = two_proposals()
    batch = bulk_approved([moved, kept])
    Campaign.objects.filter(external_id="A").update(daily_budget=Decimal("150.00"))  # an import since

    body = undo(client, batch, follow=True).content.decode()

    assert status_of(moved) == Proposal.Status.APPLIED
    assert status_of(kept) == Proposal.Status.ROLLED_BACK
    assert (
        "Rolled back 1 proposal of that bulk approval; not rolled back, because their campaigns moved since: " in body
    )
    assert "Search – Brand" in body
    assert not Application.objects.filter(proposal=moved, direction=Application.Direction.ROLLBACK).exists()
    event = AuditEvent.objects.get(action=Action.BULK_APPROVAL_UNDONE)
    assert event.human_payload["moved_since"] == [moved.pk]
    assert event.human_payload["moved_campaigns"] == ["Search – Brand"]
    assert not AuditEvent.objects.filter(proposal=moved, action=Action.PROPOSAL_ROLLED_BACK).exists()


# --- wrong state ------------------------------------------------------------------------------------


def test_a_bulk_approval_is_undone_once(client, reviewer):
    batch = bulk_approved(two_proposals())
    undo(client, batch)
    body = undo(client, batch, follow=True).content.decode()
    assert "These approvals were already undone by Maya Lind" in body
    assert AuditEvent.objects.filter(action=Action.BULK_APPROVAL_UNDONE).count() == 1
    assert Application.objects.filter(direction=Application.Direction.ROLLBACK).count() == 2


def test_nothing_to_undo_when_every_proposal_is_already_rolled_back(client, reviewer):
    proposals = two_proposals()
    batch = bulk_approved(proposals)
    for proposal in proposals:
        reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="one by one")

    body = undo(client, batch, follow=True).content.decode()

    assert "Nothing to undo: every proposal of this bulk approval is already rolled back." in body
    batch.refresh_from_db()
    assert batch.undone_at is None  # the refused undo claimed nothing
    assert not AuditEvent.objects.filter(action=Action.BULK_APPROVAL_UNDONE).exists()


def test_nothing_to_undo_yet_while_the_approvals_are_not_applied(client, reviewer):
    proposals = two_proposals()
    batch = bulk_approved(proposals, applied=False)
    body = undo(client, batch, follow=True).content.decode()
    assert "Nothing to undo yet: these approvals have not been applied." in body
    assert {status_of(p) for p in proposals} == {Proposal.Status.APPROVED}
    batch.refresh_from_db()
    assert batch.undone_at is None


# --- who and how -------------------------------------------------------------------------------------


def test_a_viewer_may_not_undo(client):
    proposals = two_proposals()
    batch = bulk_approved(proposals)
    client.force_login(viewer())
    assert undo(client, batch).status_code == 403
    assert {status_of(p) for p in proposals} == {Proposal.Status.APPLIED}
    assert not AuditEvent.objects.filter(action=Action.BULK_APPROVAL_UNDONE).exists()


def test_undo_is_post_only(client, reviewer):
    batch = bulk_approved(two_proposals())
    assert client.get(url("bulk-undo", batch.pk)).status_code == 405
    batch.refresh_from_db()
    assert batch.undone_at is None


def test_an_unknown_bulk_approval_is_404(client, reviewer):
    assert client.post(url("bulk-undo", 999_999)).status_code == 404
