import datetime as dt
import io
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings

from decisions.data import importing
from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun
from tests.factories import CampaignFactory, DailyMetricFactory, guardrail_admin

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TEST_REDIS = "redis://127.0.0.1:6379/15"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(data: bytes) -> tuple[list[importing.Row], importing.PerformanceFile]:
    source = importing.PerformanceFile(io.BytesIO(data))
    return list(source.rows()), source


def problems_of(data: bytes) -> list[str]:
    return [str(problem) for problem in parse(data)[1].problems]


def run_import(data: bytes, **kwargs) -> importing.ImportOutcome:
    kwargs.setdefault("filename", "test.csv")
    return importing.import_performance(stream=io.BytesIO(data), **kwargs)


def snapshot() -> tuple[list, list]:
    return (
        list(Campaign.objects.order_by("external_id").values()),
        list(DailyMetric.objects.order_by("campaign__external_id", "date").values()),
    )


def many_rows(count: int, *, campaigns: int = 50) -> bytes:
    lines = ["date,campaign_id,spend,clicks"]
    start = dt.date(2025, 1, 1)
    for i in range(count):
        lines.append(f"{start + dt.timedelta(days=i // campaigns)},G{i % campaigns},{i % 97}.50,{i % 13}")
    return ("\n".join(lines) + "\n").encode()


# --- parsing, no database ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Day", "date"),
        ("Campaign ID", "campaign_id"),
        ("campaign_id", "campaign_id"),
        ("  CAMPAIGN   id ", "campaign_id"),
        ("Campaign", "campaign_name"),
        ("Cost", "spend"),
        ("Impr.", "impressions"),
        ("Conversions", "platform_conversions"),
        ("Conv. value", "platform_revenue"),
        ("Budget", "daily_budget"),
        ("Pipeline Value", "pipeline_value"),
    ],
)
def test_it_maps_header_aliases_whatever_their_case_and_spacing(header, column):
    assert importing.ALIASES[importing.normalise_header(header)] == column


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.56", Decimal("1234.56")), ("12", Decimal("12.00")), ("0.005", Decimal("0.01")), ("--", None), ("", None)],
)
def test_it_reads_money_with_thousands_separators_and_dashes_for_empty(text, value):
    assert importing.parse_money(text) == value


@pytest.mark.parametrize(
    ("text", "reason"), [("1,23", "not a number"), ("abc", "not a number"), ("-1", "must not be negative")]
)
def test_it_refuses_malformed_or_negative_money(text, reason):
    with pytest.raises(ValueError, match=reason):
        importing.parse_money(text)


def test_it_refuses_an_absurdly_large_quantity():
    with pytest.raises(ValueError, match="too large"):
        importing.parse_quantity("9" * 400)


def test_it_refuses_a_fractional_count():
    assert importing.parse_count("12,345") == 12345
    with pytest.raises(ValueError, match="whole number"):
        importing.parse_count("1.5")


@pytest.mark.parametrize("text", ["2026-01-05", "2026/01/05", "Jan 5, 2026", "January 5, 2026"])
def test_it_reads_the_date_formats_reports_use(text):
    assert importing.parse_date(text) == dt.date(2026, 1, 5)


def test_it_skips_the_google_ads_preamble_and_total_rows():
    rows, source = parse(fixture_bytes("google_ads_campaign_report.csv"))
    assert [(row.line, row.campaign_id, row.date) for row in rows] == [
        (4, "17283940211", dt.date(2026, 1, 1)),
        (5, "17283940211", dt.date(2026, 1, 2)),
        (6, "20551873390", dt.date(2026, 1, 1)),
        (7, "20551873390", dt.date(2026, 1, 2)),
    ]
    assert source.problems == []
    assert source.is_google_ads
    assert rows[0].metrics == {
        "spend": Decimal("1234.56"),
        "impressions": 12345,
        "clicks": 678,
        "platform_conversions": 12.0,
        "platform_revenue": Decimal("3456.78"),
    }
    assert rows[0].attributes == {"name": "Brand - Search - US", "daily_budget": Decimal("1500.00")}
    assert rows[3].metrics["platform_revenue"] is None


def test_it_warns_about_unknown_columns():
    _, source = parse(fixture_bytes("google_ads_campaign_report.csv"))
    assert source.warnings == [
        "line 3: Currency code: unknown column, ignored",
        "line 3: Campaign type: unknown column, ignored",
    ]


def test_it_reports_every_bad_row_with_line_column_value_and_reason():
    assert problems_of(fixture_bytes("bad_rows.csv")) == [
        "line 3: date: 2026-13-01: not a date (expected YYYY-MM-DD)",
        "line 4: spend: -4.00: must not be negative",
        "line 5: campaign_id: : required",
        "line 5: clicks: lots: not a number",
    ]


def test_it_reads_a_file_with_a_byte_order_mark_and_any_column_order():
    rows, source = parse(b"\xef\xbb\xbfspend,campaign_id,date\r\n5.00,C1,2026-02-01\r\n")
    assert source.problems == []
    assert rows[0].campaign_id == "C1"
    assert rows[0].metrics == {"spend": Decimal("5.00")}


def test_it_splits_tags_on_semicolons():
    rows, _ = parse(b"date,campaign_id,tags\n2026-02-01,C1,brand; always-on;;brand\n")
    assert rows[0].attributes == {"tags": ["brand", "always-on"]}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "line 1: file: : the file is empty"),
        (b"date,campaign_id,spend\n", "line 1: file: : no data rows below the header"),
        (b"date,campaign,spend\n2026-01-01,x,1\n", "line 1: campaign_id: : required column missing"),
        (b"hello\nworld\n", "line 1: header: hello: no header row with date and campaign_id columns found"),
        (b"\xff\xfed\x00a\x00", "line 1: file: : the file is UTF-16 text; save it as CSV (UTF-8)"),
        (
            b"date,campaign_id,campaign_name\n2026-01-01,C1,Caf\xe9\n",
            "line 2: file: bytes e9 0a: not UTF-8 text; save the file as CSV (UTF-8)",
        ),
        (
            b"date,campaign_id,Campaign ID\n2026-01-01,C1,C1\n",
            "line 1: Campaign ID: : a second campaign_id column (also campaign_id)",
        ),
        (b"date,campaign_id\n2026-01-01,C1,extra\n", "line 2: row: 3 fields: the header has 2 columns"),
    ],
)
def test_it_explains_unreadable_files_instead_of_failing(data, problem):
    assert problem in problems_of(data)


def test_it_stops_reading_a_binary_file_at_its_first_nul_byte():
    assert problems_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00\n" * 50) == [
        "line 1: file: bytes 89 50 4e 47: not UTF-8 text; save the file as CSV (UTF-8)",
        "line 3: file: : contains NUL bytes: a binary file, not a CSV",
    ]


def test_it_counts_problems_beyond_the_listed_ones():
    data = b"date,campaign_id\n" + b"not-a-date,C1\n" * (importing.MAX_REPORTED_PROBLEMS + 5)
    _, source = parse(data)
    assert source.problem_count == importing.MAX_REPORTED_PROBLEMS + 5
    assert len(source.problems) == importing.MAX_REPORTED_PROBLEMS


class GeneratedCsv(io.RawIOBase):
    """A CSV produced line by line, so the test itself holds no file in memory."""

    def __init__(self, rows: int):
        self._lines = iter([b"date,campaign_id,spend,impressions\n"])
        self._rows = rows

    def readline(self, size=-1):
        line = next(self._lines, None)
        if line is not None:
            return line
        if self._rows == 0:
            return b""
        self._rows -= 1
        return f"2026-01-{1 + self._rows % 28:02d},C{self._rows % 300},{self._rows % 1000}.25,{self._rows}\n".encode()


def peak_parse_memory(rows: int) -> int:
    tracemalloc.start()
    try:
        for _ in importing.PerformanceFile(GeneratedCsv(rows)).rows():
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_it_parses_in_flat_memory_whatever_the_file_size():
    small, large = peak_parse_memory(5_000), peak_parse_memory(50_000)
    assert large < small + 256 * 1024


# --- importing into the database --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_creates_campaigns_and_daily_rows():
    outcome = run_import(fixture_bytes("generic.csv"))
    assert outcome.ok
    assert (outcome.rows_read, outcome.rows_written, outcome.campaigns_created) == (4, 4, 2)
    brand = Campaign.objects.get(external_id="C-100")
    assert (brand.name, brand.channel, brand.platform, brand.audience) == (
        "Brand search",
        "search",
        "google_ads",
        "prospects",
    )
    assert brand.tags == ["brand", "always-on"]
    assert brand.daily_budget == Decimal("160.00")
    day = DailyMetric.objects.get(campaign=brand, date=dt.date(2026, 1, 1))
    assert (day.spend, day.impressions, day.clicks, day.platform_conversions) == (Decimal("120.50"), 10000, 420, 12.0)
    assert (day.platform_revenue, day.leads, day.pipeline_value) == (Decimal("1800.00"), 6.0, Decimal("2400.00"))
    assert day.closed_revenue is None


@pytest.mark.django_db
def test_it_imports_a_google_ads_report_and_marks_new_campaigns_as_google_ads():
    outcome = run_import(fixture_bytes("google_ads_campaign_report.csv"))
    assert (outcome.rows_written, outcome.campaigns_created) == (4, 2)
    campaign = Campaign.objects.get(external_id="17283940211")
    assert (campaign.name, campaign.platform, campaign.daily_budget) == (
        "Brand - Search - US",
        "google_ads",
        Decimal("1600.00"),
    )
    assert DailyMetric.objects.get(campaign=campaign, date=dt.date(2026, 1, 2)).spend == Decimal("1301.10")


@pytest.mark.django_db
def test_a_partial_file_updates_only_its_own_columns():
    run_import(fixture_bytes("generic.csv"))
    run_import(fixture_bytes("crm_pipeline.csv"))
    brand_day = DailyMetric.objects.get(campaign__external_id="C-100", date=dt.date(2026, 1, 1))
    assert brand_day.pipeline_value == Decimal("3000.00")
    assert brand_day.spend == Decimal("120.50")
    assert brand_day.closed_revenue is None
    retargeting_day = DailyMetric.objects.get(campaign__external_id="C-200", date=dt.date(2026, 1, 2))
    assert (retargeting_day.pipeline_value, retargeting_day.clicks) == (Decimal("450.00"), 280)


@pytest.mark.django_db
def test_a_crm_row_for_an_unknown_day_leaves_the_other_metrics_unknown():
    campaign = CampaignFactory(external_id="C-100")
    run_import(b"date,campaign_id,pipeline_value\n2026-03-01,C-100,99\n")
    day = DailyMetric.objects.get(campaign=campaign)
    assert (day.pipeline_value, day.spend, day.clicks) == (Decimal("99.00"), None, None)


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing():
    run_import(fixture_bytes("google_ads_campaign_report.csv"))
    run_import(fixture_bytes("generic.csv"))
    before = snapshot()
    again = run_import(fixture_bytes("generic.csv"))
    assert again.ok
    assert again.campaigns_created == 0
    assert snapshot() == before


@pytest.mark.django_db
def test_any_bad_row_writes_nothing_even_after_whole_batches():
    existing = DailyMetricFactory(campaign__external_id="G1", date=dt.date(2025, 1, 1), spend=Decimal("7.00"))
    before = snapshot()
    data = many_rows(importing.BATCH_ROWS * 2 + 10) + b"2025-12-31,G1,-1,0\n"
    outcome = run_import(data, actor=guardrail_admin())
    assert outcome.problems == [f"line {importing.BATCH_ROWS * 2 + 12}: spend: -1: must not be negative"]
    assert (outcome.rows_written, outcome.campaigns_created) == (0, 0)
    assert snapshot() == before
    existing.refresh_from_db()
    assert existing.spend == Decimal("7.00")
    assert not AuditEvent.objects.exists()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_it_writes_one_audit_event_and_a_finished_run_with_the_data():
    admin = guardrail_admin()
    outcome = run_import(fixture_bytes("generic.csv"), actor=admin, filename="generic.csv", size_bytes=123)
    event = AuditEvent.objects.get()
    run = ImportRun.objects.get()
    assert (event.action, event.actor, outcome.ok) == ("data.imported", admin, True)
    assert event.human_payload["filename"] == "generic.csv"
    assert (event.human_payload["rows"], event.human_payload["campaigns_created"]) == (4, 2)
    assert event.human_payload["import_run"] == run.pk
    assert (run.status, run.rows_written, run.uploaded_by, run.size_bytes) == ("succeeded", 4, admin, 123)
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_dry_run_writes_nothing_at_all():
    CampaignFactory(external_id="C-100")
    before = snapshot()
    outcome = run_import(fixture_bytes("generic.csv"), dry_run=True)
    assert (outcome.ok, outcome.rows_written, outcome.campaigns_created) == (True, 4, 1)
    assert snapshot() == before
    assert not AuditEvent.objects.exists()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_the_budget_comes_from_the_latest_day_whatever_the_row_order():
    run_import(b"date,campaign_id,daily_budget,campaign_name\n2026-01-05,C1,50,New name\n2026-01-01,C1,10,Old name\n")
    campaign = Campaign.objects.get(external_id="C1")
    assert (campaign.daily_budget, campaign.name) == (Decimal("50.00"), "New name")


@pytest.mark.django_db
def test_an_empty_attribute_cell_keeps_the_campaigns_value():
    CampaignFactory(external_id="C1", name="Kept", daily_budget=Decimal("70.00"))
    run_import(b"date,campaign_id,campaign_name,daily_budget,spend\n2026-01-05,C1,,--,3\n")
    campaign = Campaign.objects.get(external_id="C1")
    assert (campaign.name, campaign.daily_budget) == ("Kept", Decimal("70.00"))


@pytest.mark.django_db
def test_a_repeated_campaign_day_keeps_the_later_row_and_warns():
    outcome = run_import(b"date,campaign_id,spend\n2026-01-05,C1,3\n2026-01-05,C1,4\n")
    assert DailyMetric.objects.get().spend == Decimal("4.00")
    assert outcome.warnings == ["line 3: same campaign and date as line 2; the later row is used"]


@pytest.mark.django_db
def test_it_reports_progress_every_batch():
    seen = []
    run_import(many_rows(importing.BATCH_ROWS * 3), on_progress=lambda b, r: seen.append((b, r)))
    assert [rows for _, rows in seen] == [importing.BATCH_ROWS, importing.BATCH_ROWS * 2, importing.BATCH_ROWS * 3]
    assert seen[0][0] < seen[1][0] < seen[2][0]


# --- runs ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_run_records_its_problems_and_writes_no_data():
    run = importing.import_run_create(filename="bad_rows.csv", size_bytes=10, actor=guardrail_admin())
    importing.import_run_execute(run=run, stream=io.BytesIO(fixture_bytes("bad_rows.csv")))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.errors[0] == "line 3: date: 2026-13-01: not a date (expected YYYY-MM-DD)"
    assert len(run.errors) == 4
    assert run.finished_at is not None
    assert not DailyMetric.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_run_reads_its_stored_file(tmp_path):
    stored = tmp_path / "upload.csv"
    stored.write_bytes(fixture_bytes("generic.csv"))
    run = importing.import_run_create(filename="generic.csv", size_bytes=stored.stat().st_size, stored_path=str(stored))
    importing.import_run_execute(run=run)
    run.refresh_from_db()
    assert (run.status, run.rows_written, run.bytes_read, run.progress_pct) == ("succeeded", 4, run.size_bytes, 100)


@pytest.mark.django_db
def test_a_run_whose_file_is_gone_fails_with_a_reason(tmp_path):
    run = importing.import_run_create(filename="gone.csv", size_bytes=5, stored_path=str(tmp_path / "gone.csv"))
    importing.import_run_execute(run=run)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "cannot be read" in run.errors[0]


@pytest.mark.django_db
def test_a_run_that_breaks_unexpectedly_is_marked_failed_not_left_running():
    run = importing.import_run_create(filename="generic.csv", size_bytes=10)
    stream = io.BytesIO(fixture_bytes("generic.csv"))
    stream.close()
    with pytest.raises(ValueError, match="closed file"):
        importing.import_run_execute(run=run, stream=stream)
    run.refresh_from_db()
    assert (run.status, run.errors) == ("failed", ["line 0: import: ValueError: stopped unexpectedly"])


@pytest.mark.django_db
def test_a_dry_run_run_succeeds_without_writing_data():
    run = importing.import_run_create(filename="generic.csv", size_bytes=10, dry_run=True)
    importing.import_run_execute(run=run, stream=io.BytesIO(fixture_bytes("generic.csv")))
    run.refresh_from_db()
    assert (run.status, run.rows_written, run.campaigns_created) == ("succeeded", 4, 2)
    assert not Campaign.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@override_settings(REDIS_URL=TEST_REDIS)
def test_live_progress_travels_through_redis_while_the_run_is_open():
    run = importing.import_run_create(filename="big.csv", size_bytes=1000)
    run.status = ImportRun.Status.RUNNING
    try:
        importing.publish_progress(run.pk, 400, 25)
        live = importing.with_live_progress(run)
        assert (live.bytes_read, live.rows_read, live.progress_pct) == (400, 25, 40)
    finally:
        importing.forget_progress(run.pk)
    assert importing.with_live_progress(ImportRun(pk=run.pk, size_bytes=1000)).bytes_read == 0
