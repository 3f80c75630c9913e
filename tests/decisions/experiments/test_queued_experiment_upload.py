"""An experiment upload above IMPORT_INLINE_MAX_BYTES is stored and imported by a Celery task (eager here), with
its name, control arm and earlier test kept on its run; the run's page follows it and links to the experiment;
the stuck-work sweep queues a silent one again once, as it was asked for, then fails it."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from decisions import sweeping
from decisions.audit.actions import Action
from decisions.data import experiments, importing
from decisions.data.tasks import import_experiment_file
from decisions.models import AuditEvent, Experiment, ExperimentCustomer, ImportRun
from decisions.queueing import WORKERS_AWAY
from tests.decisions.experiments.files import rows_csv, simulated_csv
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

UPLOAD = reverse("decisions:experiment-import")
CONTROL = "No e-mail"
SILENT = dt.timedelta(minutes=16)


@pytest.fixture(scope="module")
def test_csv() -> bytes:
    return simulated_csv(n=600, seed=11)


@pytest.fixture(autouse=True)
def large_above_a_few_bytes(settings, tmp_path):
    """Every file here is above the inline limit, and stored under this test's own folder."""
    settings.IMPORT_INLINE_MAX_BYTES = 16
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def analyses(monkeypatch) -> list[int]:
    """The analysis each import queues after its commit, recorded instead of run (the engine is tested apart)."""
    queued: list[int] = []
    monkeypatch.setattr(experiments, "_queue_analysis", queued.append)
    return queued


@pytest.fixture
def published(monkeypatch) -> list:
    """Tasks the sweep queues, recorded instead of run."""
    calls = []

    def publish(task, *args):
        calls.append((task.name, args))
        return True

    monkeypatch.setattr(sweeping, "queue_follow_up", publish)
    return calls


def upload(client, content: bytes, **fields):
    fields = {"name": "Autumn", "control": CONTROL, **fields}
    return client.post(UPLOAD, {"file": SimpleUploadedFile("autumn.csv", content, "text/csv"), **fields})


def run_page(client, run: ImportRun, **kwargs):
    return client.get(reverse("decisions:experiment-import-run", args=[run.pk]), **kwargs)


def earlier_test(content: bytes) -> Experiment:
    outcome = experiments.import_experiment(
        stream=SimpleUploadedFile("spring.csv", content), filename="spring.csv", name="Spring", control=CONTROL
    )
    return Experiment.objects.get(pk=outcome.experiment_id)


def age(run: ImportRun) -> None:
    """As if nothing had happened to the run for longer than the sweep's limit."""
    run.refresh_from_db()
    moments = {name: getattr(run, name) for name in ("created_at", "heartbeat_at", "requeued_at") if getattr(run, name)}
    ImportRun.objects.filter(pk=run.pk).update(**{name: moment - SILENT for name, moment in moments.items()})


# --- the upload: stored, queued, imported with its options -----------------------------------------------------


def test_a_large_upload_is_stored_queued_and_imported_with_its_name_control_and_earlier_test(
    client, test_csv, analyses, django_capture_on_commit_callbacks
):
    spring = earlier_test(test_csv)
    admin = guardrail_admin(username="ada")
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, test_csv, follows="Spring")

    run = ImportRun.objects.get(kind="experiment", filename="autumn.csv")
    assert response.status_code == 302
    assert response["Location"] == reverse("decisions:experiment-import-run", args=[run.pk])
    assert Path(run.stored_path).read_bytes() == test_csv
    assert run.options == {"name": "Autumn", "control": CONTROL, "follows": "Spring"}
    assert (run.status, run.rows_written, run.uploaded_by) == (ImportRun.Status.SUCCEEDED, 600, admin)
    autumn = Experiment.objects.get(name="Autumn")
    assert (autumn.control_arm, autumn.follows, autumn.import_run_id) == (CONTROL, spring, run.pk)
    assert autumn.customers == ExperimentCustomer.objects.filter(experiment=autumn).count() == 600
    assert autumn.imported_by == admin
    assert analyses == [spring.pk, autumn.pk]  # each import queues its own analysis


def test_the_queued_import_writes_the_experiment_imported_event(
    client, test_csv, analyses, django_capture_on_commit_callbacks
):
    client.force_login(guardrail_admin(username="ada"))

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, test_csv)

    run = ImportRun.objects.get(kind="experiment")
    event = AuditEvent.objects.get(action=Action.EXPERIMENT_IMPORTED)
    assert event.actor.username == "ada"
    assert event.human_payload == {
        "name": "Autumn",
        "control": CONTROL,
        "filename": "autumn.csv",
        "import_run": run.pk,
        "follows": "",
    }
    assert event.machine_payload["customers"] == 600


def test_the_run_page_shows_progress_while_queued_then_links_to_the_experiment(
    client, test_csv, analyses, django_capture_on_commit_callbacks
):
    client.force_login(guardrail_admin())
    upload(client, test_csv)  # the test's transaction never commits: the task is not queued yet
    run = ImportRun.objects.get(kind="experiment")
    assert run.status == ImportRun.Status.QUEUED and not Experiment.objects.exists()

    page = run_page(client, run).content.decode()
    assert "Queued" in page and "<progress" in page
    assert f'hx-get="{reverse("decisions:experiment-import-run", args=[run.pk])}"' in page
    assert "Experiment Autumn, control arm No e-mail." in page

    import_experiment_file.delay(run.pk)

    partial = run_page(client, run, headers={"HX-Request": "true"}).content.decode()
    experiment = Experiment.objects.get(name="Autumn")
    assert partial.lstrip().startswith('<div id="run-status"') and "<h1>" not in partial
    assert "hx-get" not in partial  # finished: the page stops polling
    assert "Stored 600 customers." in partial
    assert f'href="{reverse("decisions:experiment", args=[experiment.pk])}"' in partial
    assert "Open the experiment Autumn" in partial


def test_the_run_page_shows_the_rows_a_running_import_has_read(client, monkeypatch):
    client.force_login(viewer())
    run = importing.import_run_create(
        filename="autumn.csv", size_bytes=1000, kind="experiment", options={"name": "Autumn", "control": CONTROL}
    )
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)

    class Progress:
        def get(self, key):
            assert key == f"waypoint:import-progress:{run.pk}"
            return b"400:1234"

    monkeypatch.setattr(importing, "_redis", Progress)

    page = run_page(client, run, headers={"HX-Request": "true"}).content.decode()
    assert "Running" in page and 'value="40"' in page and "1,234 rows" in page
    assert "hx-get" in page and "Open the experiment" not in page


def test_a_bad_large_file_fails_on_the_run_page_by_line_and_writes_nothing(
    client, analyses, django_capture_on_commit_callbacks
):
    client.force_login(guardrail_admin())
    content = rows_csv(["arm", "closed_revenue"], [[CONTROL, "1"], ["", "2"], ["B", "x"]])

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, content, name="Bad")

    run = ImportRun.objects.get(kind="experiment")
    assert run.status == ImportRun.Status.FAILED
    assert "line 4: closed_revenue: x: not a number" in run.errors
    page = client.get(response["Location"]).content.decode()
    assert "Import failed" in page and "Nothing was written" in page
    assert "line 3: arm" in page and "line 4: closed_revenue: x: not a number" in page
    assert "Open the experiment" not in page
    assert not Experiment.objects.exists() and not ExperimentCustomer.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.EXPERIMENT_IMPORTED).exists() and analyses == []


def test_a_large_upload_naming_an_existing_experiment_fails_on_its_run_page(
    client, test_csv, analyses, django_capture_on_commit_callbacks
):
    earlier_test(test_csv)
    client.force_login(guardrail_admin())

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, test_csv, name="Spring")

    run = ImportRun.objects.get(kind="experiment", filename="autumn.csv")
    assert run.status == ImportRun.Status.FAILED
    assert "an experiment of this name exists already" in " ".join(run.errors)
    assert Experiment.objects.count() == 1


def test_a_large_dry_run_stores_no_experiment_and_links_to_none(
    client, test_csv, analyses, django_capture_on_commit_callbacks
):
    client.force_login(guardrail_admin())

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, test_csv, dry_run="on")

    run = ImportRun.objects.get(kind="experiment")
    assert run.dry_run and run.status == ImportRun.Status.SUCCEEDED
    page = client.get(response["Location"]).content.decode()
    assert "Would store 600 customers." in page and "Open the experiment" not in page
    assert not Experiment.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.EXPERIMENT_IMPORTED).exists()


@pytest.mark.parametrize("role", [marketer, viewer])
def test_only_guardrail_admins_upload_a_large_test(client, test_csv, role, settings):
    client.force_login(role())
    assert upload(client, test_csv).status_code == 403
    assert not ImportRun.objects.exists() and not Experiment.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "imports").exists()


def test_the_upload_refuses_get(client):
    client.force_login(guardrail_admin())
    assert client.get(UPLOAD).status_code == 405
    assert not ImportRun.objects.exists()


def test_an_upload_without_a_name_is_still_refused_before_anything_is_stored(client, test_csv, settings):
    client.force_login(guardrail_admin())
    response = upload(client, test_csv, name="")
    assert response.status_code == 400 and "give the experiment a name" in response.content.decode()
    assert not ImportRun.objects.exists() and not (Path(settings.MEDIA_ROOT) / "imports").exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_upload_with_the_broker_away_is_kept_and_says_it_will_start(client, test_csv, monkeypatch):
    def broker_down(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(import_experiment_file, "apply_async", broker_down)
    client.force_login(guardrail_admin())

    response = client.post(
        UPLOAD,
        {"file": SimpleUploadedFile("autumn.csv", test_csv, "text/csv"), "name": "Autumn", "control": CONTROL},
        follow=True,
    )

    assert response.status_code == 200 and WORKERS_AWAY in response.content.decode()
    run = ImportRun.objects.get(kind="experiment")
    assert run.status == ImportRun.Status.QUEUED and Path(run.stored_path).exists()
    assert run.options["name"] == "Autumn" and not Experiment.objects.exists()


# --- the stuck-work sweep ---------------------------------------------------------------------------------------


def test_the_sweep_queues_a_silent_experiment_import_again_once_then_fails_it(client, test_csv, published):
    client.force_login(guardrail_admin())
    upload(client, test_csv, follows="Spring")  # never committed here: as if its task were lost
    run = ImportRun.objects.get(kind="experiment")
    age(run)

    first = sweeping.stuck_work_sweep()

    assert first.imports_requeued == [run.pk] and first.imports_failed == []
    assert published == [("decisions.tasks.import_experiment_file", (run.pk,))]
    run.refresh_from_db()
    assert run.requeued_at is not None and run.status == ImportRun.Status.QUEUED
    assert run.options == {"name": "Autumn", "control": CONTROL, "follows": "Spring"}

    second = sweeping.stuck_work_sweep(now=timezone.now() + SILENT)

    assert second.imports_failed == [run.pk] and len(published) == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "after it was queued again (no worker picked it up)" in run.errors[-1]
    event = AuditEvent.objects.get(action=Action.IMPORT_FAILED)
    assert event.human_payload == {"filename": "autumn.csv", "import_run": run.pk}
    assert not Experiment.objects.filter(name="Autumn").exists()


def test_a_requeued_experiment_import_runs_with_its_stored_options_once(client, test_csv, analyses):
    spring = earlier_test(test_csv)
    client.force_login(guardrail_admin())
    upload(client, test_csv, name="Autumn", control=CONTROL, follows="Spring")
    run = ImportRun.objects.get(kind="experiment", filename="autumn.csv")
    age(run)

    assert sweeping.stuck_work_sweep().imports_requeued == [run.pk]  # eager here: the task runs now

    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.heartbeat_at is not None
    autumn = Experiment.objects.get(name="Autumn")
    assert (autumn.control_arm, autumn.follows, autumn.import_run_id) == (CONTROL, spring, run.pk)
    assert import_experiment_file.delay(run.pk).get() == "skipped"  # a late redelivery does nothing
    assert AuditEvent.objects.filter(action=Action.EXPERIMENT_IMPORTED).count() == 2  # Spring's and Autumn's


# --- a real worker (PostgreSQL and Redis) -----------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.slow
def test_a_real_worker_imports_a_stored_test_with_the_options_on_its_run(transactional_db, test_csv, tmp_path):
    from config.celery import app
    from tests.celery_worker import running_worker

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")
    stored = tmp_path / "stored.csv"
    stored.write_bytes(test_csv)
    options = {"name": "Autumn", "control": CONTROL, "follows": ""}
    run = importing.import_run_create(
        filename="autumn.csv", size_bytes=len(test_csv), stored_path=str(stored), kind="experiment", options=options
    )
    app.conf.task_always_eager = False
    try:
        with running_worker() as queue:
            result = import_experiment_file.apply_async(args=[run.pk], queue=queue)
            assert result.get(timeout=90) == ImportRun.Status.SUCCEEDED
    finally:
        app.conf.task_always_eager = True
    experiment = Experiment.objects.get(name="Autumn")
    assert (experiment.control_arm, experiment.customers, experiment.import_run_id) == (CONTROL, 600, run.pk)
    assert AuditEvent.objects.filter(action=Action.EXPERIMENT_IMPORTED).count() == 1
