from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from decisions.data import importing
from decisions.data.tasks import import_performance_file
from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun
from tests.factories import guardrail_admin, marketer, viewer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FORM_URL = reverse("decisions:import")
TEST_REDIS = "redis://127.0.0.1:6379/15"


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def admin_client(client):
    admin = guardrail_admin()
    client.force_login(admin)
    client.user = admin
    return client


def run_url(run: ImportRun) -> str:
    return reverse("decisions:import-run", args=[run.pk])


@pytest.mark.django_db
def test_the_form_shows_accepted_columns_to_a_guardrail_admin(admin_client):
    response = admin_client.get(FORM_URL)
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b"Conv. value" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_it_forbids_uploads_to_anyone_but_a_guardrail_admin(client, make_user):
    client.force_login(make_user())
    assert client.get(FORM_URL).status_code == 403
    response = client.post(FORM_URL, {"file": upload("generic.csv")})
    assert response.status_code == 403
    assert not DailyMetric.objects.exists()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(FORM_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_it_refuses_other_methods(admin_client):
    assert admin_client.put(FORM_URL).status_code == 405
    assert admin_client.delete(FORM_URL).status_code == 405
    run = importing.import_run_create(filename="x.csv", size_bytes=1)
    assert admin_client.post(run_url(run)).status_code == 405


@pytest.mark.django_db
def test_a_small_upload_imports_now_and_shows_its_run(admin_client):
    response = admin_client.post(FORM_URL, {"file": upload("google_ads_campaign_report.csv")})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert (run.status, run.rows_written, run.campaigns_created, run.uploaded_by) == (
        "succeeded",
        4,
        2,
        admin_client.user,
    )
    assert DailyMetric.objects.count() == 4
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.human_payload["filename"]) == (
        "data.imported",
        admin_client.user,
        "google_ads_campaign_report.csv",
    )
    page = admin_client.get(run_url(run))
    assert b"Wrote 4 daily rows; 2 new campaigns." in page.content
    assert b"Currency code: unknown column, ignored" in page.content
    assert b"hx-trigger" not in page.content


@pytest.mark.django_db
def test_a_bad_upload_writes_nothing_and_the_run_page_lists_every_problem(admin_client):
    response = admin_client.post(FORM_URL, {"file": upload("bad_rows.csv")}, follow=True)
    assert response.status_code == 200
    assert b"Nothing was written" in response.content
    assert b"line 3: date: 2026-13-01: not a date (expected YYYY-MM-DD)" in response.content
    assert b"line 5: clicks: lots: not a number" in response.content
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
    assert not DailyMetric.objects.exists()
    assert not Campaign.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_binary_upload_is_explained_not_a_crash(admin_client):
    response = admin_client.post(FORM_URL, {"file": upload("photo.csv", b"\x00\x01PNG\x00")}, follow=True)
    assert b"contains NUL bytes: a binary file, not a CSV" in response.content
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_post_without_a_file_shows_the_form_again(admin_client):
    response = admin_client.post(FORM_URL, {})
    assert response.status_code == 400
    assert b"Choose a CSV file to import." in response.content
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_upload_reports_without_writing_data(admin_client):
    admin_client.post(FORM_URL, {"file": upload("generic.csv"), "dry_run": "on"})
    run = ImportRun.objects.get()
    assert (run.dry_run, run.status, run.rows_written) == (True, "succeeded", 4)
    assert not Campaign.objects.exists()
    assert not AuditEvent.objects.exists()
    assert b"Would write 4 daily rows" in admin_client.get(run_url(run)).content


@pytest.mark.django_db
@override_settings(IMPORT_INLINE_MAX_BYTES=100)
def test_a_large_upload_is_stored_and_queued_on_commit(admin_client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    response = admin_client.post(FORM_URL, {"file": upload("generic.csv")})
    run = ImportRun.objects.get()
    assert response["Location"] == run_url(run)
    assert run.status == ImportRun.Status.QUEUED
    assert Path(run.stored_path).parent == tmp_path / "imports"
    assert Path(run.stored_path).read_bytes() == (FIXTURES / "generic.csv").read_bytes()
    page = admin_client.get(run_url(run))
    assert b'hx-trigger="every 1s"' in page.content
    assert b">Refresh</a>" in page.content


@pytest.mark.django_db
@override_settings(IMPORT_INLINE_MAX_BYTES=100)
def test_a_large_upload_runs_as_a_task_once_committed(
    admin_client, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        admin_client.post(FORM_URL, {"file": upload("generic.csv")})
    # The import itself, then what follows a successful one: outcomes, the queue's verdicts, the data's health.
    assert len(callbacks) == 4
    assert "import_performance_file" in repr(callbacks[0]) and "refresh_pending_verdicts" in repr(callbacks[2])
    assert "check_data_health" in repr(callbacks[3])
    run = ImportRun.objects.get()
    assert (run.status, run.rows_written) == ("succeeded", 4)
    assert Campaign.objects.get(external_id="C-100").daily_budget == Decimal("160.00")


@pytest.mark.django_db
def test_htmx_polling_gets_only_the_status_fragment_and_stops_when_finished(admin_client):
    run = importing.import_run_create(filename="big.csv", size_bytes=100)
    running = admin_client.get(run_url(run), headers={"HX-Request": "true"})
    assert b"<html" not in running.content
    assert b'id="run-status"' in running.content
    assert b'hx-trigger="every 1s"' in running.content
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.SUCCEEDED)
    finished = admin_client.get(run_url(run), headers={"HX-Request": "true"})
    assert b'id="run-status"' in finished.content
    assert b"hx-trigger" not in finished.content


@pytest.mark.django_db
@override_settings(REDIS_URL=TEST_REDIS)
def test_the_progress_bar_shows_live_progress_from_redis(admin_client):
    run = importing.import_run_create(filename="big.csv", size_bytes=1000)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    importing.publish_progress(run.pk, 250, 1234)
    try:
        response = admin_client.get(run_url(run), headers={"HX-Request": "true"})
    finally:
        importing.forget_progress(run.pk)
    assert b'<progress max="100" value="25">' in response.content
    assert b"1,234 rows" in response.content


@pytest.mark.django_db
def test_anyone_signed_in_may_read_a_run_but_an_unknown_one_is_404(client):
    client.force_login(viewer())
    run = importing.import_run_create(filename="x.csv", size_bytes=1)
    assert client.get(run_url(run)).status_code == 200
    assert client.get(reverse("decisions:import-run", args=[run.pk + 1])).status_code == 404


@pytest.mark.django_db
def test_the_task_leaves_a_finished_run_alone(tmp_path):
    stored = tmp_path / "generic.csv"
    stored.write_bytes((FIXTURES / "generic.csv").read_bytes())
    run = importing.import_run_create(filename="generic.csv", size_bytes=10, stored_path=str(stored))
    assert import_performance_file.delay(run.pk).get() == "succeeded"
    assert import_performance_file.delay(run.pk).get() == "skipped"
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_task_reruns_an_interrupted_run(tmp_path):
    stored = tmp_path / "generic.csv"
    stored.write_bytes((FIXTURES / "generic.csv").read_bytes())
    run = importing.import_run_create(filename="generic.csv", size_bytes=10, stored_path=str(stored))
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    assert import_performance_file(run.pk) == "succeeded"
    assert DailyMetric.objects.count() == 4


@pytest.mark.django_db
def test_a_failed_import_shows_a_failed_state_not_a_progress_bar(admin_client):
    response = admin_client.post(FORM_URL, {"file": upload("bad_rows.csv")}, follow=True)
    fragment = admin_client.get(run_url(ImportRun.objects.get()), HTTP_HX_REQUEST="true").content
    for page in (response.content, fragment):
        assert b'class="card run-status status-failed"' in page
        assert b"Import failed" in page and b"Nothing was written." in page
        assert b"<progress" not in page and b"hx-trigger" not in page


@pytest.mark.django_db
def test_a_failed_import_without_reported_rows_says_what_to_do(admin_client):
    run = ImportRun.objects.create(filename="big.csv", size_bytes=1000, bytes_read=990, status=ImportRun.Status.FAILED)
    page = admin_client.get(run_url(run)).content
    assert b"Import failed" in page and b"<progress" not in page
    assert b"The import stopped before it could say why." in page
