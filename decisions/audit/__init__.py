"""Writing and verifying the append-only, hash-chained audit log.

Every service that changes something writes its event inside its own
transaction, so the change and its audit row commit or roll back together.
Services go through the builders in `decisions.audit.events` (one per event,
fixed payload keys); the actions themselves are registered in
`decisions.audit.actions`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from decisions.audit.middleware import current_request_id
from decisions.models import AuditEvent

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
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain() -> None:
    # Two writers must not both read the same "previous" row. SQLite already
    # serialises writers; PostgreSQL gets a transaction-scoped advisory lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


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
    """Append one event to the chain. Call inside the transaction of the change."""
    _lock_chain()
    previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""
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
        prev_hash=previous,
    )
    event.hash = event_hash(event)
    event.save()
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


def verify_chain(batch_size: int = 5000) -> ChainProblem | None:
    """Walk the log in id order; return the first row whose link or hash is wrong."""
    expected_prev = ""
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return None
        for event in batch:
            if event.prev_hash != expected_prev:
                return ChainProblem(event.id, "prev_hash does not match the previous row's hash")
            if event_hash(event) != event.hash:
                return ChainProblem(event.id, "hash does not match the row's contents")
            expected_prev = event.hash
            last_id = event.id
