"""The transactions upload on the Data page, the page that follows it, and the lifetime value section of the
Objectives page: happy path, bad file, 403, 405, audit."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from decisions.models import AuditEvent, ImportRun, Transaction
from tests.decisions.data.transaction_files import csv_of, simulated
from tests.factories import CampaignFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

UPLOAD = reverse("decisions:transactions-import")
DATA = reverse("decisions:data")
OBJECTIVES = reverse("objectives:objectives")


def upload(client, content: bytes, **fields):
    return client.post(UPLOAD, {"file": SimpleUploadedFile("shop.csv", content, "text/csv"), **fields})


def test_an_admin_uploads_transactions_and_sees_the_model_fitted(client):
    CampaignFactory(external_id="A", name="Spring search")
    client.force_login(guardrail_admin())
    response = upload(client, simulated(["A"], customers=300))
    run = ImportRun.objects.get(kind="transactions")
    assert response.status_code == 302
    assert response["Location"] == reverse("decisions:transaction-import-run", args=[run.pk])
    assert run.status == "succeeded" and run.rows_written == Transaction.objects.count() > 300
    assert AuditEvent.objects.filter(action="data.imported").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert re.search(r"Lifetime value model \((BG|Pareto)/NBD \+ Gamma-Gamma\) fitted on 300 customers", page)
    assert "a customer is worth $" in page
    assert "shop.csv" in client.get(DATA).content.decode()
    objectives = client.get(OBJECTIVES).content.decode()
    assert "of 300 customers" in objectives and "+ Gamma-Gamma) fitted as of" in objectives


@override_settings(IMPORT_INLINE_MAX_BYTES=100)
def test_a_large_upload_runs_as_a_task_and_lands_the_same(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(guardrail_admin())
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, simulated(["A"], customers=100))
    run = ImportRun.objects.get(kind="transactions")
    assert run.stored_path and run.status == "succeeded"
    assert response["Location"] == reverse("decisions:transaction-import-run", args=[run.pk])


def test_a_bad_file_fails_by_line_and_writes_nothing(client):
    client.force_login(guardrail_admin())
    upload(client, csv_of([["c1", "2026-01-02", "ten", ""]]))
    run = ImportRun.objects.get(kind="transactions")
    assert run.status == "failed" and run.errors == ["line 2: amount: ten: not a number"]
    assert Transaction.objects.count() == 0 and not AuditEvent.objects.filter(action="data.imported").exists()
    page = client.get(reverse("decisions:transaction-import-run", args=[run.pk])).content.decode()
    assert "Nothing was written." in page and "line 2: amount: ten: not a number" in page


def test_a_dry_run_upload_writes_no_transaction(client):
    client.force_login(guardrail_admin())
    response = upload(client, simulated(["A"], customers=50), dry_run="on")
    page = client.get(response["Location"]).content.decode()
    assert "would be imported" in page and Transaction.objects.count() == 0


@pytest.mark.parametrize("user", [marketer, viewer])
def test_only_guardrail_admins_may_upload(client, user):
    client.force_login(user())
    assert upload(client, simulated(["A"], customers=50)).status_code == 403
    assert Transaction.objects.count() == 0 and not ImportRun.objects.exists()
    assert 'action="/data/transactions/import/"' not in client.get(DATA).content.decode()


def test_the_upload_takes_only_post(client):
    client.force_login(guardrail_admin())
    assert client.get(UPLOAD).status_code == 405


def test_an_upload_without_a_file_says_so(client):
    client.force_login(guardrail_admin())
    response = client.post(UPLOAD, follow=True)
    assert "Choose a CSV file of transactions to import." in response.content.decode()


def test_the_run_page_shows_only_transaction_imports(client):
    client.force_login(viewer())
    other = ImportRun.objects.create(filename="perf.csv", kind="performance")
    assert client.get(reverse("decisions:transaction-import-run", args=[other.pk])).status_code == 404


def test_the_objectives_page_says_what_lifetime_value_needs_before_any_transactions(client):
    client.force_login(viewer())
    page = client.get(OBJECTIVES).content.decode()
    assert "Customer lifetime value" in page and "No transactions imported yet" in page
