"""Work a lost task left behind: silent runs and imports are queued again once, then failed with the reason.

A committed change never answers 500 because its task could not be queued: the page says the work will start
when the workers are back, and the sweep (beat task and `manage.py sweep_stuck_work`) picks it up.
"""

import datetime as dt
import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from decisions import sweeping
from decisions.audit.actions import Action
from decisions.data import importing
from decisions.data.tasks import import_performance_file
from decisions.generation import service as generating
from decisions.generation import tasks as generation_tasks
from decisions.models import AuditEvent, GenerationRun, ImportRun
from decisions.queueing import WORKERS_AWAY
from tests.factories import DailyMetricFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LIMIT = dt.timedelta(minutes=15)
LATER = dt.timedelta(minutes=16)


@pytest.fixture
def published(monkeypatch):
    """Tasks the sweep queues, recorded instead of run; `published.broker_up = False` drops them."""

    class Published(list):
        broker_up = True

    calls = Published()

    def publish(task, *args):
        if calls.broker_up:
            calls.append((task.name, args))
        return calls.broker_up

    monkeypatch.setattr(sweeping, "queue_follow_up", publish)
    return calls


def silent_for(work, delta: dt.timedelta) -> None:
    """Move every moment the sweep reads back by `delta`, as if nothing had happened since."""
    model = type(work)
    work.refresh_from_db()
    opened = "started_at" if model is GenerationRun else "created_at"
    fields = {name: getattr(work, name) for name in (opened, "heartbeat_at", "requeued_at") if getattr(work, name)}
    model.objects.filter(pk=work.pk).update(**{name: moment - delta for name, moment in fields.items()})
    work.refresh_from_db()


def broker_down(*args, **kwargs):
    raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


# --- runs ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_silent_past_the_limit_is_queued_again_once(published):
    DailyMetricFactory()
    run = generating.generation_start().run
    silent_for(run, LATER)

    swept = sweeping.stuck_work_sweep()

    assert swept.runs_requeued == [run.pk]
    assert published == [("decisions.tasks.generate_proposals", (run.pk,))]
    assert sweeping.stuck_work_sweep().runs_requeued == []  # queued again just now: not silent yet
    run.refresh_from_db()
    assert run.status == GenerationRun.Status.RUNNING and run.requeued_at is not None


@pytest.mark.django_db
def test_a_run_still_silent_after_being_queued_again_fails_with_its_reason_and_a_new_run_can_start(published):
    DailyMetricFactory()
    run = generating.generation_start().run
    GenerationRun.objects.filter(pk=run.pk).update(chunks_total=8, chunks_done=7, heartbeat_at=timezone.now())
    silent_for(run, LATER)
    sweeping.stuck_work_sweep()
    run.refresh_from_db()

    swept = sweeping.stuck_work_sweep(now=timezone.now() + LATER)

    assert swept.runs_failed == [run.pk]
    run.refresh_from_db()
    assert run.status == GenerationRun.Status.FAILED and run.finished_at is not None
    reason = run.errors[-1]["error"]
    assert "No sign of life for 15 minutes after it was queued again (its worker stopped)" in reason
    event = AuditEvent.objects.filter(action=Action.GENERATION_FAILED).get()
    assert event.machine_payload["run"] == run.pk and event.machine_payload["errors"][-1]["error"] == reason
    again = generating.generation_start()
    assert again.created and again.run.window_end == run.window_end


@pytest.mark.django_db
def test_generation_start_never_reuses_a_stale_run_but_reuses_a_live_one():
    DailyMetricFactory()
    live = generating.generation_start().run
    assert generating.generation_start().run == live  # unchanged: one run per window while it is alive

    silent_for(live, LATER)
    started = generating.generation_start()

    assert started.created and started.run != live
    live.refresh_from_db()
    assert live.status == GenerationRun.Status.FAILED
    assert "no worker picked it up" in live.errors[-1]["error"]
    assert AuditEvent.objects.filter(action=Action.GENERATION_FAILED).count() == 1


@pytest.mark.django_db
def test_a_run_that_keeps_beating_is_left_alone(published):
    DailyMetricFactory()
    run = generating.generation_start().run
    silent_for(run, LATER)
    GenerationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - LIMIT + dt.timedelta(minutes=1))

    assert sweeping.stuck_work_sweep() == sweeping.Swept()
    assert published == []


@pytest.mark.django_db
def test_finished_chunks_bump_the_heartbeat():
    DailyMetricFactory()
    run = generating.generation_start().run
    assert run.heartbeat_at is None
    generating.plan_chunks(run)
    run.refresh_from_db()
    assert run.heartbeat_at is not None


# --- imports ---------------------------------------------------------------------------------------------------


def queued_import(tmp_path, *, create_campaigns: bool = True) -> ImportRun:
    stored = tmp_path / "generic.csv"
    stored.write_bytes((FIXTURES / "generic.csv").read_bytes())
    return importing.import_run_create(
        filename="generic.csv", size_bytes=stored.stat().st_size, stored_path=str(stored), create_campaigns=True
    )


@pytest.mark.django_db
def test_a_queued_import_never_started_is_queued_again_once_then_failed_after_a_second_limit(tmp_path, published):
    run = queued_import(tmp_path)
    silent_for(run, LATER)

    first = sweeping.stuck_work_sweep()
    assert first.imports_requeued == [run.pk]
    assert published == [("decisions.tasks.import_performance_file", (run.pk, True))]
    assert sweeping.stuck_work_sweep(now=timezone.now() + LIMIT - dt.timedelta(minutes=1)) == sweeping.Swept()

    second = sweeping.stuck_work_sweep(now=timezone.now() + LATER)

    assert second.imports_failed == [run.pk] and len(published) == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and run.finished_at is not None
    assert "after it was queued again (no worker picked it up)" in run.errors[-1]
    event = AuditEvent.objects.get(action=Action.IMPORT_FAILED)
    assert event.human_payload == {"filename": "generic.csv", "import_run": run.pk}
    assert event.reason == run.errors[-1]


@pytest.mark.django_db
def test_a_sweep_while_the_broker_is_still_away_leaves_the_import_for_the_next_one(tmp_path, published):
    run = queued_import(tmp_path)
    silent_for(run, LATER)
    published.broker_up = False

    assert sweeping.stuck_work_sweep().imports_requeued == []

    run.refresh_from_db()
    assert run.status == ImportRun.Status.QUEUED and run.requeued_at is None
    published.broker_up = True
    assert sweeping.stuck_work_sweep().imports_requeued == [run.pk]


@pytest.mark.django_db
def test_a_requeued_import_runs_to_the_end_once(tmp_path):
    run = queued_import(tmp_path)
    silent_for(run, LATER)

    assert sweeping.stuck_work_sweep().imports_requeued == [run.pk]  # eager here: the task runs now

    run.refresh_from_db()
    assert (run.status, run.rows_written) == (ImportRun.Status.SUCCEEDED, 4)
    assert run.heartbeat_at is not None
    assert import_performance_file.delay(run.pk).get() == "skipped"  # a late redelivery does nothing
    assert AuditEvent.objects.filter(action=Action.DATA_IMPORTED).count() == 1


# --- the beat task and the command -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_beat_task_and_the_command_sweep(tmp_path, published):
    run = queued_import(tmp_path)
    silent_for(run, LATER)
    assert generation_tasks.sweep_stuck_work.delay().get()["imports_requeued"] == [run.pk]

    silent_for(run, LATER)
    out = io.StringIO()
    call_command("sweep_stuck_work", stdout=out)

    assert "1 imports failed" in out.getvalue()
    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.FAILED


@pytest.mark.django_db
def test_the_sweep_is_on_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="decisions.tasks.sweep_stuck_work", enabled=True).exists()


# --- the pages and the command say the work is queued when the broker is away ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_generate_now_with_the_broker_away_saves_the_run_and_says_it_will_start(admin_client, monkeypatch):
    DailyMetricFactory()
    monkeypatch.setattr(generation_tasks.generate_proposals, "apply_async", broker_down)

    response = admin_client.post(reverse("decisions:run-generate"), follow=True)

    assert response.status_code == 200
    run = GenerationRun.objects.get()
    assert run.status == GenerationRun.Status.RUNNING
    assert WORKERS_AWAY in response.content.decode()


@pytest.mark.django_db(transaction=True)
@override_settings(IMPORT_INLINE_MAX_BYTES=100)
def test_a_large_upload_with_the_broker_away_is_saved_and_says_it_will_start(admin_client, monkeypatch, settings):
    settings.MEDIA_ROOT = settings.BASE_DIR / "test-artifacts" / "stuck-work-media"
    monkeypatch.setattr(import_performance_file, "apply_async", broker_down)

    with (FIXTURES / "generic.csv").open("rb") as upload:
        response = admin_client.post(reverse("decisions:import"), {"file": upload}, follow=True)

    assert response.status_code == 200
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.QUEUED and run.create_campaigns is False
    assert WORKERS_AWAY in response.content.decode()
    Path(run.stored_path).unlink()


@pytest.mark.django_db(transaction=True)
def test_the_command_with_the_broker_away_saves_the_run_and_says_it_will_start(monkeypatch):
    DailyMetricFactory()
    monkeypatch.setattr(generation_tasks.generate_proposals, "apply_async", broker_down)
    out, err = io.StringIO(), io.StringIO()

    call_command("generate_proposals", "--wait", stdout=out, stderr=err)

    assert WORKERS_AWAY in err.getvalue()
    assert GenerationRun.objects.get().status == GenerationRun.Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_holds_its_row_is_busy_not_stuck(require_postgres, published):
    DailyMetricFactory()
    run = generating.generation_start().run
    GenerationRun.objects.filter(pk=run.pk).update(requeued_at=timezone.now())
    silent_for(run, LATER)
    holding, release = threading.Event(), threading.Event()

    def worker_writing_proposals() -> None:
        try:
            with transaction.atomic():
                GenerationRun.objects.select_for_update().get(pk=run.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=worker_writing_proposals)
    worker.start()
    try:
        assert holding.wait(10)
        assert sweeping.stuck_work_sweep() == sweeping.Swept()
    finally:
        release.set()
        worker.join(10)
    assert GenerationRun.objects.get(pk=run.pk).status == GenerationRun.Status.RUNNING
    assert sweeping.stuck_work_sweep().runs_failed == [run.pk]
