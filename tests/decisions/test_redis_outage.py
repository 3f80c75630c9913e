"""Redis stops while a marketer approves: the decision and its outbox row survive, and the change goes out once.

The shared Redis on 6379 is never stopped; each test runs its own redis-server
on a free port and points this process's Celery app (and the worker it
starts) at it.
"""

import datetime as dt
import logging
import os
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from kombu import pools as kombu_pools

from config.celery import app
from decisions.delivery import tasks as outbox_tasks
from decisions.models import Application, AuditEvent, Campaign, Proposal, Review
from decisions.review import transitions as reviewing
from tests.celery_worker import running_worker
from tests.factories import ProposalFactory, marketer
from tests.redis_server import redis_server

pytestmark = [pytest.mark.services, pytest.mark.slow]

# How long a reviewer may wait for an approval to return while Redis is down.
# Celery's publish retries give up after about 0.6 s; anything near this
# bound means the request is stuck reconnecting somewhere.
PATIENT_REVIEWER_SECONDS = 2.0


@pytest.fixture
def private_redis(transactional_db):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")
    with redis_server() as server:
        yield server


@pytest.fixture
def celery_on_private_redis(private_redis, monkeypatch):
    """This process's Celery app, and any worker started here, talk to the private Redis only."""
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    monkeypatch.setenv("REDIS_URL", private_redis.url)  # running_worker hands this to the worker
    app.conf.update(broker_url=private_redis.url, result_backend=private_redis.url, task_always_eager=False)
    _forget_connections()
    yield private_redis
    app.conf.update(saved)
    _forget_connections()


def _forget_connections() -> None:
    # Celery caches the broker pool (app.pool), the producer pool and queues
    # (app.amqp) and the result backend built from the old URLs; drop them so
    # the next publish connects to whatever the configuration says now. The
    # pools also sit in kombu's process-wide registry, keyed by connection:
    # closing them without clearing it would hand the next test that publishes
    # to the same URL a closed pool ("Acquire on closed pool").
    app._pool = None
    app.__dict__.pop("amqp", None)
    kombu_pools.reset()
    app._backend_cache = None
    app._local.backend = None


def wait_until(predicate, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s")


def approve_committed(proposal: Proposal, actor) -> tuple[Review, float]:
    """Approve in a real transaction (no outer atomic), so the commit runs the queued publish; returns the wait."""
    started = time.monotonic()
    review = reviewing.proposal_approve(proposal=proposal, actor=actor)
    return review, time.monotonic() - started


def publish_failures(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "decisions.queueing" and "could not queue" in r.getMessage()]


def count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_an_approval_made_while_redis_is_down_is_kept_and_applied_once_redis_is_back(celery_on_private_redis, caplog):
    redis = celery_on_private_redis
    proposal = ProposalFactory()
    actor = marketer()
    redis.stop()
    assert not redis.answers()

    with caplog.at_level(logging.ERROR, logger="decisions.queueing"):
        review, waited = approve_committed(proposal, actor)

    # The reviewer got their decision back, and the lost publish was logged, not raised.
    assert waited < 60, f"the approval blocked for {waited:.1f} s"
    assert [r.exc_info is not None for r in publish_failures(caplog)] == [True]
    assert Review.objects.get(proposal=proposal).pk == review.pk
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED
    assert count("proposal.approved") == 1
    application = Application.objects.get(proposal=proposal)
    assert (application.status, application.attempts) == (Application.Status.PENDING, 0)
    assert Campaign.objects.get(pk=proposal.campaign_id).daily_budget == Decimal("100.00")

    redis.start()
    # Nothing survived the restart (no disk), so only the sweep can send it;
    # age the row past the sweep's threshold instead of waiting a minute.
    Application.objects.filter(pk=application.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    with running_worker() as queue:
        # The worker runs the sweep as beat would, and queues the apply on its own queue.
        assert outbox_tasks.sweep_outbox.apply_async(queue=queue).get(timeout=60) == 1
        wait_until(lambda: Application.objects.get(pk=application.pk).status != Application.Status.PENDING, timeout=60)
        # A second sweep finds nothing left to send.
        assert outbox_tasks.sweep_outbox.apply_async(queue=queue).get(timeout=60) == 0

    application.refresh_from_db()
    assert (application.status, application.attempts) == (Application.Status.SUCCEEDED, 1)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED
    assert Campaign.objects.get(pk=proposal.campaign_id).daily_budget == Decimal("120.00")
    assert count("application.succeeded") == 1


def test_an_approval_while_redis_is_down_returns_to_the_reviewer_promptly(celery_on_private_redis, caplog):
    redis = celery_on_private_redis
    proposal = ProposalFactory()
    redis.stop()

    with caplog.at_level(logging.ERROR, logger="decisions.queueing"):
        _, waited = approve_committed(proposal, marketer())

    assert len(publish_failures(caplog)) == 1
    assert waited < PATIENT_REVIEWER_SECONDS, f"the approval blocked for {waited:.1f} s"
