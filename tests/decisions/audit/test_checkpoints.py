"""The chain's head is anchored outside the table in signed checkpoints, so a log that lost its newest rows,
or all of them, no longer verifies."""

import json

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import DatabaseError, connection, transaction
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from decisions import audit
from decisions.audit.checkpoints import read_checkpoints, write_checkpoint
from decisions.audit.tasks import AuditLogBroken, checkpoint_audit_log
from decisions.models import AuditEvent
from tests.decisions.audit import tampering

pytestmark = pytest.mark.django_db


def write_events(n: int) -> list[AuditEvent]:
    return [audit.record(action="test.event", human_payload={"n": i}) for i in range(n)]


def checkpoint_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def refused(message: str) -> str:
    with pytest.raises(CommandError, match=message) as error:
        call_command("verify_audit_log")
    assert error.value.returncode == 1
    return str(error.value)


def test_verify_audit_log_anchors_the_verified_head_in_a_signed_line(audit_checkpoints, capsys):
    events = write_events(3)
    call_command("verify_audit_log")
    (line,) = checkpoint_lines(audit_checkpoints)
    assert line["last_id"] == events[-1].id
    assert line["last_hash"] == events[-1].hash
    assert line["count"] == 3
    assert line["sha256_until"] == 0
    assert len(line["signature"]) == 64
    assert f"checkpoint written to {audit_checkpoints}: 3 events." in capsys.readouterr().out


def test_each_run_appends_and_the_next_run_checks_against_them(audit_checkpoints, capsys):
    write_events(2)
    call_command("verify_audit_log")
    write_events(1)
    call_command("verify_audit_log")
    assert [line["count"] for line in checkpoint_lines(audit_checkpoints)] == [2, 3]
    assert "head checked against 1 signed checkpoint; the furthest, the checkpoint of" in capsys.readouterr().out


def test_no_checkpoint_only_checks(audit_checkpoints):
    write_events(2)
    call_command("verify_audit_log", "--no-checkpoint")
    assert not audit_checkpoints.exists()


def test_an_intact_log_exits_0_from_the_command_line(capsys):
    write_events(2)
    execute_from_command_line(["manage.py", "verify_audit_log"])
    assert "audit log intact: 2 events" in capsys.readouterr().out


def test_deleting_the_newest_rows_exits_1_from_the_command_line(capsys):
    events = write_events(5)
    call_command("verify_audit_log")
    tampering.delete_rows([events[3].id, events[4].id])
    assert audit.verify_chain() is not None
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "verify_audit_log"])
    assert exited.value.code == 1
    stderr = capsys.readouterr().err
    assert f"audit log broken at event {events[4].id}: missing: " in stderr
    assert f"the log ends at event {events[2].id} (3 events)" in stderr
    assert f"recorded 5 events up to event {events[4].id}" in stderr
    assert "The newest events were deleted, or the table was emptied (TRUNCATE)." in stderr


def test_a_shortened_log_that_kept_growing_is_still_found():
    """New rows link to the new head, so the chain itself holds; the checkpoint's head is what is missing."""
    events = write_events(4)
    call_command("verify_audit_log")
    tampering.delete_rows([events[3].id])
    write_events(3)
    refused(f"audit log broken at event {events[3].id}: missing: the checkpoint of .* recorded it as the log's newest")


def test_emptying_the_table_is_found():
    events = write_events(3)
    call_command("verify_audit_log")
    tampering.empty_table()
    assert AuditEvent.objects.count() == 0
    refused(f"missing: the log is empty, but the checkpoint of .* recorded 3 events up to event {events[-1].id}")


def test_postgresql_refuses_truncate(require_postgres):
    write_events(2)
    trigger_refuses = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
    with trigger_refuses, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE decisions_auditevent")
    assert AuditEvent.objects.count() == 2


def test_a_head_re_hashed_with_the_key_still_differs_from_its_checkpoint(settings):
    """Even a holder of the key who rewrites the anchored head is caught by the checkpoint."""
    events = write_events(3)
    call_command("verify_audit_log")
    tampering.rewrite_chain(
        from_id=events[2].id, reason="rewritten", hasher=tampering.hmac_under(settings.WAYPOINT_AUDIT_KEY)
    )
    assert AuditEvent.objects.get(pk=events[2].id).reason == "rewritten"
    refused(f"at event {events[2].id}: hash differs from the one the checkpoint of .* recorded")


def test_a_checkpoint_edited_to_hide_deleted_rows_is_refused(audit_checkpoints):
    events = write_events(4)
    call_command("verify_audit_log")
    tampering.delete_rows([events[3].id])
    line = checkpoint_lines(audit_checkpoints)[0]
    line.update(last_id=events[2].id, last_hash=events[2].hash, count=3)
    audit_checkpoints.write_text(json.dumps(line) + "\n")
    message = refused("audit log cannot be verified: line 1 of the checkpoint file")
    assert "does not carry a valid signature" in message


def test_a_checkpoint_signed_with_another_key_is_refused(settings):
    write_events(2)
    head, audit_key = audit.check_chain().head, settings.WAYPOINT_AUDIT_KEY
    settings.WAYPOINT_AUDIT_KEY = "someone-else's-key-long-enough-to-pass-for-one"
    write_checkpoint(head)
    settings.WAYPOINT_AUDIT_KEY = audit_key
    refused("does not carry a valid signature: it was edited, or written under another WAYPOINT_AUDIT_KEY")


def test_a_line_that_is_not_a_checkpoint_is_refused(audit_checkpoints):
    write_events(1)
    audit_checkpoints.write_text('{"count": "many"}\n')
    refused("line 1 of the checkpoint file .* is not a checkpoint")


def test_the_task_anchors_an_intact_log(audit_checkpoints):
    events = write_events(2)
    assert checkpoint_audit_log.delay().get() == (
        f"audit log intact: 2 events, checkpoint written up to event {events[-1].id}"
    )
    assert [checkpoint.head.count for checkpoint in read_checkpoints()] == [2]


def test_the_task_never_anchors_a_broken_log(audit_checkpoints, caplog):
    events = write_events(3)
    tampering.edit_reason(events[1].id, "edited")
    with pytest.raises(AuditLogBroken, match=f"audit log broken at event {events[1].id}"):
        checkpoint_audit_log.delay()
    assert not audit_checkpoints.exists()
    assert "no checkpoint written" in caplog.text


def test_the_checkpoint_task_is_registered_and_scheduled_daily():
    assert "decisions.audit.checkpoint_audit_log" in celery_app.tasks
    scheduled = PeriodicTask.objects.get(task="decisions.audit.checkpoint_audit_log")
    assert (scheduled.crontab.minute, scheduled.crontab.hour, scheduled.crontab.day_of_week) == ("30", "3", "*")
    assert scheduled.enabled
