"""Writing and verifying the append-only, hash-chained audit log.

Every service that changes something writes its event inside its own
transaction, so the change and its audit row commit or roll back together.
Services go through the builders in `decisions.audit.events` (one per event,
fixed payload keys); the actions themselves are registered in
`decisions.audit.actions`.

Each row's hash covers its contents and the previous row's hash, as an HMAC-SHA256 under
WAYPOINT_AUDIT_KEY (rows written before the chain was keyed keep plain SHA-256 and say so in
`hash_scheme`). Verification walks the chain and compares its head with the signed checkpoints kept
outside the database (`checkpoints`), so an edit, a deleted row, a shortened or emptied table and a
chain re-hashed without the key are all found.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from decisions.audit.checkpoints import ChainHead, Checkpoint, CheckpointFileError, read_checkpoints, write_checkpoint
from decisions.audit.middleware import current_request_id
from decisions.models import AuditEvent, HashScheme

# Any constant works; it only has to be the same for every writer.
_CHAIN_LOCK_KEY = 0x57A7_0001


def actor_label(actor) -> str:
    if actor is None:
        return "system"
    full_name = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return f"{full_name} ({actor.get_username()})" if full_name else actor.get_username()


def _plain(payload) -> dict:
    """JSON-safe copy (Decimals, dates → strings) so the stored row hashes the same on reload."""
    return json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder))


def event_hash(event: AuditEvent) -> str:
    """The row's hash under its own scheme; anything without one (a new row, a bulk writer) is keyed."""
    canonical = _canonical(event)
    scheme = getattr(event, "hash_scheme", HashScheme.HMAC_SHA256)
    if scheme == HashScheme.HMAC_SHA256:
        return hmac.new(settings.WAYPOINT_AUDIT_KEY.encode(), canonical, hashlib.sha256).hexdigest()
    if scheme == HashScheme.SHA256:
        return hashlib.sha256(canonical).hexdigest()
    raise ValueError(f"unknown audit hash scheme {scheme!r}")


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "prev_hash": event.prev_hash,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "proposal_id": event.proposal_id,
        "guardrail_id": event.guardrail_id,
        "machine_payload": event.machine_payload,
        "human_payload": event.human_payload,
        "reason": event.reason,
        "request_id": event.request_id,
        "created_at": event.created_at.isoformat(),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def _lock_chain() -> None:
    # Two writers must not both read the same "previous" row. SQLite already
    # serialises writers; PostgreSQL gets a transaction-scoped advisory lock, held until COMMIT: a row's
    # successor can only be computed once the row is visible. So the lock is taken as late as the
    # transaction allows (see `deferred`), and whatever comes after it is only the insert and the COMMIT.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


class _Pending(threading.local):
    """Events held back by `deferred` on this thread, in the order they were recorded; None when not deferring."""

    events: list[AuditEvent] | None = None


_pending = _Pending()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold back every event recorded inside, then append them all at the end, under one short chain lock.

    Use it around the rest of a transaction's writes (inside the atomic block, ending where the transaction's
    work ends): the chain's lock is then taken for the inserts alone and released at COMMIT, instead of from the
    first event to the end of everything written after it (the outbox rows, a whole engine run, an expiry
    sweep). Nesting joins the outer block; an exception out of a nested block drops the events recorded inside
    it (as the savepoint it sits in is rolled back), so a refused step caught by its caller leaves no event.
    """
    if _pending.events is not None:
        mark = len(_pending.events)
        try:
            yield
        except BaseException:
            del _pending.events[mark:]
            raise
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.deferred() must run inside the transaction of the change")
    _pending.events = []
    try:
        yield
        events = _pending.events
    finally:
        _pending.events = None
    _append(events)


def record(
    *,
    action: str,
    actor=None,
    proposal=None,
    guardrail=None,
    machine_payload: dict | None = None,
    human_payload: dict | None = None,
    reason: str = "",
    label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction of the change.

    Inside `deferred()` the event is returned unsaved (no id, no hash yet) and written when the block ends.
    """
    event = AuditEvent(
        actor=actor,
        actor_label=label or actor_label(actor),
        action=str(action),  # a plain string, as a reloaded row has it
        proposal=proposal,
        guardrail=guardrail,
        machine_payload=_plain(machine_payload),
        human_payload=_plain(human_payload),
        reason=reason,
        request_id=current_request_id(),
        created_at=timezone.now(),
        hash_scheme=HashScheme.HMAC_SHA256,
    )
    if _pending.events is not None:
        _pending.events.append(event)
        return event
    _append([event])
    return event


def _append(events: list[AuditEvent]) -> None:
    """Link the events onto the chain's head and insert them: the only code that holds the chain's lock."""
    if not events:
        return
    _lock_chain()
    previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""
    for event in events:
        event.prev_hash = previous
        event.hash = previous = event_hash(event)
    if len(events) == 1:
        events[0].save()
    else:
        # One INSERT for a batch; ids come back in order (PostgreSQL and SQLite 3.35+ both return them).
        AuditEvent.objects.bulk_create(events)


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None  # None: the checkpoints themselves cannot be trusted
    problem: str

    def __str__(self) -> str:
        if self.event_id is None:
            return f"audit log cannot be verified: {self.problem}"
        return f"audit log broken at event {self.event_id}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    head: ChainHead  # how far the walk got: the whole chain when there is no problem
    checkpoints: list[Checkpoint]
    problem: ChainProblem | None


def verify_chain(batch_size: int = 5000) -> ChainProblem | None:
    """The first problem in the log (a row's link, scheme or hash, or a head behind a checkpoint), or None."""
    return check_chain(batch_size).problem


def check_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the log in id order, checking every row and, where a checkpoint names it, the head it recorded."""
    try:
        anchors = read_checkpoints()
    except CheckpointFileError as error:
        return ChainReport(ChainHead(0, "", 0, 0), [], ChainProblem(None, str(error)))
    walk = _Walk(anchors)
    for event in _in_id_order(batch_size):
        if problem := walk.step(event):
            return ChainReport(walk.head, anchors, ChainProblem(event.id, problem))
    return ChainReport(walk.head, anchors, walk.finish())


def verify_and_checkpoint() -> ChainReport:
    """Check the log and, when it holds, anchor its head in a new signed checkpoint."""
    report = check_chain()
    if report.problem is None:
        write_checkpoint(report.head)
    return report


def _in_id_order(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while batch := list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size]):
        yield from batch
        last_id = batch[-1].id


class _Walk:
    """The state of one pass over the chain: what the next row must link to, and what the checkpoints say."""

    def __init__(self, anchors: list[Checkpoint]):
        self.anchors = anchors
        self.by_head: dict[int, list[Checkpoint]] = {}
        for anchor in anchors:
            self.by_head.setdefault(anchor.head.last_id, []).append(anchor)
        # Plain SHA-256 past the first row any checkpoint saw keyed can only be a re-hashed chain.
        self.sha256_limit = min((anchor.head.sha256_until for anchor in anchors), default=None)
        self.head = ChainHead(0, "", 0, 0)
        self.keyed_seen = False
        self.anchored_ids_seen: set[int] = set()

    def step(self, event: AuditEvent) -> str | None:
        count = self.head.count + 1
        problem = self._row_problem(event) or self._anchor_problem(event, count)
        if problem is None:
            sha256_until = event.id if event.hash_scheme == HashScheme.SHA256 else self.head.sha256_until
            self.head = ChainHead(event.id, event.hash, count, sha256_until)
            self.keyed_seen = self.keyed_seen or event.hash_scheme == HashScheme.HMAC_SHA256
            if event.id in self.by_head:
                self.anchored_ids_seen.add(event.id)
        return problem

    def _row_problem(self, event: AuditEvent) -> str | None:
        if event.prev_hash != self.head.last_hash:
            return "prev_hash does not match the previous row's hash"
        if event.hash_scheme not in HashScheme.values:
            return f"unknown hash scheme {event.hash_scheme!r}"
        if event.hash_scheme == HashScheme.SHA256:
            if self.keyed_seen:
                return "hashed with plain SHA-256 after keyed rows: the chain was re-hashed without WAYPOINT_AUDIT_KEY"
            if self.sha256_limit is not None and event.id > self.sha256_limit:
                return (
                    "hashed with plain SHA-256, but the checkpoints show every row after event "
                    f"{self.sha256_limit} keyed: the chain was re-hashed without WAYPOINT_AUDIT_KEY"
                )
        if event_hash(event) != event.hash:
            if event.hash_scheme == HashScheme.HMAC_SHA256:
                return (
                    "hash does not match the row's contents under WAYPOINT_AUDIT_KEY "
                    "(edited, or re-hashed with another key)"
                )
            return "hash does not match the row's contents"
        return None

    def _anchor_problem(self, event: AuditEvent, count: int) -> str | None:
        for anchor in self.by_head.get(event.id, []):
            if anchor.head.last_hash != event.hash:
                return f"hash differs from the one {anchor} recorded: the log was rewritten after it"
            if anchor.head.count != count:
                return (
                    f"{count} events lead up to it, but {anchor} counted {anchor.head.count}: "
                    "events before it were deleted"
                )
        return None

    def finish(self) -> ChainProblem | None:
        """After the last row: the head must not be behind any checkpoint."""
        for anchor in sorted(self.anchors, key=lambda a: (a.head.count, a.head.last_id, a.line), reverse=True):
            if anchor.head.count > self.head.count or anchor.head.last_id > self.head.last_id:
                return ChainProblem(
                    anchor.head.last_id,
                    f"missing: {self._where_the_log_ends()}, but {anchor} recorded {anchor.head.count} events "
                    f"up to event {anchor.head.last_id}. The newest events were deleted, or the table was emptied "
                    "(TRUNCATE).",
                )
        if missing := sorted(set(self.by_head) - self.anchored_ids_seen - {0}):
            anchor = self.by_head[missing[0]][0]
            return ChainProblem(missing[0], f"missing: {anchor} recorded it as the log's newest event")
        return None

    def _where_the_log_ends(self) -> str:
        if self.head.count == 0:
            return "the log is empty"
        return f"the log ends at event {self.head.last_id} ({self.head.count} events)"
