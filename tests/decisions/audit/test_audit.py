import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from decisions import audit
from decisions.models import AuditEvent
from objectives.models import ImmutableRowError
from tests.factories import UserFactory, marketer

pytestmark = pytest.mark.django_db


def write_events(n: int) -> list[AuditEvent]:
    actor = marketer()
    return [audit.record(action="test.event", actor=actor, human_payload={"n": i}, reason=f"r{i}") for i in range(n)]


def raw_update_reason(event_id: int, reason: str) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET reason = %s WHERE id = %s", [reason, event_id])  # noqa: S608


def test_each_event_links_to_the_hash_of_the_one_before():
    first, second, third = write_events(3)
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert audit.verify_chain() is None


def test_it_keeps_payloads_json_safe_so_hashes_survive_a_reload():
    from decimal import Decimal

    event = audit.record(action="test.decimal", machine_payload={"budget": Decimal("12.50")})
    reloaded = AuditEvent.objects.get(pk=event.pk)
    assert reloaded.machine_payload == {"budget": "12.50"}
    assert audit.event_hash(reloaded) == event.hash


def test_the_model_refuses_to_update_a_saved_event():
    (event,) = write_events(1)
    event.reason = "changed"
    with pytest.raises(ImmutableRowError):
        event.save()


def test_the_model_refuses_to_delete_an_event():
    (event,) = write_events(1)
    with pytest.raises(ImmutableRowError):
        event.delete()


def test_bulk_update_and_delete_are_refused():
    write_events(2)
    with pytest.raises(ImmutableRowError):
        AuditEvent.objects.all().update(reason="x")
    with pytest.raises(ImmutableRowError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


def test_the_actor_label_survives_deleting_the_user():
    user = UserFactory(username="dana", first_name="Dana", last_name="Reyes")
    event = audit.record(action="test.event", actor=user)
    user.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_label == "Dana Reyes (dana)"
    assert audit.verify_chain() is None


def test_verify_names_the_first_tampered_row(db):
    events = write_events(4)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE decisions_auditevent DISABLE TRIGGER decisions_auditevent_append_only")
    raw_update_reason(events[2].id, "nothing to see here")
    problem = audit.verify_chain()
    assert problem is not None
    assert problem.event_id == events[2].id
    with pytest.raises(CommandError, match=f"event {events[2].id}"):
        call_command("verify_audit_log")


def test_verify_notices_a_deleted_row(db):
    events = write_events(3)
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER decisions_auditevent_append_only")
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [events[1].id])  # noqa: S608
    problem = audit.verify_chain()
    assert problem is not None and problem.event_id == events[2].id


def test_verify_command_reports_an_intact_log(capsys):
    write_events(3)
    call_command("verify_audit_log")
    assert "3 events, hash chain verified" in capsys.readouterr().out


def test_postgresql_trigger_refuses_raw_update_and_delete(require_postgres):
    (event,) = write_events(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw_update_reason(event.id, "tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM decisions_auditevent WHERE id = %s", [event.id])
    assert AuditEvent.objects.get(pk=event.id).reason == "r0"
