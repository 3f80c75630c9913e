"""The chain is keyed: HMAC-SHA256 under WAYPOINT_AUDIT_KEY for new rows, plain SHA-256 only for rows written
before the key, and a chain re-hashed by someone without the key is found by `verify_audit_log`."""

import hashlib
import hmac

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from decisions import audit
from decisions.models import AuditEvent, HashScheme
from tests.decisions.audit import tampering
from tests.factories import marketer

pytestmark = pytest.mark.django_db


def write_events(n: int) -> list[AuditEvent]:
    actor = marketer()
    return [audit.record(action="test.event", actor=actor, human_payload={"n": i}, reason=f"r{i}") for i in range(n)]


def write_rows_from_before_the_key(n: int) -> list[AuditEvent]:
    """Rows as the log held them before it was keyed: plain SHA-256, labelled so."""
    rows, previous = [], ""
    for i in range(n):
        event = AuditEvent(
            actor_label="system",
            action="test.legacy",
            human_payload={"n": i},
            reason=f"legacy {i}",
            created_at=timezone.now(),
            prev_hash=previous,
            hash_scheme=HashScheme.SHA256,
        )
        event.hash = previous = tampering.plain_sha256(audit._canonical(event))
        event.save()
        rows.append(event)
    return rows


def verify_fails(event_id: int, message: str) -> None:
    with pytest.raises(CommandError, match=message) as refused:
        call_command("verify_audit_log")
    assert f"audit log broken at event {event_id}:" in str(refused.value)
    assert refused.value.returncode == 1  # what manage.py exits with


def test_new_rows_are_hmacs_under_the_audit_key_not_plain_hashes(settings):
    settings.WAYPOINT_AUDIT_KEY = "k" * 40
    event = audit.record(action="test.event", reason="keyed")
    canonical = audit._canonical(AuditEvent.objects.get(pk=event.pk))
    assert event.hash_scheme == HashScheme.HMAC_SHA256
    assert event.hash == hmac.new(b"k" * 40, canonical, hashlib.sha256).hexdigest()
    assert event.hash != hashlib.sha256(canonical).hexdigest()


def test_an_intact_keyed_chain_passes(capsys):
    write_events(4)
    assert audit.verify_chain() is None
    call_command("verify_audit_log")
    assert "audit log intact: 4 events, hash chain verified." in capsys.readouterr().out


def test_rows_hashed_before_the_chain_was_keyed_still_verify(capsys):
    legacy = write_rows_from_before_the_key(3)
    keyed = write_events(2)
    assert keyed[0].prev_hash == legacy[-1].hash  # the keyed chain continues the old one
    assert [e.hash_scheme for e in AuditEvent.objects.order_by("id")] == ["sha256"] * 3 + ["hmac-sha256"] * 2
    call_command("verify_audit_log")
    assert "audit log intact: 5 events, hash chain verified." in capsys.readouterr().out


def test_an_edited_old_sha256_row_is_still_found():
    legacy = write_rows_from_before_the_key(3)
    write_events(1)
    tampering.edit_reason(legacy[1].id, "edited")
    verify_fails(legacy[1].id, "hash does not match the row's contents")


def test_a_row_edited_and_the_rest_re_hashed_with_a_wrong_key_is_found():
    events = write_events(5)
    tampering.rewrite_chain(from_id=events[2].id, reason="nothing to see", hasher=tampering.hmac_under("guessed-key"))
    verify_fails(events[2].id, "under WAYPOINT_AUDIT_KEY \\(edited, or re-hashed with another key\\)")


def test_a_row_edited_and_the_rest_re_hashed_with_plain_sha256_is_found():
    events = write_events(5)
    tampering.rewrite_chain(from_id=events[2].id, reason="nothing to see", hasher=tampering.plain_sha256)
    verify_fails(events[2].id, "hash does not match the row's contents under WAYPOINT_AUDIT_KEY")


def test_re_hashed_rows_passed_off_as_written_before_the_key_are_found():
    """Relabelled "sha256" so they would verify as old rows: plain SHA-256 may not follow a keyed row."""
    events = write_events(5)
    tampering.rewrite_chain(
        from_id=events[2].id, reason="nothing to see", hasher=tampering.plain_sha256, scheme=HashScheme.SHA256
    )
    verify_fails(events[2].id, "plain SHA-256 after keyed rows: the chain was re-hashed without WAYPOINT_AUDIT_KEY")


def test_a_whole_chain_re_hashed_with_plain_sha256_is_found_by_its_checkpoint():
    """Every row relabelled "sha256" looks like a log from before the key; the checkpoint knows better."""
    events = write_events(4)
    call_command("verify_audit_log")  # anchors the head: no row was plain SHA-256 then
    tampering.rewrite_chain(
        from_id=events[0].id, reason="nothing to see", hasher=tampering.plain_sha256, scheme=HashScheme.SHA256
    )
    verify_fails(events[0].id, "the checkpoints show every row after event 0 keyed")


def test_a_row_under_an_unknown_scheme_is_refused():
    events = write_events(2)
    tampering.rewrite_chain(from_id=events[1].id, reason=None, hasher=tampering.plain_sha256, scheme="md5")
    verify_fails(events[1].id, "unknown hash scheme 'md5'")


def test_a_log_checked_under_another_key_does_not_verify(settings):
    events = write_events(2)
    settings.WAYPOINT_AUDIT_KEY = "another-key-of-forty-characters-or-more!"
    verify_fails(events[0].id, "re-hashed with another key")
