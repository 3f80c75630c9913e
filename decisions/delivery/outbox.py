"""The apply outbox: approved changes reach each ad platform exactly once.

An approval writes one Application row per platform its changes touch, in
the decision's own transaction, and queues each row's task only on commit, so
a change is never sent for a decision that rolled back, and a change whose
task was lost (broker down, worker killed) is still in the table for the
sweep to re-queue. The proposal is applied once every one of its rows has
succeeded, and failed as soon as one gives up; each row is retried on its own.

Sending a row takes three steps, so that no transaction is open and no row
locked while a remote platform takes its time to answer:

1. claim: one conditional UPDATE marks the row as being sent
   (`sending_since`) and counts the attempt; a second worker finds it
   claimed and leaves it alone.
2. send: the connector's call, outside any transaction. A local connector
   (the ledger writes Waypoint's own campaign table) runs in step 3 instead,
   so its write commits with the row's success.
3. record: a short transaction marks the row succeeded (or backs off, or
   fails it), moves the proposal and writes the audit event, only if the
   row is still claimed by this attempt. A worker that lost its claim (it
   outlived SEND_LEASE and another worker took the row) records nothing.

Before a row's change goes anywhere, its campaigns must still be where the
change starts (decisions.review.freshness): an import, the platform or another
proposal may have moved one since the approval, and the change's absolute
target would then make another move than the one approved. Such a row fails
at once (a permanent failure, the proposal failed with the reason). The ledger
checks inside the record transaction, with the campaign rows locked, so the
check and its write are one; a remote connector is checked against Waypoint's
campaign table just before sending. A campaign already at the target is fine:
nothing is left to move, and a resend is deduplicated by the receiver.

A worker that dies between claim and record leaves the row pending and
claimed; once the claim is older than SEND_LEASE the sweep queues it again
and it is re-sent with the same idempotency key, for the receiver to
deduplicate.

Settings (read with defaults; none is required):
    WAYPOINT_CONNECTORS         platform=connector pairs for new rows ("google_ads=webhook,meta=webhook")
    WAYPOINT_CONNECTOR          "ledger" (default) or "webhook", for platforms WAYPOINT_CONNECTORS does not name
    WAYPOINT_WEBHOOK_URL        where the webhook connector POSTs
    WAYPOINT_WEBHOOK_SECRET     HMAC-SHA256 key for X-Waypoint-Signature
    WAYPOINT_WEBHOOK_TIMEOUT    seconds per request (default 10)
    WAYPOINT_APPLY_MAX_ATTEMPTS attempts before a row is marked failed (default 5)

Audit actions: application.succeeded, application.attempt_failed,
application.failed, application.retried (decisions.audit.actions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from decisions import access as roles
from decisions import audit, spend_tests, targets
from decisions.audit.actions import Action
from decisions.delivery import connectors, routing
from decisions.models import Application, Campaign, Proposal
from decisions.queueing import queue_follow_up_on_commit
from decisions.review import freshness

logger = logging.getLogger(__name__)

PENDING = Application.Status.PENDING
SUCCEEDED = Application.Status.SUCCEEDED
FAILED = Application.Status.FAILED
APPLY = Application.Direction.APPLY
ROLLBACK = Application.Direction.ROLLBACK
# The sweep waits this long before assuming a pending row's task was lost.
STALE_AFTER = dt.timedelta(minutes=1)
# A claim older than this belongs to a worker presumed dead. Kept equal to
# STALE_AFTER so the sweep's re-queued task can claim the row it re-queues;
# well above any connector's timeout, so a live send is not taken over.
SEND_LEASE = STALE_AFTER
MAX_BACKOFF_SECONDS = 300


class NotRetryable(Exception):
    """Only a failed application can be retried."""


class _LostClaim(Exception):
    """Another worker took the row over while this one was sending; drop this attempt's result."""


def max_attempts() -> int:
    return max(1, int(getattr(settings, "WAYPOINT_APPLY_MAX_ATTEMPTS", 5)))


def backoff_seconds(attempts: int) -> int:
    """2, 4, 8, … seconds after the 1st, 2nd, 3rd failure, capped at five minutes."""
    return min(2 ** max(1, attempts), MAX_BACKOFF_SECONDS)


def application_key(proposal: Proposal, direction: str, platform: str | None = None) -> str:
    # Derived, not random: one apply and one rollback per proposal (and per
    # platform), and a receiver that saw this key before knows it is the same
    # change. A single-platform change passes no platform and keeps the key
    # it has always had, so rows already in flight mean what they meant.
    parts = [proposal.idempotency_key, direction] + ([platform] if platform is not None else [])
    return hashlib.sha256(("waypoint:" + ":".join(parts)).encode()).hexdigest()


def awaits_retry(application: Application | None) -> bool:
    """Pending and nobody sending it: the last attempt failed, and the next is due after its backoff."""
    return application is not None and application.status == PENDING and application.sending_since is None


def _queue_on_commit(application_id: int) -> None:
    from decisions.delivery import tasks as outbox_tasks  # the tasks module imports this one

    # A broker outage must not turn a committed approval into an error page;
    # the row stays pending and the sweep sends it later.
    queue_follow_up_on_commit(outbox_tasks.apply_application, application_id)


# --- writing rows (inside the decision's transaction) -----------------------------------------


def application_create(*, proposal: Proposal, changes: list[dict], direction: str) -> Application:
    """Write the outbox rows, one per platform; returns the first (the only one for a single platform)."""
    return applications_create(proposal=proposal, changes=changes, direction=direction)[0]


def applications_create(*, proposal: Proposal, changes: list[dict], direction: str) -> list[Application]:
    """Write one outbox row per platform the changes touch; call inside the transaction of the decision."""
    routes = routing.routes(changes)
    split = len(routes) > 1
    rows = [
        _row(
            proposal=proposal,
            direction=direction,
            route=route,
            key=application_key(proposal, direction, route.platform if split else None),
        )
        for route in routes
    ]
    # One INSERT for every platform's row (ids come back on PostgreSQL and SQLite 3.35+).
    created = Application.objects.bulk_create(rows) if split else [_saved(rows[0])]
    for application in created:
        _queue_on_commit(application.pk)
    return created


def rollback_create(*, undoing: Application, changes: list[dict]) -> Application:
    """The inverse of one succeeded apply row: to the same platform, through the connector the change took."""
    split = Application.objects.filter(proposal_id=undoing.proposal_id, direction=APPLY).count() > 1
    route = routing.Route(platform=undoing.platform, connector=undoing.connector, changes=changes)
    key = application_key(undoing.proposal, ROLLBACK, undoing.platform if split else None)
    return _create(proposal=undoing.proposal, direction=ROLLBACK, route=route, key=key)


def succeeded_applies(proposal: Proposal) -> list[Application]:
    """The apply rows that reached their platform, one per platform once the proposal is applied."""
    return list(
        Application.objects.filter(proposal=proposal, direction=APPLY, status=SUCCEEDED)
        .select_related("proposal")
        .order_by("id")
    )


def _create(*, proposal: Proposal, direction: str, route: routing.Route, key: str) -> Application:
    application = _saved(_row(proposal=proposal, direction=direction, route=route, key=key))
    _queue_on_commit(application.pk)
    return application


def _row(*, proposal: Proposal, direction: str, route: routing.Route, key: str) -> Application:
    return Application(
        proposal=proposal,
        direction=direction,
        platform=route.platform,
        connector=route.connector,
        changes=route.changes,
        idempotency_key=key,
    )


def _saved(application: Application) -> Application:
    application.save(force_insert=True)
    return application


# --- sending a row: claim, send, record ------------------------------------------------------


def application_apply(*, application_id: int) -> Application | None:
    """Push one pending outbox row through its connector. Safe to call twice: a succeeded row, or one
    another worker is sending, is left alone.

    Returns the row afterwards; `awaits_retry(row)` means try again after
    backoff_seconds(row.attempts).
    """
    claimed = _claim(application_id)
    if claimed is None:
        return _current(application_id)
    try:
        connector = connectors.get(claimed.connector)
        if connector.local:
            return _record_success(claimed, deliver=lambda: _send_when_current(connector, claimed))
        _refuse_out_of_date(claimed, lock=False)
        result = connector.send(claimed)  # no transaction open, no row locked
        return _record_success(claimed, deliver=lambda: _recorded_locally(claimed, result))
    except connectors.ConnectorError as error:
        return _record_failure(claimed, error)


def _send_when_current(connector, application: Application) -> dict:
    _refuse_out_of_date(application, lock=True)
    return connector.send(application)


def _recorded_locally(application: Application, result: dict) -> dict:
    """What Waypoint keeps of changes a remote connector delivered, written with the row's success: an
    audience's list (targets.AudienceTarget.recorded_locally), so it can be downloaded and rolled back."""
    now = timezone.now()
    for change in application.changes:
        target = targets.of(change)
        if getattr(target, "recorded_locally", False) and not target.write(
            change, change["to"], now=now, proposal_id=application.proposal_id
        ):
            # The platform has the change already; failing the row now would only make a retry send it again.
            logger.warning("application %s: %s is gone; its delivery is not recorded", application.pk, change)
    return result


def _refuse_out_of_date(application: Application, *, lock: bool) -> None:
    """A permanent failure when a campaign moved since the approval: the target now means another move."""
    values = freshness.current_values(application.changes, lock=lock)
    drifts = freshness.drifts(application.changes, values, done_is_fine=True)
    if not drifts:
        return
    if application.direction == ROLLBACK:
        message = freshness.rollback_message(drifts)
    else:
        message = freshness.proposal_message(drifts)
    raise connectors.ConnectorError(message, permanent=True)


def _claim(application_id: int) -> Application | None:
    """Mark the row as being sent by this attempt; None when it is finished or another worker holds it."""
    now = timezone.now()
    free = Q(sending_since__isnull=True) | Q(sending_since__lt=now - SEND_LEASE)
    if not Application.objects.filter(free, pk=application_id, status=PENDING).update(
        sending_since=now, attempts=F("attempts") + 1, updated_at=now
    ):
        return None
    return _current(application_id)


def _current(application_id: int) -> Application | None:
    return Application.objects.select_related("proposal").filter(pk=application_id).first()


def _still_claimed(claimed: Application):
    # The claim's timestamp fences the record: a worker whose row was taken
    # over (re-claimed with a newer timestamp) matches nothing and writes nothing.
    return Application.objects.filter(pk=claimed.pk, status=PENDING, sending_since=claimed.sending_since)


def _lock_proposal(proposal_id: int) -> None:
    # Rows of one proposal record their outcome one at a time, so the last of
    # two platforms to succeed always sees the other's success and marks the
    # proposal applied (ignored on SQLite, which serialises writers anyway).
    Proposal.objects.select_for_update().filter(pk=proposal_id).first()


def _record_success(claimed: Application, *, deliver: Callable[[], dict]) -> Application | None:
    now = timezone.now()
    try:
        with transaction.atomic():
            _lock_proposal(claimed.proposal_id)
            if not _still_claimed(claimed).update(status=SUCCEEDED, sending_since=None, last_error="", updated_at=now):
                raise _LostClaim
            result = deliver()  # a local connector's write; a ConnectorError undoes the whole record
            application = _current(claimed.pk)
            # The cooldown guardrail reads when a change last reached each campaign.
            campaigns = targets.campaign_ids(application.changes)
            Campaign.objects.filter(external_id__in=campaigns).update(last_changed_at=now)
            if application.direction == APPLY:
                _mark_applied_when_complete(application.proposal_id)
            audit.record(
                action=Action.APPLICATION_SUCCEEDED,
                proposal=application.proposal,
                machine_payload=_audit_payload(application, result=result),
            )
    except _LostClaim:
        logger.warning("application %s was taken over by another worker; this attempt is dropped", claimed.pk)
        return _current(claimed.pk)
    return application


def _mark_applied_when_complete(proposal_id: int) -> None:
    """A proposal is applied once every platform has its change; the last row to succeed moves it."""
    if Application.objects.filter(proposal_id=proposal_id, direction=APPLY).exclude(status=SUCCEEDED).exists():
        return
    if Proposal.objects.filter(pk=proposal_id, status__in=(Proposal.Status.APPROVED, Proposal.Status.FAILED)).update(
        status=Proposal.Status.APPLIED
    ):
        spend_tests.started(proposal_id)  # a spend test's days start now (nothing for other proposals)


def _record_failure(claimed: Application, error: connectors.ConnectorError) -> Application | None:
    message = str(error)[:2000]
    give_up = error.permanent or claimed.attempts >= max_attempts()
    with transaction.atomic():
        _lock_proposal(claimed.proposal_id)
        if not _still_claimed(claimed).update(
            status=FAILED if give_up else PENDING, sending_since=None, last_error=message, updated_at=timezone.now()
        ):
            logger.warning("application %s was taken over by another worker; its failure is dropped", claimed.pk)
            return _current(claimed.pk)
        application = _current(claimed.pk)
        if give_up and application.direction == APPLY:
            # One platform giving up fails the proposal, whatever the others did.
            Proposal.objects.filter(pk=application.proposal_id, status=Proposal.Status.APPROVED).update(
                status=Proposal.Status.FAILED
            )
        audit.record(
            action=Action.APPLICATION_FAILED if give_up else Action.APPLICATION_ATTEMPT_FAILED,
            proposal=application.proposal,
            machine_payload=_audit_payload(application, permanent=error.permanent, max_attempts=max_attempts()),
            reason=message,
        )
    logger.warning("application %s attempt %s failed: %s", application.pk, application.attempts, message)
    return application


def _audit_payload(application: Application, **extra) -> dict:
    return {
        "application": application.pk,
        "direction": application.direction,
        "platform": application.platform,
        "connector": application.connector,
        "idempotency_key": application.idempotency_key,
        "changes": application.changes,
        "attempts": application.attempts,
        **extra,
    }


# --- a reviewer's retry, and the sweep ---------------------------------------------------------


@transaction.atomic
def application_retry(*, application: Application, actor) -> Application:
    """A reviewer sends a failed row again, with a fresh set of attempts."""
    if not roles.can_review(actor):
        raise PermissionDenied("Only marketers and guardrail admins may retry an apply.")
    _lock_proposal(application.proposal_id)
    previous = Application.objects.filter(pk=application.pk).values("attempts", "last_error").get()
    if not Application.objects.filter(pk=application.pk, status=FAILED).update(
        status=PENDING, attempts=0, last_error="", sending_since=None, updated_at=timezone.now()
    ):
        raise NotRetryable("Only a failed apply can be retried.")
    if application.direction == APPLY:
        _reopen_when_nothing_failed(application.proposal_id)
    application.refresh_from_db()
    audit.record(
        action=Action.APPLICATION_RETRIED,
        actor=actor,
        proposal=application.proposal,
        machine_payload=_audit_payload(application, previous_attempts=previous["attempts"]),
        reason=previous["last_error"],
    )
    _queue_on_commit(application.pk)
    return application


def _reopen_when_nothing_failed(proposal_id: int) -> None:
    # The proposal stays failed while another platform's row is still failed.
    if Application.objects.filter(proposal_id=proposal_id, direction=APPLY, status=FAILED).exists():
        return
    Proposal.objects.filter(pk=proposal_id, status=Proposal.Status.FAILED).update(status=Proposal.Status.APPROVED)


@transaction.atomic
def applications_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again every pending row untouched for STALE_AFTER: its task was lost, never sent, or its
    worker died between claim and record (the re-queued task can claim it: SEND_LEASE has passed too)."""
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
