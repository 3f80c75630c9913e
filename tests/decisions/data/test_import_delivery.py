"""Delivery columns: impression shares, the day's budget and the platform's "Limited by budget" verdict."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from decisions.data import importing
from decisions.models import AuditEvent, Campaign, DailyMetric
from tests.factories import CampaignFactory, DailyMetricFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def run_import(data: bytes, **kwargs) -> importing.ImportOutcome:
    kwargs.setdefault("filename", "test.csv")
    return importing.import_performance(stream=io.BytesIO(data), **kwargs)


@pytest.mark.parametrize(
    ("text", "share"),
    [("0.85", 0.85), ("85%", 0.85), ("85.31%", 0.8531), ("< 10%", 0.10), ("> 90%", 0.90), ("0%", 0.0), ("1", 1.0)],
)
def test_it_reads_shares_as_fractions_or_percentages(text, share):
    assert importing.parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["--", ""])
def test_an_empty_share_is_unknown(text):
    assert importing.parse_share(text) is None


@pytest.mark.parametrize("text", ["85", "1.2", "120%", "-5%", "-0.1", "abc", "85 %%"])
def test_it_refuses_a_share_outside_0_to_1(text):
    with pytest.raises(ValueError, match="share between 0 and 1"):
        importing.parse_share(text)


@pytest.mark.parametrize(
    ("text", "limited"),
    [
        ("Limited by budget", True),
        ("Eligible (Limited by budget)", True),
        ("Eligible", False),
        ("Limited (bid strategy)", False),
        ("Enabled", None),
        ("Paused", None),
        ("--", None),
    ],
)
def test_a_status_says_limited_by_budget_or_not_or_nothing(text, limited):
    assert importing.parse_status(text) is limited


def test_google_ads_headers_map_onto_the_delivery_columns():
    source = importing.PerformanceFile(io.BytesIO((FIXTURES / "google_ads_delivery_report.csv").read_bytes()))
    rows = list(source.rows())
    assert source.problems == []
    assert {"impression_share", "lost_is_budget", "lost_is_rank", "status", "campaign_status"} <= set(source.columns)
    assert source.warnings == ["line 3: Currency code: unknown column, ignored"]
    assert rows[2].delivery == {
        "daily_budget": Decimal("400.00"),
        "impression_share": pytest.approx(0.4135),
        "lost_is_budget": pytest.approx(0.521),
        "lost_is_rank": pytest.approx(0.0655),
        "limited_by_budget": True,
    }


def test_an_out_of_range_share_is_reported_with_its_line_and_column():
    data = (
        b"date,campaign_id,spend,impression_share,lost_is_budget\n2026-11-01,C1,10,85,0.1\n2026-11-02,C1,10,0.5,140%\n"
    )
    source = importing.PerformanceFile(io.BytesIO(data))
    list(source.rows())
    reason = "must be a share between 0 and 1, or a percentage between 0% and 100%"
    assert [str(p) for p in source.problems] == [
        f"line 2: impression_share: 85: {reason}",
        f"line 3: lost_is_budget: 140%: {reason}",
    ]


@pytest.mark.django_db
def test_it_stores_the_days_budget_shares_and_verdict_and_sets_the_current_budget():
    outcome = run_import((FIXTURES / "google_ads_delivery_report.csv").read_bytes())
    assert outcome.ok, outcome.problems
    assert (outcome.rows_written, outcome.campaigns_created) == (5, 3)
    generic = Campaign.objects.get(external_id="30551873390")
    assert generic.daily_budget == Decimal("450.00")
    first, second = DailyMetric.objects.filter(campaign=generic).order_by("date")
    assert (first.daily_budget, second.daily_budget) == (Decimal("400.00"), Decimal("450.00"))
    assert (first.impression_share, first.lost_is_budget, first.lost_is_rank) == pytest.approx((0.4135, 0.521, 0.0655))
    assert (first.limited_by_budget, second.limited_by_budget) == (True, True)
    brand = DailyMetric.objects.get(campaign__external_id="17283940211", date=dt.date(2026, 11, 1))
    assert (brand.impression_share, brand.lost_is_budget, brand.limited_by_budget) == pytest.approx((0.9, 0.1, False))
    paused = DailyMetric.objects.get(campaign__external_id="40551873391")
    assert (paused.impression_share, paused.limited_by_budget) == (None, None)
    event = AuditEvent.objects.get(action="data.imported")
    assert "impression_share" in event.human_payload["columns"]


@pytest.mark.django_db
def test_a_bad_share_writes_nothing():
    existing = DailyMetricFactory(campaign__external_id="C1", date=dt.date(2026, 11, 1), impression_share=0.5)
    data = b"date,campaign_id,impression_share\n2026-11-01,C1,0.7\n2026-11-02,C1,2\n"
    outcome = run_import(data)
    assert not outcome.ok
    existing.refresh_from_db()
    assert existing.impression_share == 0.5
    assert DailyMetric.objects.count() == 1


@pytest.mark.django_db
def test_a_shares_only_file_updates_only_those_fields():
    campaign = CampaignFactory(external_id="C1")
    DailyMetricFactory(campaign=campaign, date=dt.date(2026, 11, 1), spend=Decimal("80.00"), daily_budget=100)
    outcome = run_import(b"date,campaign_id,lost_is_budget,status\n2026-11-01,C1,30%,Limited by budget\n")
    assert outcome.ok
    day = DailyMetric.objects.get(campaign=campaign)
    assert (day.spend, day.daily_budget, day.lost_is_budget, day.limited_by_budget) == (
        Decimal("80.00"),
        Decimal("100.00"),
        pytest.approx(0.3),
        True,
    )
