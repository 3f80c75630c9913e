"""The apply outbox: approved changes reach the ad platform exactly once.

An approval writes an Application row in its own transaction and queues the
task only on commit, so a change is never sent for a decision that rolled
back, and a change whose task was lost (broker down, worker killed) is still
in the table for the sweep to re-queue.

Settings (read with defaults; none is required):
    WAYPOINT_CONNECTOR          "ledger" (default) or "webhook", for new rows
    WAYPOINT_WEBHOOK_URL        where the webhook connector POSTs
    WAYPOINT_WEBHOOK_SECRET     HMAC-SHA256 key for X-Waypoint-Signature
    WAYPOINT_WEBHOOK_TIMEOUT    seconds per request (default 10)
    WAYPOINT_APPLY_MAX_ATTEMPTS attempts before a row is marked failed (default 5)

Audit actions: application.succeeded, application.attempt_failed,
application.failed, application.retried (see decisions.reviewing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from decisions import access as roles
from decisions import audit
from decisions.delivery import connectors
from decisions.models import Application, Campaign, Proposal

logger = logging.getLogger(__name__)

PENDING = Application.Status.PENDING
# The sweep waits this long before assuming a pending row's task was lost.
STALE_AFTER = dt.timedelta(minutes=1)
MAX_BACKOFF_SECONDS = 300


class NotRetryable(Exception):
    """Only a failed application can be retried."""


class _AlreadyApplied(Exception):
    """Another worker finished this row while we were sending; undo our side of it."""


def max_attempts() -> int:
    return max(1, int(getattr(settings, "WAYPOINT_APPLY_MAX_ATTEMPTS", 5)))


def backoff_seconds(attempts: int) -> int:
    """2, 4, 8, … seconds after the 1st, 2nd, 3rd failure, capped at five minutes."""
    return min(2 ** max(1, attempts), MAX_BACKOFF_SECONDS)


def application_key(proposal: Proposal, direction: str) -> str:
    # Derived, not random: one apply and one rollback per proposal, and a
    # receiver that saw this key before knows it is the same change.
    return hashlib.sha256(f"waypoint:{proposal.idempotency_key}:{direction}".encode()).hexdigest()


def _queue_on_commit(application_id: int) -> None:
    from decisions.delivery import tasks as outbox_tasks  # the tasks module imports this one

    # robust: a broker outage must not turn a committed approval into an
    # error page; the row stays pending and the sweep sends it later.
    transaction.on_commit(lambda: outbox_tasks.apply_application.delay(application_id), robust=True)


def application_create(*, proposal: Proposal, changes: list[dict], direction: str) -> Application:
    """Write the outbox row; call inside the transaction of the decision that caused it."""
    application = Application.objects.create(
        proposal=proposal,
        direction=direction,
        connector=connectors.default_name(),
        changes=changes,
        idempotency_key=application_key(proposal, direction),
    )
    _queue_on_commit(application.pk)
    return application


def _lock_pending(application_id: int) -> Application | None:
    # FOR UPDATE makes a second worker wait on PostgreSQL and then see the row
    # succeeded; on SQLite the conditional updates below do the same job.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("proposal")
        .filter(pk=application_id, status=PENDING)
        .first()
    )


def _audit_payload(application: Application, **extra) -> dict:
    return {
        "application": application.pk,
        "direction": application.direction,
        "connector": application.connector,
        "idempotency_key": application.idempotency_key,
        "changes": application.changes,
        "attempts": application.attempts,
        **extra,
    }


def _succeed(application: Application, result: dict) -> None:
    now = timezone.now()
    if not Application.objects.filter(pk=application.pk, status=PENDING).update(
        status=Application.Status.SUCCEEDED, attempts=F("attempts") + 1, last_error="", updated_at=now
    ):
        raise _AlreadyApplied
    application.refresh_from_db()
    campaigns = {change["campaign"] for change in application.changes}
    # The cooldown guardrail reads when a change last reached each campaign.
    Campaign.objects.filter(external_id__in=campaigns).update(last_changed_at=now)
    if application.direction == Application.Direction.APPLY:
        Proposal.objects.filter(
            pk=application.proposal_id, status__in=(Proposal.Status.APPROVED, Proposal.Status.FAILED)
        ).update(status=Proposal.Status.APPLIED)
    audit.record(
        action="application.succeeded",
        proposal=application.proposal,
        machine_payload=_audit_payload(application, result=result),
    )


def _fail_attempt(application_id: int, error: connectors.ConnectorError) -> Application | None:
    message = str(error)[:2000]
    with transaction.atomic():
        if not Application.objects.filter(pk=application_id, status=PENDING).update(
            attempts=F("attempts") + 1, last_error=message, updated_at=timezone.now()
        ):
            return Application.objects.filter(pk=application_id).first()
        application = Application.objects.select_related("proposal").get(pk=application_id)
        give_up = error.permanent or application.attempts >= max_attempts()
        if give_up:
            Application.objects.filter(pk=application_id).update(status=Application.Status.FAILED)
            application.status = Application.Status.FAILED
            if application.direction == Application.Direction.APPLY:
                Proposal.objects.filter(pk=application.proposal_id, status=Proposal.Status.APPROVED).update(
                    status=Proposal.Status.FAILED
                )
        audit.record(
            action="application.failed" if give_up else "application.attempt_failed",
            proposal=application.proposal,
            machine_payload=_audit_payload(application, permanent=error.permanent, max_attempts=max_attempts()),
            reason=message,
        )
    logger.warning("application %s attempt %s failed: %s", application_id, application.attempts, message)
    return application


def application_apply(*, application_id: int) -> Application | None:
    """Push one pending outbox row through its connector. Safe to call twice: a succeeded row is left alone.

    Returns the row afterwards; still pending means "retry later", after
    backoff_seconds(row.attempts).
    """
    try:
        with transaction.atomic():
            application = _lock_pending(application_id)
            if application is None:
                return Application.objects.filter(pk=application_id).first()
            result = connectors.get(application.connector).send(application)
            _succeed(application, result)
            return application
    except _AlreadyApplied:
        return Application.objects.filter(pk=application_id).first()
    except connectors.ConnectorError as error:
        return _fail_attempt(application_id, error)


@transaction.atomic
def application_retry(*, application: Application, actor) -> Application:
    """A reviewer sends a failed row again, with a fresh set of attempts."""
    if not roles.can_review(actor):
        raise PermissionDenied("Only marketers and guardrail admins may retry an apply.")
    previous = Application.objects.filter(pk=application.pk).values("attempts", "last_error").get()
    if not Application.objects.filter(pk=application.pk, status=Application.Status.FAILED).update(
        status=PENDING, attempts=0, last_error="", updated_at=timezone.now()
    ):
        raise NotRetryable("Only a failed apply can be retried.")
    if application.direction == Application.Direction.APPLY:
        Proposal.objects.filter(pk=application.proposal_id, status=Proposal.Status.FAILED).update(
            status=Proposal.Status.APPROVED
        )
    application.refresh_from_db()
    audit.record(
        action="application.retried",
        actor=actor,
        proposal=application.proposal,
        machine_payload=_audit_payload(application, previous_attempts=previous["attempts"]),
        reason=previous["last_error"],
    )
    _queue_on_commit(application.pk)
    return application


@transaction.atomic
def applications_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again every pending row untouched for STALE_AFTER: its task was lost, or never sent."""
    now = now or timezone.now()
    ids = list(
        Application.objects.filter(status=PENDING, updated_at__lt=now - STALE_AFTER)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    # Touching updated_at keeps a row that is merely waiting in a long queue
    # from being queued again on every sweep.
    Application.objects.filter(pk__in=ids, status=PENDING).update(updated_at=now)
    for application_id in ids:
        _queue_on_commit(application_id)
    return ids
