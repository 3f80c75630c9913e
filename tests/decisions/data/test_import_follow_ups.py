"""A successful import queues its own follow-ups (outcomes, the queue's verdicts) once it commits.

Whichever way the file came in (the upload page inline, `manage.py import_performance`, the Celery task
behind a large upload), the follow-ups are the same; a dry run or a refused file queues none.
"""

import contextlib
import io
import logging
import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from kombu.exceptions import OperationalError

from decisions import queueing
from decisions.data import importing
from decisions.data.tasks import import_performance_file
from decisions.models import DailyMetric, ImportRun
from decisions.outcomes import tasks as outcome_tasks
from decisions.review import tasks as review_tasks
from tests.factories import guardrail_admin

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# Sorted by name: outcomes, the data-health check, the queue's verdicts.
FOLLOW_UPS = [
    "decisions.outcome_tasks.refresh_outcomes",
    "decisions.tasks.check_data_health",
    "decisions.tasks.refresh_pending_verdicts",
]


def through_the_upload_page(client, tmp_path, name: str, *, dry_run: bool) -> None:
    client.force_login(guardrail_admin())
    upload = SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/csv")
    data = {"file": upload, **({"dry_run": "on"} if dry_run else {})}
    assert client.post(reverse("decisions:import"), data).status_code == 302


def through_the_command(client, tmp_path, name: str, *, dry_run: bool) -> None:
    args = [str(FIXTURES / name), *(["--dry-run"] if dry_run else [])]
    # A refused file: the command exits 1 after listing the problems.
    with contextlib.suppress(CommandError):
        call_command("import_performance", *args, stdout=io.StringIO(), stderr=io.StringIO())


def through_the_task(client, tmp_path, name: str, *, dry_run: bool) -> None:
    stored = tmp_path / name
    shutil.copy(FIXTURES / name, stored)
    run = importing.import_run_create(
        filename=name, size_bytes=stored.stat().st_size, dry_run=dry_run, stored_path=str(stored)
    )
    import_performance_file(run.pk)


ENTRY_POINTS = [through_the_upload_page, through_the_command, through_the_task]


def queued(callbacks) -> list[str]:
    """Names of the tasks the callbacks would publish."""
    return sorted(callback.args[0].name for callback in callbacks if callback.func is queueing.queue_follow_up)


@pytest.mark.parametrize("import_through", ENTRY_POINTS)
def test_a_successful_import_queues_both_follow_ups_once_on_commit(
    import_through, client, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        import_through(client, tmp_path, "generic.csv", dry_run=False)
    assert queued(callbacks) == FOLLOW_UPS


@pytest.mark.parametrize("import_through", ENTRY_POINTS)
@pytest.mark.parametrize(("name", "dry_run"), [("generic.csv", True), ("bad_rows.csv", False)])
def test_a_dry_run_or_a_refused_file_queues_nothing(
    import_through, name, dry_run, client, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        import_through(client, tmp_path, name, dry_run=dry_run)
    assert callbacks == []


class UnreachableBroker:
    """Stands in for a task whose publish fails, as Celery's does while Redis is down."""

    def __init__(self, name: str):
        self.name = name

    def apply_async(self, *args, **options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_broker_outage_does_not_fail_an_import_that_committed(
    client, tmp_path, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(review_tasks, "refresh_pending_verdicts", UnreachableBroker("verdicts"))
    monkeypatch.setattr(outcome_tasks, "refresh_outcomes", UnreachableBroker("outcomes"))
    with caplog.at_level(logging.ERROR, logger="decisions.queueing"), django_capture_on_commit_callbacks(execute=True):
        through_the_upload_page(client, tmp_path, "generic.csv", dry_run=False)
    assert ImportRun.objects.get().status == ImportRun.Status.SUCCEEDED
    assert DailyMetric.objects.count() == 4
    lost = [record.getMessage() for record in caplog.records if record.name == "decisions.queueing"]
    assert lost == [
        "could not queue outcomes(); the change that set it off stands",
        "could not queue verdicts(); the change that set it off stands",
    ]
