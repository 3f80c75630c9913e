"""The webhook connector against a real HTTP receiver on loopback, run in a thread."""

import hashlib
import hmac
import os
import time
from decimal import Decimal

import pytest
from django.db import connection

from config.celery import app
from decisions.delivery import outbox as applying
from decisions.delivery import tasks as outbox_tasks
from decisions.delivery.connectors import ConnectorError, get
from decisions.delivery.connectors.webhook import sign
from decisions.models import Application, AuditEvent, Campaign, Proposal
from decisions.review import transitions as reviewing
from tests.celery_worker import running_worker
from tests.decisions.delivery.receiver import SECRET
from tests.factories import ProposalFactory, marketer

pytestmark = pytest.mark.django_db


def approve(capture) -> Proposal:
    proposal = ProposalFactory()
    with capture(execute=True):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    proposal.refresh_from_db()
    return proposal


def test_a_change_survives_a_failure_and_a_timeout_and_lands_exactly_once(receiver, django_capture_on_commit_callbacks):
    server = receiver(["fail", "slow", "ok"])
    proposal = approve(django_capture_on_commit_callbacks)

    application = Application.objects.get(proposal=proposal)
    assert (application.status, application.attempts) == (Application.Status.SUCCEEDED, 3)
    assert proposal.status == Proposal.Status.APPLIED
    assert len(server.requests) == 3
    assert {r["key"] for r in server.requests} == {application.idempotency_key}
    assert all(r["signed"] for r in server.requests)
    assert server.applied == {application.idempotency_key: 1}
    assert server.requests[0]["body"]["changes"] == proposal.changes
    attempts = AuditEvent.objects.filter(action="application.attempt_failed").order_by("id")
    assert ["503" in e.reason for e in attempts] == [True, False]
    assert "0.5 s" in attempts[1].reason
    # The webhook reaches the platform; Waypoint's own copy waits for the next import.
    assert Campaign.objects.get(pk=proposal.campaign_id).daily_budget == Decimal("100.00")


def test_it_gives_up_after_the_last_attempt_and_shows_the_error(receiver, settings, django_capture_on_commit_callbacks):
    server = receiver(["fail"] * 10)
    settings.WAYPOINT_APPLY_MAX_ATTEMPTS = 4
    proposal = approve(django_capture_on_commit_callbacks)

    application = Application.objects.get(proposal=proposal)
    assert (application.status, application.attempts) == (Application.Status.FAILED, 4)
    assert "HTTP 503" in application.last_error
    assert proposal.status == Proposal.Status.FAILED
    assert len(server.requests) == 4
    assert not server.applied


def test_a_client_error_is_not_retried(receiver, django_capture_on_commit_callbacks):
    server = receiver([422])
    proposal = approve(django_capture_on_commit_callbacks)
    application = Application.objects.get(proposal=proposal)
    assert (application.status, application.attempts) == (Application.Status.FAILED, 1)
    assert len(server.requests) == 1


def test_a_retried_row_reaches_a_receiver_that_recovered(receiver, django_capture_on_commit_callbacks):
    server = receiver([500] * 5)
    proposal = approve(django_capture_on_commit_callbacks)
    application = Application.objects.get(proposal=proposal)
    assert application.status == Application.Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        applying.application_retry(application=application, actor=marketer())

    application.refresh_from_db()
    assert application.status == Application.Status.SUCCEEDED
    assert server.applied == {application.idempotency_key: 1}
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED


def test_the_signature_is_hmac_sha256_of_the_exact_body():
    body = b'{"a":1}'
    assert sign(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign(body, "k") != sign(body + b" ", "k")


def test_it_refuses_to_send_unsigned_or_to_a_non_http_url(settings):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    webhook = get("webhook")

    settings.WAYPOINT_WEBHOOK_URL, settings.WAYPOINT_WEBHOOK_SECRET = "http://127.0.0.1:9/x", ""
    with pytest.raises(ConnectorError, match="SECRET") as unsigned:
        webhook.send(application)
    assert unsigned.value.permanent

    settings.WAYPOINT_WEBHOOK_URL, settings.WAYPOINT_WEBHOOK_SECRET = "file:///etc/passwd", "k"
    with pytest.raises(ConnectorError, match="http") as wrong_scheme:
        webhook.send(application)
    assert wrong_scheme.value.permanent


def test_the_task_reports_a_missing_row():
    assert outbox_tasks.apply_application.delay(987654).get() == "missing"


@pytest.fixture
def real_broker(transactional_db):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.services
@pytest.mark.slow
def test_a_real_worker_backs_off_between_attempts_until_the_receiver_recovers(real_broker, receiver, monkeypatch):
    server = receiver(["fail", "fail", "ok"])
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.decisions.worker_settings")
    monkeypatch.setenv("WAYPOINT_TEST_WEBHOOK_URL", server.url)
    monkeypatch.setenv("WAYPOINT_TEST_WEBHOOK_SECRET", SECRET)
    proposal = ProposalFactory(status=Proposal.Status.APPROVED)
    # Written directly rather than through an approval, whose on-commit
    # task would go to the shared default queue instead of this worker's.
    application = Application.objects.create(
        proposal=proposal, connector="webhook", changes=proposal.changes, idempotency_key="worker-backoff-test"
    )

    with running_worker() as queue:
        outbox_tasks.apply_application.apply_async(args=[application.pk], queue=queue)
        # The task keeps no result (the row is the record): wait for the row.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Application.objects.get(pk=application.pk).status == "pending":
            time.sleep(0.3)

    application.refresh_from_db()
    assert (application.status, application.attempts) == (Application.Status.SUCCEEDED, 3)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED
    gaps = [later["at"] - earlier["at"] for earlier, later in zip(server.requests, server.requests[1:], strict=False)]
    assert len(gaps) == 2
    assert gaps[0] >= 1.8 and gaps[1] >= 3.8  # 2 s, then 4 s of backoff
    assert server.applied == {"worker-backoff-test": 1}
