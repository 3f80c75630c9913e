"""A real Celery worker process against Redis and PostgreSQL: tasks sent over the broker change the database."""

import os
import shutil
import time
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from decisions.data import importing
from decisions.data.tasks import import_performance_file
from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import DailyMetric, GenerationRun, ImportRun, Proposal
from tests.celery_worker import running_worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def real_broker(transactional_db):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def wait_until(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_a_worker_imports_a_file_and_generates_proposals(real_broker, tmp_path):
    demo_seed(n_campaigns=8, days=60, seed=5)
    stored = tmp_path / "generic.csv"
    shutil.copy(FIXTURES / "generic.csv", stored)
    run = importing.import_run_create(filename="generic.csv", size_bytes=stored.stat().st_size, stored_path=str(stored))
    with running_worker() as queue:
        result = import_performance_file.apply_async(args=[run.pk], queue=queue)
        assert result.get(timeout=60) == ImportRun.Status.SUCCEEDED
        run.refresh_from_db()
        assert run.rows_written > 0
        assert DailyMetric.objects.filter(campaign__external_id__in=_ids_in(stored)).exists()

        started = generating.generation_start()
        generate_proposals.apply_async(args=[started.run.pk], queue=queue)
        wait_until(lambda: GenerationRun.objects.get(pk=started.run.pk).status != GenerationRun.Status.RUNNING)
    finished = GenerationRun.objects.get(pk=started.run.pk)
    assert finished.status == GenerationRun.Status.SUCCEEDED, finished.errors
    assert finished.chunks_done == finished.chunks_total >= 1
    assert Proposal.objects.filter(run=finished).count() == finished.counts["proposals"]


def _ids_in(path: Path) -> list[str]:
    import csv

    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sorted({row["campaign_id"] for row in csv.DictReader(handle)})
