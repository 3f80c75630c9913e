"""import_totals: outcome totals per day or week, with control variables, upserted by date."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from decisions.data.totals import detect_grain, import_totals
from decisions.models import AuditEvent, DailyTotal, ImportRun

WEEKLY = """date,closed_revenue,pipeline_value,demand_index,promo
2026-01-05,"12,000.50",40000,1.2,0
2026-01-12,13000,41000,1.1,1
2026-01-19,11000,,0.9,0
"""


def run_command(tmp_path, text, *args) -> tuple[str, str]:
    path = tmp_path / "totals.csv"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_totals", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_it_imports_weekly_totals_with_controls_and_says_the_grain(tmp_path):
    out, _ = run_command(tmp_path, WEEKLY)
    assert "3 rows read, wrote 3 weekly totals (2026-01-05 to 2026-01-19)" in out
    assert "controls: demand_index, promo" in out
    first = DailyTotal.objects.get(date="2026-01-05", source="totals")
    assert first.closed_revenue == Decimal("12000.50") and first.period_days == 7
    assert first.controls == {"demand_index": 1.2, "promo": 0.0}
    assert DailyTotal.objects.get(date="2026-01-19").pipeline_value is None  # empty = unknown, never 0
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.rows_written) == ("totals", "succeeded", 3)
    assert AuditEvent.objects.get().action == "data.imported"


@pytest.mark.django_db
def test_reimporting_upserts_by_date_and_leaves_deal_totals_alone(tmp_path):
    DailyTotal.objects.create(date="2026-01-05", source="deals", closed_revenue=5)
    run_command(tmp_path, WEEKLY)
    run_command(tmp_path, WEEKLY.replace("13000", "14000"))
    assert DailyTotal.objects.filter(source="totals").count() == 3
    assert DailyTotal.objects.get(date="2026-01-12", source="totals").closed_revenue == Decimal("14000")
    assert DailyTotal.objects.get(source="deals").closed_revenue == Decimal("5")


@pytest.mark.django_db
def test_every_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path):
    bad = """date,closed_revenue,demand
2026-01-05,100,1
not-a-date,100,1
2026-01-19,-5,1
2026-01-26,100,
2026-01-26,100,2
2026-02-02,,3
"""
    with pytest.raises(CommandError, match="4 problem"):
        run_command(tmp_path, bad)
    outcome = import_totals(stream=io.BytesIO(bad.encode()), filename="t.csv")
    assert [problem.split(":")[0] for problem in outcome.problems] == ["line 3", "line 4", "line 5", "line 7"]
    assert "line 5: demand: : required" in outcome.problems[2]
    assert DailyTotal.objects.count() == 0 and ImportRun.objects.count() == 0 and AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_problems_name_line_column_and_reason(tmp_path):
    outcome = import_totals(
        stream=io.BytesIO(b"date,leads,price\n2026-01-01,5,x\n2026-01-02,5,1\n2026-01-02,6,1\n"), filename="t.csv"
    )
    assert outcome.problems == ["line 2: price: x: not a number", "line 4: date: 2026-01-02: named twice (also line 3)"]
    assert not DailyTotal.objects.exists()


@pytest.mark.django_db
def test_a_file_without_an_outcome_column_or_date_is_refused(tmp_path):
    assert (
        "no outcome column"
        in import_totals(stream=io.BytesIO(b"date,demand\n2026-01-01,1\n"), filename="t").problems[0]
    )
    assert (
        "date: : missing required column" in import_totals(stream=io.BytesIO(b"leads\n5\n"), filename="t").problems[0]
    )
    assert "not UTF-8" in import_totals(stream=io.BytesIO(b"date,leads\n\xff\xfe\n"), filename="t").problems[0]


@pytest.mark.django_db
def test_a_dry_run_writes_nothing(tmp_path):
    out, _ = run_command(tmp_path, WEEKLY, "--dry-run")
    assert "would write 3 weekly totals" in out and "dry run" in out
    assert not DailyTotal.objects.exists() and not ImportRun.objects.exists()


def test_the_grain_is_read_from_the_dates():
    import datetime as dt

    day = dt.date(2026, 1, 5)
    assert detect_grain([day + dt.timedelta(days=7 * i) for i in range(5)]) == "weekly"
    assert detect_grain([day + dt.timedelta(days=i) for i in range(10)]) == "daily"
    assert detect_grain([day, day + dt.timedelta(days=3)]) == ""
