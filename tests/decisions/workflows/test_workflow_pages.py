"""The Workflows page and its three writes (import, audit now, threshold), each with the fixed checklist:
happy path, wrong input, the forbidden role (403), the wrong method (405) and its audit event."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from decisions.models import AuditEvent, GenerationRun, ImportRun, Proposal, Workflow
from decisions.reports.email import render_email
from decisions.reports.weekly import iso_week, weekly_report
from decisions.workflows import services
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "workflows.csv"
PAGE, IMPORT = reverse("decisions:workflows"), reverse("decisions:workflows-import")
AUDIT, THRESHOLD = reverse("decisions:workflows-audit"), reverse("decisions:workflows-threshold")


def login(client, user):
    client.force_login(user)
    return client


def upload(content: bytes, name: str = "workflows.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_every_role_reads_the_inventory_with_what_relies_on_what(client):
    services.import_workflows(stream=EXAMPLE.open("rb"), filename="workflows.csv")
    page = login(client, viewer()).get(PAGE).content.decode()
    assert "Welcome series (old)" in page and "Lead scoring sync" in page
    assert "Webinar no-show nudge" in page  # relies on the follow-up: listed in its row
    assert "Import workflows" not in page and "Audit now" not in page and "Save threshold" not in page
    marketer_page = login(client, marketer()).get(PAGE).content.decode()
    assert "Import workflows" in marketer_page and "Audit now" in marketer_page
    assert "Save threshold" not in marketer_page
    assert "Save threshold" in login(client, guardrail_admin()).get(PAGE).content.decode()


def test_the_page_says_what_to_do_with_a_stale_workflow_an_active_one_uses(client):
    now = timezone.now()
    Workflow.objects.create(platform="hubspot", workflow_id="a", name="Welcome series", last_triggered_at=now)
    Workflow.objects.create(
        platform="hubspot",
        workflow_id="b",
        name="Lead scoring sync",
        last_triggered_at=now - dt.timedelta(days=200),
        used_by=["a"],
    )
    page = login(client, viewer()).get(PAGE).content.decode()
    assert "retire together with Welcome series, or change Welcome series first" in page


# --- import ---------------------------------------------------------------------------------------


def test_a_marketer_imports_an_export_and_it_is_audited(client):
    response = login(client, marketer(username="mia")).post(IMPORT, {"file": upload(EXAMPLE.read_bytes())})
    assert response.status_code == 302
    assert Workflow.objects.count() == 10
    assert ImportRun.objects.get().kind == "workflows"
    event = AuditEvent.objects.get(action="workflows.imported")
    assert (event.actor.username, event.human_payload["filename"]) == ("mia", "workflows.csv")
    assert "imported 10 workflows" in client.get(PAGE).content.decode()


def test_a_bad_file_lists_its_problems_and_writes_nothing(client):
    bad = b"workflow_id,name,platform,status\nw1,One,hubspot,paused\n"
    response = login(client, marketer()).post(IMPORT, {"file": upload(bad)})
    assert response.status_code == 400
    assert "line 2: status: paused: expected one of enabled, disabled, draft" in response.content.decode()
    assert Workflow.objects.count() == 0
    assert not AuditEvent.objects.filter(action="workflows.imported").exists()
    assert ImportRun.objects.get().status == "failed"


def test_an_import_without_a_file_is_refused(client):
    assert login(client, marketer()).post(IMPORT).status_code == 400


def test_a_viewer_may_not_import(client):
    assert login(client, viewer()).post(IMPORT, {"file": upload(EXAMPLE.read_bytes())}).status_code == 403
    assert Workflow.objects.count() == 0


def test_import_answers_only_posts(client):
    assert login(client, marketer()).get(IMPORT).status_code == 405


# --- audit now ------------------------------------------------------------------------------------


def test_audit_now_starts_a_run_that_proposes_the_retirements(client, django_capture_on_commit_callbacks):
    Workflow.objects.create(
        platform="hubspot",
        workflow_id="old",
        name="Welcome series (old)",
        last_triggered_at=timezone.now() - dt.timedelta(days=214),
        enrolled_90d=0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, marketer(username="mia")).post(AUDIT)
    assert response.status_code == 302
    run = GenerationRun.objects.get()
    assert run.triggered_by.username == "mia"
    assert AuditEvent.objects.filter(action="generation.started", actor__username="mia").exists()
    assert Proposal.objects.get(kind="retire_workflow").changes[0]["workflow_id"] == "old"


def test_a_viewer_may_not_audit_and_audit_answers_only_posts(client):
    assert login(client, viewer()).post(AUDIT).status_code == 403
    assert login(client, marketer()).get(AUDIT).status_code == 405
    assert not GenerationRun.objects.exists()


# --- threshold ------------------------------------------------------------------------------------


def test_a_guardrail_admin_changes_the_threshold_and_it_is_audited(client):
    response = login(client, guardrail_admin(username="ada")).post(
        THRESHOLD, {"stale_after_days": "60", "reason": "Quarterly campaigns"}
    )
    assert response.status_code == 302
    assert services.stale_after_days() == 60
    event = AuditEvent.objects.get(action="workflow_audit.changed")
    assert (event.machine_payload, event.human_payload, event.reason) == (
        {"stale_after_days": 90},
        {"stale_after_days": 60},
        "Quarterly campaigns",
    )


@pytest.mark.parametrize("value", ["three", "2", "5000", ""])
def test_a_threshold_out_of_range_is_refused_and_nothing_changes(client, value):
    response = login(client, guardrail_admin()).post(THRESHOLD, {"stale_after_days": value})
    assert response.status_code == 400
    assert services.stale_after_days() == 90
    assert not AuditEvent.objects.filter(action="workflow_audit.changed").exists()


def test_a_marketer_may_not_change_the_threshold_and_it_answers_only_posts(client):
    assert login(client, marketer()).post(THRESHOLD, {"stale_after_days": "60"}).status_code == 403
    assert login(client, guardrail_admin()).get(THRESHOLD).status_code == 405
    assert services.stale_after_days() == 90


# --- the weekly report --------------------------------------------------------------------------------


def test_the_weekly_report_counts_workflows_retired_proposed_and_kept(client, django_capture_on_commit_callbacks):
    from decisions.delivery import outbox as applying
    from decisions.models import Application
    from decisions.review import transitions as reviewing

    now = timezone.now()
    for workflow_id in ("a", "b"):
        Workflow.objects.create(
            platform="hubspot",
            workflow_id=workflow_id,
            name=workflow_id,
            last_triggered_at=now - dt.timedelta(days=300),
        )
    with django_capture_on_commit_callbacks(execute=True):
        login(client, marketer()).post(AUDIT)
    (first, second) = Proposal.objects.filter(kind="retire_workflow").order_by("id")
    person = marketer(username="mo")
    reviewing.proposal_approve(proposal=first, actor=person)
    applying.application_apply(application_id=Application.objects.get(proposal=first).pk)
    reviewing.proposal_reject(proposal=second, actor=person, reason_code="strategy", note="Still needed")
    report = weekly_report(iso_week(timezone.localdate()))
    assert report["workflows"] == {"retired": 1, "proposed": 2, "kept": 1}
    page = login(client, viewer()).get(reverse("decisions:reports")).content.decode()
    assert "Workflows retired: <strong>1</strong>" in page
    # The weekly e-mail carries the same line, in both its parts.
    _subject, text, html = render_email(report)
    assert "Workflows retired: 1 · proposed: 2 · kept: 1" in text
    assert "Workflows retired: <strong>1</strong>" in html
