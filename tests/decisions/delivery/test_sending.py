"""Claim, send, record: the remote call happens with no transaction open and no row locked, and a row is
still sent by one worker at a time and recorded once."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from decisions.delivery import connectors
from decisions.delivery import outbox as applying
from decisions.delivery import tasks as outbox_tasks
from decisions.models import Application, AuditEvent, Campaign, Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, ProposalFactory, marketer


def approved_row(proposal: Proposal | None = None) -> Application:
    """An approved proposal's outbox row, not sent yet (on_commit never fires inside a django_db test)."""
    proposal = proposal or ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    return Application.objects.get(proposal=proposal)


def claimed_by_another_worker(application: Application, *, ago: dt.timedelta) -> None:
    since = timezone.now() - ago
    Application.objects.filter(pk=application.pk).update(sending_since=since, attempts=1, updated_at=since)


def row_lock_is_free(model, pk: int) -> bool:
    """From this thread's own connection: can the row be locked at once (PostgreSQL's FOR UPDATE NOWAIT)?"""
    try:
        with transaction.atomic():
            model.objects.select_for_update(nowait=True).filter(pk=pk).exists()
        return True
    except DatabaseError:
        return False


@pytest.mark.django_db(transaction=True)
def test_the_webhook_is_called_with_no_transaction_open_and_no_row_locked(receiver):
    sender = connections["default"]  # the connection of this thread, which the outbox sends from
    seen = {}

    def inspect_sender(body: dict) -> None:
        # Runs in the receiver's thread while the sender waits for the answer.
        seen["sender_in_transaction"] = sender.in_atomic_block or not sender.get_autocommit()
        try:
            row = Application.objects.get(pk=body["application"])
            seen["claimed"] = (row.status, row.attempts, row.sending_since is not None)
            if connection.vendor == "postgresql":
                seen["application_lock_free"] = row_lock_is_free(Application, row.pk)
                seen["proposal_lock_free"] = row_lock_is_free(Proposal, row.proposal_id)
        finally:
            connection.close()  # this thread's connection, not the sender's

    server = receiver([], on_request=inspect_sender)
    proposal = ProposalFactory()

    # A real commit: the approval's on-commit hook runs the task (eagerly), which sends.
    reviewing.proposal_approve(proposal=proposal, actor=marketer())

    assert len(server.requests) == 1
    assert seen["sender_in_transaction"] is False
    # The claim was committed before the call: another connection sees the row being sent.
    assert seen["claimed"] == (Application.Status.PENDING, 1, True)
    if connection.vendor == "postgresql":
        assert seen["application_lock_free"] and seen["proposal_lock_free"]
    application = Application.objects.get(proposal=proposal)
    assert (application.status, application.attempts, application.sending_since) == (
        Application.Status.SUCCEEDED,
        1,
        None,
    )
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED


@pytest.mark.django_db
def test_a_row_another_worker_is_sending_is_left_to_that_worker():
    application = approved_row()
    claimed_by_another_worker(application, ago=dt.timedelta(seconds=5))

    again = applying.application_apply(application_id=application.pk)

    assert (again.status, again.attempts) == (Application.Status.PENDING, 1)
    assert Campaign.objects.get(pk=application.proposal.campaign_id).daily_budget == Decimal("100.00")
    assert not AuditEvent.objects.filter(action__startswith="application.").exists()
    # A redelivered task neither sends nor spins waiting: the claim's holder records the outcome.
    assert outbox_tasks.apply_application.delay(application.pk).get() == Application.Status.PENDING


@pytest.mark.django_db
def test_a_row_whose_worker_died_mid_send_is_resent_by_the_sweep_with_the_same_key(
    receiver, django_capture_on_commit_callbacks
):
    server = receiver([])
    application = approved_row()
    claimed_by_another_worker(application, ago=applying.SEND_LEASE + dt.timedelta(seconds=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_tasks.sweep_outbox.delay().get() == 1

    application.refresh_from_db()
    assert (application.status, application.attempts) == (Application.Status.SUCCEEDED, 2)
    assert [r["key"] for r in server.requests] == [application.idempotency_key]
    assert Proposal.objects.get(pk=application.proposal_id).status == Proposal.Status.APPLIED


class _OvertakenConnector:
    """A remote send that outlives its claim: while it waits, another worker re-claims the row."""

    name = "overtaken"
    local = False

    def send(self, application) -> dict:
        Application.objects.filter(pk=application.pk).update(sending_since=timezone.now() + dt.timedelta(seconds=1))
        return {"status": 200}


@pytest.mark.django_db
def test_a_worker_that_lost_its_claim_records_nothing(monkeypatch):
    monkeypatch.setitem(connectors.REGISTRY, _OvertakenConnector.name, _OvertakenConnector())
    application = approved_row()
    Application.objects.filter(pk=application.pk).update(connector=_OvertakenConnector.name)

    result = applying.application_apply(application_id=application.pk)

    assert result.status == Application.Status.PENDING
    assert result.sending_since is not None  # still the other worker's, for it to record
    assert not AuditEvent.objects.filter(action="application.succeeded").exists()
    assert Proposal.objects.get(pk=application.proposal_id).status == Proposal.Status.APPROVED


@pytest.mark.django_db
def test_the_ledger_writes_in_the_record_transaction_so_a_failed_change_leaves_no_partial_write():
    campaign = CampaignFactory()
    application = approved_row(ProposalFactory(campaign=campaign))
    known = {"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 150.0}
    unknown = {"campaign": "GONE", "field": "daily_budget", "from": 1.0, "to": 2.0}
    Application.objects.filter(pk=application.pk).update(changes=[known, unknown])

    result = applying.application_apply(application_id=application.pk)

    assert (result.status, result.sending_since) == (Application.Status.FAILED, None)
    assert Campaign.objects.get(pk=campaign.pk).daily_budget == Decimal("100.00")
    assert Campaign.objects.get(pk=campaign.pk).last_changed_at is None


@pytest.mark.django_db(transaction=True)
def test_two_platforms_answering_at_once_still_leave_the_proposal_applied(receiver, settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite runs one writer at a time anyway")
    both_arrived = threading.Barrier(2, timeout=5)
    # Both requests wait for each other, so both workers record their success at the same moment.
    receiver([], on_request=lambda body: both_arrived.wait())
    settings.WAYPOINT_CONNECTORS = {"google_ads": "webhook", "meta": "webhook"}
    google, meta = CampaignFactory(platform="google_ads"), CampaignFactory(platform="meta")
    changes = [
        {"campaign": google.external_id, "field": "daily_budget", "from": 100.0, "to": 80.0},
        {"campaign": meta.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0},
    ]
    proposal = ProposalFactory(kind=kinds.BUDGET_SHIFT.name, campaign=google, changes=changes)
    # The approval's own tasks stay unsent: the two workers below send the rows.
    monkeypatch.setattr(outbox_tasks.apply_application, "apply_async", lambda *args, **kwargs: None)
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    ids = list(Application.objects.filter(proposal=proposal).values_list("pk", flat=True))

    def worker(application_id: int) -> None:
        try:
            applying.application_apply(application_id=application_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = set(Application.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {Application.Status.SUCCEEDED}
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED
