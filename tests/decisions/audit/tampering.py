"""What someone with write access to the database could do to the audit log, in raw SQL.

On PostgreSQL the append-only triggers are switched off first, as the table's owner or a superuser
could; the test's transaction switches them back on when it rolls back. SQLite has no triggers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from django.db import connection

from decisions import audit
from decisions.models import AuditEvent

TABLE = AuditEvent._meta.db_table


def disable_triggers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")


def edit_reason(event_id: int, reason: str) -> None:
    disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", [reason, event_id])  # noqa: S608


def delete_rows(ids: list[int]) -> None:
    disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)  # noqa: S608


def empty_table() -> None:
    """TRUNCATE on PostgreSQL; SQLite has no TRUNCATE, and an unqualified DELETE is its equivalent."""
    disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}" if connection.vendor == "postgresql" else f"DELETE FROM {TABLE}")  # noqa: S608


def plain_sha256(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def hmac_under(key: str) -> Callable[[bytes], str]:
    return lambda canonical: hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()


def rewrite_chain(
    *, from_id: int, reason: str | None, hasher: Callable[[bytes], str], scheme: str | None = None
) -> None:
    """Give the row `from_id` a new reason (None: keep it), then re-hash it and every row after it with
    `hasher`, relinking each to its predecessor's new hash, so the chain is consistent again under `hasher`.
    `scheme` also relabels the rewritten rows (e.g. "sha256", to pass them off as written before the key)."""
    disable_triggers()
    previous = AuditEvent.objects.filter(id__lt=from_id).order_by("-id").values_list("hash", flat=True).first() or ""
    rows = list(AuditEvent.objects.filter(id__gte=from_id).order_by("id"))
    with connection.cursor() as cursor:
        for index, event in enumerate(rows):
            if index == 0 and reason is not None:
                event.reason = reason
            event.prev_hash = previous
            event.hash = previous = hasher(audit._canonical(event))
            event.hash_scheme = scheme or event.hash_scheme
            cursor.execute(
                f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s, hash_scheme = %s WHERE id = %s",  # noqa: S608
                [event.reason, event.prev_hash, event.hash, event.hash_scheme, event.id],
            )
