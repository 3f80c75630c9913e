import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def run_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_performance", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def table_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Campaign, DailyMetric, ImportRun, AuditEvent))


@pytest.mark.django_db
def test_it_imports_a_google_ads_report_and_says_what_it_did():
    out, err = run_command(str(FIXTURES / "google_ads_campaign_report.csv"))
    assert "4 rows read, wrote 4 daily rows, 2 new campaigns" in out
    assert "warning: line 3: Currency code: unknown column, ignored" in err
    assert DailyMetric.objects.get(campaign__external_id="20551873390", date="2026-01-01").spend == Decimal("398.20")


@pytest.mark.django_db
def test_it_records_the_run_and_one_audit_event_as_the_command_line():
    run_command(str(FIXTURES / "generic.csv"))
    run = ImportRun.objects.get()
    event = AuditEvent.objects.get()
    assert (run.filename, run.status, run.rows_written, run.uploaded_by) == ("generic.csv", "succeeded", 4, None)
    assert run.size_bytes == (FIXTURES / "generic.csv").stat().st_size
    assert (event.action, event.actor_label, event.human_payload["rows"]) == ("data.imported", "command line", 4)


@pytest.mark.django_db
def test_it_fails_listing_every_bad_row_and_writes_nothing():
    before = table_counts()
    with pytest.raises(CommandError, match="4 problem") as failure:
        run_command(str(FIXTURES / "bad_rows.csv"))
    assert "nothing was written" in str(failure.value)
    assert table_counts() == before


@pytest.mark.django_db
def test_its_error_output_names_each_line_column_value_and_reason():
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_performance", str(FIXTURES / "bad_rows.csv"), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 3: date: 2026-13-01: not a date (expected YYYY-MM-DD)",
        "line 4: spend: -4.00: must not be negative",
        "line 5: campaign_id: : required",
        "line 5: clicks: lots: not a number",
    ]


@pytest.mark.django_db
def test_it_refuses_a_file_in_the_wrong_encoding():
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_performance", str(FIXTURES / "latin1.csv"), stderr=err)
    assert "line 2: file: bytes e9 20 63 72: not UTF-8 text" in err.getvalue()
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_reports_and_writes_nothing_at_all():
    before = table_counts()
    out, _ = run_command(str(FIXTURES / "generic.csv"), "--dry-run")
    assert "would write 4 daily rows, 2 new campaigns (dry run: nothing written)" in out
    assert table_counts() == before


@pytest.mark.django_db
def test_reimporting_through_the_command_changes_no_data():
    run_command(str(FIXTURES / "generic.csv"))
    before = list(DailyMetric.objects.order_by("id").values()), list(Campaign.objects.order_by("id").values())
    out, _ = run_command(str(FIXTURES / "generic.csv"))
    assert "0 new campaigns" in out
    assert (list(DailyMetric.objects.order_by("id").values()), list(Campaign.objects.order_by("id").values())) == before


def test_it_refuses_a_path_that_is_not_a_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_command(str(tmp_path / "missing.csv"))


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "line 1: file: : the file is empty"), (b"\x00\x01\x02", "contains NUL bytes")],
)
def test_it_exits_with_status_1_on_bad_input(tmp_path, content, message):
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    # A throwaway database: the file is refused before any table is read.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, "manage.py", "import_performance", str(path), "--dry-run"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert message in result.stderr
