"""The importer refuses values the database or the engine cannot hold — money that rounds up to 10^12, dates
after tomorrow or before the earliest year — as `line N: column: value: reason`, like every bad row; a fuzz
of random bytes and random CSV-ish text holds it to a clean result or a clean refusal, never a partial write."""

import datetime as dt
import io
import os
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from decisions.data import importing
from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun

FUZZ_EXAMPLES = int(os.environ.get("WAYPOINT_FUZZ_EXAMPLES", "0"))


def run_import(data: bytes, **kwargs) -> importing.ImportOutcome:
    return importing.import_performance(stream=io.BytesIO(data), filename="bounds.csv", **kwargs)


def stored_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Campaign, DailyMetric, ImportRun, AuditEvent))


# --- money after rounding ---------------------------------------------------------------------------------------


def test_money_that_rounds_up_to_10_to_the_12_is_too_large():
    assert importing.parse_money("999999999999.994") == Decimal("999999999999.99")
    for text in ("999999999999.995", "1000000000000", "9" * 400 + ".5"):
        with pytest.raises(ValueError, match="too large"):
            importing.parse_money(text)


@pytest.mark.django_db
def test_an_import_names_the_line_of_money_that_rounds_up_and_writes_nothing():
    before = stored_counts()
    outcome = run_import(
        b"date,campaign_id,campaign_name,channel,spend\n"
        b"2026-01-01,B-1,Brand,search,10.00\n"
        b"2026-01-02,B-1,Brand,search,999999999999.995\n"
    )
    assert outcome.problems == ["line 3: spend: 999999999999.995: too large"]
    assert stored_counts() == before


# --- dates within a plausible window --------------------------------------------------------------------------------


def test_a_date_after_tomorrow_is_refused_and_tomorrow_is_not():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert importing.parse_date(tomorrow.isoformat()) == tomorrow
    for text in ((tomorrow + dt.timedelta(days=1)).isoformat(), "9999-12-31", "9999/12/31"):
        with pytest.raises(ValueError, match=r"after tomorrow \(\d{4}-\d\d-\d\d\)"):
            importing.parse_date(text)


@override_settings(WAYPOINT_EARLIEST_YEAR=2000)
def test_a_date_before_the_earliest_year_is_refused():
    assert importing.parse_date("2000-01-01") == dt.date(2000, 1, 1)
    with pytest.raises(ValueError, match=r"before 2000-01-01 \(WAYPOINT_EARLIEST_YEAR\)"):
        importing.parse_date("1999-12-31")


def test_the_earliest_year_is_1990_by_default():
    assert importing.parse_date("1990-01-01") == dt.date(1990, 1, 1)
    with pytest.raises(ValueError, match="before 1990-01-01"):
        importing.parse_date("0001-01-01")


@pytest.mark.django_db
def test_one_row_dated_9999_is_refused_so_the_engines_window_never_moves():
    before = stored_counts()
    outcome = run_import(
        b"date,campaign_id,campaign_name,channel,spend\n"
        b"2026-01-01,B-1,Brand,search,10.00\n"
        b"9999-12-31,B-1,Brand,search,10.00\n"
    )
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert outcome.problems == [
        f"line 3: date: 9999-12-31: after tomorrow ({tomorrow}): figures are for days that have happened"
    ]
    assert stored_counts() == before
    assert not DailyMetric.objects.filter(date__year=9999).exists()


# --- fuzz: random bytes and random CSV-ish text with the real headers -------------------------------------------------

CELLS = st.sampled_from(
    [
        "",
        "--",
        "0",
        "-1",
        "1,234.50",
        "999999999999.995",
        "9" * 40,
        "1e5",
        "NaN",
        "2026-01-01",
        "9999-12-31",
        "0001-01-01",
        "2026/02/30",
        "Jan 5, 2026",
        "B-1",
        "Total",
        '"quoted, cell"',
        "=cmd()",
        "search",
        "a;b;;c",
        "x" * 300,
        "\x00",
        "é",
    ]
)
HEADER_NAMES = st.sampled_from([*importing.KNOWN_COLUMNS, "Day", "Campaign ID", "Cost", "unknown"])


@st.composite
def csv_ish(draw) -> bytes:
    header = draw(st.lists(HEADER_NAMES, min_size=1, max_size=8))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 1), max_size=6))
    text = "\n".join(",".join(cells) for cells in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _imports_cleanly_or_refuses_everything(data: bytes, create_campaigns: bool) -> None:
    before = stored_counts()
    outcome = run_import(data, create_campaigns=create_campaigns)
    event("imported" if outcome.ok else "refused")  # --hypothesis-show-statistics shows the mix
    if outcome.ok:
        assert stored_counts()[1] >= before[1]
    else:
        assert outcome.problems and all(problem.startswith("line ") for problem in outcome.problems)
        assert stored_counts() == before


@pytest.mark.django_db
@settings(max_examples=FUZZ_EXAMPLES or 400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | csv_ish(), create_campaigns=st.booleans())
def test_fuzz_any_file_imports_cleanly_or_is_refused_with_nothing_written(data, create_campaigns):
    _imports_cleanly_or_refuses_everything(data, create_campaigns)
