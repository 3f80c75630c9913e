import datetime as dt
import socket
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from decisions.delivery import outbox as applying
from decisions.delivery import tasks as outbox_tasks
from decisions.models import Application, AuditEvent, Campaign, Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


def approved(**proposal_fields) -> tuple[Proposal, Application]:
    """An approved proposal whose outbox row has not been sent (on_commit never fires inside a test)."""
    proposal = ProposalFactory(**proposal_fields)
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    return proposal, Application.objects.get(proposal=proposal)


def count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: every connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable_webhook(settings, closed_port):
    settings.WAYPOINT_CONNECTOR = "webhook"
    settings.WAYPOINT_WEBHOOK_URL = f"http://127.0.0.1:{closed_port}/changes"
    settings.WAYPOINT_WEBHOOK_SECRET = "s3cret"
    settings.WAYPOINT_APPLY_MAX_ATTEMPTS = 3


def test_applying_a_row_moves_the_campaign_and_marks_everything_applied():
    proposal, application = approved()
    before = timezone.now()
    applying.application_apply(application_id=application.pk)

    application.refresh_from_db()
    proposal.refresh_from_db()
    campaign = Campaign.objects.get(pk=proposal.campaign_id)
    assert (application.status, application.attempts) == (Application.Status.SUCCEEDED, 1)
    assert proposal.status == Proposal.Status.APPLIED
    assert campaign.daily_budget == Decimal("120.00")
    assert campaign.last_changed_at >= before
    event = AuditEvent.objects.get(action="application.succeeded")
    assert event.machine_payload["idempotency_key"] == application.idempotency_key


def test_a_succeeded_row_is_never_applied_twice():
    proposal, application = approved()
    applying.application_apply(application_id=application.pk)
    Campaign.objects.filter(pk=proposal.campaign_id).update(daily_budget=Decimal("90.00"))  # changed elsewhere

    again = applying.application_apply(application_id=application.pk)

    assert again.status == Application.Status.SUCCEEDED
    assert again.attempts == 1
    assert Campaign.objects.get(pk=proposal.campaign_id).daily_budget == Decimal("90.00")
    assert count("application.succeeded") == 1


def test_the_ledger_sets_a_status_change():
    campaign = CampaignFactory()
    change = {"campaign": campaign.external_id, "field": "status", "from": "active", "to": "paused"}
    _, application = approved(campaign=campaign, kind=kinds.PAUSE.name, changes=[change])
    applying.application_apply(application_id=application.pk)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED


def test_a_change_to_an_unknown_campaign_fails_at_once():
    proposal, application = approved()
    Application.objects.filter(pk=application.pk).update(
        changes=[{"campaign": "GONE", "field": "daily_budget", "from": 1, "to": 2}]
    )
    result = applying.application_apply(application_id=application.pk)

    assert (result.status, result.attempts) == (Application.Status.FAILED, 1)
    assert "GONE" in result.last_error
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.FAILED
    assert count("application.failed") == 1


def test_an_unknown_connector_fails_at_once():
    _, application = approved()
    Application.objects.filter(pk=application.pk).update(connector="carrier-pigeon")
    result = applying.application_apply(application_id=application.pk)
    assert result.status == Application.Status.FAILED
    assert "carrier-pigeon" in result.last_error


def test_the_task_retries_with_backoff_then_marks_the_row_failed(unreachable_webhook):
    proposal, application = approved()
    assert application.connector == "webhook"

    assert outbox_tasks.apply_application.delay(application.pk).get() == Application.Status.FAILED

    application.refresh_from_db()
    assert (application.status, application.attempts) == (Application.Status.FAILED, 3)
    assert "unreachable" in application.last_error
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.FAILED
    assert (count("application.attempt_failed"), count("application.failed")) == (2, 1)
    assert AuditEvent.objects.get(action="application.failed").reason == application.last_error


def test_backoff_doubles_and_is_capped():
    assert [applying.backoff_seconds(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert applying.backoff_seconds(30) == applying.MAX_BACKOFF_SECONDS


def test_retry_puts_a_failed_row_back_and_sends_it_again(
    settings, unreachable_webhook, django_capture_on_commit_callbacks
):
    proposal, application = approved()
    outbox_tasks.apply_application.delay(application.pk)
    settings.WAYPOINT_APPLY_MAX_ATTEMPTS = 1
    actor = marketer()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retried = applying.application_retry(application=application, actor=actor)
        assert (retried.status, retried.attempts, retried.last_error) == (Application.Status.PENDING, 0, "")
        assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED

    assert len(callbacks) == 1  # the retry was queued on commit, and failed again once
    application.refresh_from_db()
    assert (application.status, application.attempts) == (Application.Status.FAILED, 1)
    event = AuditEvent.objects.get(action="application.retried")
    assert (event.actor_id, event.machine_payload["previous_attempts"]) == (actor.pk, 3)


def test_only_a_failed_row_can_be_retried():
    _, application = approved()
    with pytest.raises(applying.NotRetryable):
        applying.application_retry(application=application, actor=marketer())
    assert count("application.retried") == 0


def test_viewers_may_not_retry():
    _, application = approved()
    Application.objects.filter(pk=application.pk).update(status=Application.Status.FAILED)
    with pytest.raises(PermissionDenied):
        applying.application_retry(application=application, actor=viewer())
    assert Application.objects.get(pk=application.pk).status == Application.Status.FAILED


def test_the_sweep_sends_rows_left_pending_and_leaves_fresh_ones(django_capture_on_commit_callbacks):
    (lost_proposal, lost), (_, fresh) = approved(), approved()
    Application.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_tasks.sweep_outbox.delay().get() == 1

    assert Application.objects.get(pk=lost.pk).status == Application.Status.SUCCEEDED
    assert Application.objects.get(pk=fresh.pk).status == Application.Status.PENDING
    assert Proposal.objects.get(pk=lost_proposal.pk).status == Proposal.Status.APPLIED


def test_outbox_keys_are_stable_and_differ_by_direction():
    proposal = ProposalFactory()
    apply_key = applying.application_key(proposal, "apply")
    assert apply_key == applying.application_key(proposal, "apply")
    assert apply_key != applying.application_key(proposal, "rollback")
    assert apply_key != applying.application_key(ProposalFactory(), "apply")
    assert len(apply_key) == 64
