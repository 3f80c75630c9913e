"""Redis stops under "Generate now" and a large upload, or a worker is killed mid-run: the page answers, and
the work completes once the service is back, without duplicates.

Real PostgreSQL, a private redis-server and a real worker, as in test_redis_outage.py, whose fixtures these
tests borrow. The sweep runs on the worker as beat would run it; the lost work is aged past the limit instead
of waiting fifteen minutes.
"""

import datetime as dt
import io
import os
import signal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from config.celery import app
from decisions.generation import service as generating
from decisions.generation import tasks as generation_tasks
from decisions.models import AuditEvent, GenerationRun, ImportRun, Proposal
from decisions.queueing import WORKERS_AWAY
from tests.celery_worker import running_worker
from tests.decisions.test_redis_outage import celery_on_private_redis, private_redis, wait_until  # noqa: F401
from tests.factories import CampaignFactory, DailyMetricFactory, guardrail_admin

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SILENT = dt.timedelta(minutes=16)


@pytest.fixture
def own_redis(request):
    """The private redis-server this process's Celery (and the worker it starts) talk to."""
    return request.getfixturevalue("celery_on_private_redis")


def age(model, pk: int) -> None:
    opened = "started_at" if model is GenerationRun else "created_at"
    row = model.objects.get(pk=pk)
    model.objects.filter(pk=pk).update(**{opened: getattr(row, opened) - SILENT})


def sweep_on(queue: str) -> dict:
    return generation_tasks.sweep_stuck_work.apply_async(queue=queue).get(timeout=60)


def test_generate_now_while_redis_is_down_answers_and_the_run_completes_once_it_is_back(own_redis, client):
    redis = own_redis
    DailyMetricFactory()
    client.force_login(guardrail_admin())
    redis.stop()

    response = client.post(reverse("decisions:run-generate"), follow=True)

    assert response.status_code == 200 and WORKERS_AWAY in response.content.decode()
    run = GenerationRun.objects.get()
    assert run.status == GenerationRun.Status.RUNNING

    redis.start()
    age(GenerationRun, run.pk)
    with running_worker() as queue:
        assert sweep_on(queue)["runs_requeued"] == [run.pk]
        wait_until(lambda: GenerationRun.objects.get(pk=run.pk).status != GenerationRun.Status.RUNNING, timeout=120)
        assert sweep_on(queue) == {"runs_requeued": [], "runs_failed": [], "imports_requeued": [], "imports_failed": []}

    assert GenerationRun.objects.get().status == GenerationRun.Status.SUCCEEDED
    assert AuditEvent.objects.filter(action="generation.succeeded").count() == 1
    keys = list(Proposal.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))


@override_settings(IMPORT_INLINE_MAX_BYTES=100)
def test_a_large_upload_while_redis_is_down_answers_and_is_imported_once_it_is_back(
    own_redis, client, tmp_path, settings
):
    redis = own_redis
    settings.MEDIA_ROOT = tmp_path
    client.force_login(guardrail_admin())
    redis.stop()

    with (FIXTURES / "generic.csv").open("rb") as upload:
        response = client.post(reverse("decisions:import"), {"file": upload}, follow=True)

    assert response.status_code == 200 and WORKERS_AWAY in response.content.decode()
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.QUEUED

    redis.start()
    age(ImportRun, run.pk)
    with running_worker() as queue:
        assert sweep_on(queue)["imports_requeued"] == [run.pk]
        wait_until(lambda: ImportRun.objects.get(pk=run.pk).is_finished, timeout=120)

    run.refresh_from_db()
    assert (run.status, run.rows_written) == (ImportRun.Status.SUCCEEDED, 4)
    assert AuditEvent.objects.filter(action="data.imported").count() == 1


def test_the_command_while_redis_is_down_says_the_run_will_start(own_redis):
    own_redis.stop()
    DailyMetricFactory()
    err = io.StringIO()

    call_command("generate_proposals", stdout=io.StringIO(), stderr=err)

    assert WORKERS_AWAY in err.getvalue()
    assert GenerationRun.objects.get().status == GenerationRun.Status.RUNNING


def worker_pid(queue: str) -> int:
    (stats,) = app.control.inspect(destination=[f"{queue}@localhost"], timeout=5).stats().values()
    return stats["pid"]


def test_a_worker_killed_mid_run_leaves_a_run_the_sweep_completes_without_duplicates(own_redis, monkeypatch):
    campaigns = [CampaignFactory() for _ in range(6)]
    for campaign in campaigns:
        for day in range(30):
            DailyMetricFactory(campaign=campaign, date=dt.date(2026, 1, 1) + dt.timedelta(days=day))
    run = generating.generation_start().run
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.decisions.slow_worker_settings")
    with running_worker() as queue:
        generation_tasks.generate_proposals.apply_async((run.pk,), queue=queue)
        wait_until(lambda: GenerationRun.objects.get(pk=run.pk).chunks_done >= 2, timeout=60)
        os.kill(worker_pid(queue), signal.SIGKILL)
    run.refresh_from_db()
    assert run.status == GenerationRun.Status.RUNNING and 2 <= run.chunks_done < run.chunks_total

    age(GenerationRun, run.pk)
    GenerationRun.objects.filter(pk=run.pk).update(heartbeat_at=run.heartbeat_at - SILENT)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")
    with running_worker() as queue:
        assert sweep_on(queue)["runs_requeued"] == [run.pk]
        wait_until(lambda: GenerationRun.objects.get(pk=run.pk).status != GenerationRun.Status.RUNNING, timeout=120)

    assert GenerationRun.objects.get(pk=run.pk).status == GenerationRun.Status.SUCCEEDED
    assert AuditEvent.objects.filter(action="generation.succeeded").count() == 1
    keys = list(Proposal.objects.filter(run=run).values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
