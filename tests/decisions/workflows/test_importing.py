"""Importing automation inventories: each format told apart by its content, upserted by (platform, id), every bad
record reported with its line or record and nothing written."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from decisions.models import AuditEvent, ImportRun, Workflow
from decisions.workflows import parsing

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "workflows"
EXAMPLE = ROOT / "examples" / "workflows.csv"


def run_command(path, *args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_workflows", str(path), *args, stdout=out, stderr=err)
    return out.getvalue()


def refused(path, *args) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_workflows", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue() + str(raised.value)


def test_the_generic_csv_is_imported_with_its_lists_and_never_fired_rows():
    said = run_command(EXAMPLE)
    assert "workflows.csv (generic CSV): 10 read, upserted 10 workflows (10 new, 0 updated)." in said
    old = Workflow.objects.get(platform="hubspot", workflow_id="wf-102")
    assert (old.name, old.status, old.enrolled_90d) == ("Welcome series (old)", "enabled", 0)
    assert timezone.localdate(old.last_triggered_at) == dt.date(2026, 4, 30)
    assert Workflow.objects.get(workflow_id="wf-103").used_by == ["wf-104"]
    assert Workflow.objects.get(workflow_id="wf-106").tags == ["compliance"]
    teaser = Workflow.objects.get(workflow_id="wf-108")
    assert teaser.last_triggered_at is None and teaser.activity_known
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.rows_written) == ("workflows", "succeeded", 10)
    event = AuditEvent.objects.get(action="workflows.imported")
    assert event.machine_payload["created"] == 10 and event.actor_label == "command line"


def test_hubspot_s_performance_series_gives_the_last_fired_period():
    said = run_command(FIXTURES / "hubspot.json")
    assert "(HubSpot workflows)" in said
    old = Workflow.objects.get(platform="hubspot", workflow_id="5001")
    assert old.status == "enabled"
    assert timezone.localdate(old.last_triggered_at) == dt.date(2026, 4, 1)  # May had no enrolments
    assert old.trigger == "DRIP_DELAY lists 12, 40"
    renewal = Workflow.objects.get(workflow_id="5002")
    assert renewal.status == "disabled"
    assert not renewal.activity_known  # no series: the export does not say when it fired
    assert renewal.created_at == dt.datetime(2023, 1, 1, tzinfo=dt.UTC)  # epoch milliseconds


def test_braze_canvases_map_archived_to_retired_and_last_entry_to_last_fired():
    run_command(FIXTURES / "braze.json")
    winback = Workflow.objects.get(platform="braze", workflow_id="cv-1")
    assert winback.status == "enabled" and winback.tags == ["retention", "email"]
    assert timezone.localdate(winback.last_triggered_at) == dt.date(2026, 1, 15)
    assert Workflow.objects.get(workflow_id="cv-2").status == "retired"


def test_marketo_smart_campaigns_without_a_run_date_are_not_judged_but_never_run_ones_are():
    run_command(FIXTURES / "marketo.json")
    scoring = Workflow.objects.get(platform="marketo", workflow_id="1001")
    assert scoring.status == "enabled" and not scoring.activity_known
    never = Workflow.objects.get(workflow_id="1002")
    assert never.activity_known and never.last_triggered_at is None


def test_a_second_import_updates_by_platform_and_id():
    run_command(EXAMPLE)
    said = run_command(EXAMPLE)
    assert "(0 new, 10 updated)" in said
    assert Workflow.objects.count() == 10


def test_a_retired_workflow_stays_retired_when_an_older_export_still_lists_it_enabled():
    run_command(EXAMPLE)
    Workflow.objects.filter(workflow_id="wf-102").update(status="retired")
    run_command(EXAMPLE)
    assert Workflow.objects.get(workflow_id="wf-102").status == "retired"


def test_every_bad_row_is_reported_by_line_and_nothing_is_written():
    message = refused(FIXTURES / "bad.csv")
    assert "line 3: workflow_id: required" in message
    assert "line 4: status: paused: expected one of enabled, disabled, draft" in message
    assert "line 5: created_at: yesterday: not a date" in message
    assert "line 6: enrolled_90d: -3: negative" in message
    assert "line 7: workflow_id: wf-1: the same hubspot workflow as line 2" in message
    assert "5 problem(s) in bad.csv; nothing was written." in message
    assert Workflow.objects.count() == 0
    assert not AuditEvent.objects.filter(action="workflows.imported").exists()


def test_a_dry_run_writes_nothing():
    said = run_command(EXAMPLE, "--dry-run")
    assert "would upsert 10 workflows" in said and "Dry run: nothing was written." in said
    assert Workflow.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"date,campaign_id,spend\n2026-01-01,C1,3\n", "line 1: header: not a workflow export"),
        (b'{"results": [{"foo": 1}]}', "record 1: format: not a workflow export this version reads"),
        (b"[1, 2", "file: not valid JSON"),
        (b"\xff\xfe\x00", "file: not UTF-8 text"),
        (
            b'{"result": [{"id": 1, "name": "x", "status": "Active", "isActive": "maybe", "createdAt": "2024-01-01"}]}',
            "record 1: isActive: maybe: not true or false",
        ),
    ],
)
def test_files_that_are_not_workflow_exports_are_refused_with_the_reason(content, problem):
    parsed = parsing.parse(content)
    assert any(problem in p for p in parsed.problems), parsed.problems
    assert parsed.records == [] or parsed.problems


def test_a_date_after_tomorrow_is_refused():
    future = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    parsed = parsing.parse(
        f"workflow_id,name,platform,status,last_triggered_at\nw,W,hubspot,enabled,{future}\n".encode()
    )
    assert parsed.problems and "line 2: last_triggered_at" in parsed.problems[0]


def test_a_missing_file_is_refused():
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_workflows", "/nonexistent/workflows.csv")
