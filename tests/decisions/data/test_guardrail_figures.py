"""The guardrails' figures (evidence, this month's spend) are summed once and reused until days change."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from decisions.data import guardrail_figures
from decisions.models import DailyMetric, ImportRun
from decisions.review import selectors
from tests.factories import CampaignFactory, DailyMetricFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(autouse=True)
def reused():
    guardrail_figures.forget()
    with override_settings(WAYPOINT_GUARDRAIL_FIGURES_SECONDS=60):
        yield
    guardrail_figures.forget()


def spent(campaign, day: int, spend: str = "100.00"):
    return DailyMetricFactory(campaign=campaign, date=dt.date(2026, 11, day), spend=Decimal(spend), leads=2.0)


def sums_queries(today=TODAY) -> int:
    """How many queries one snapshot took that read the days themselves (not the stamp)."""
    with CaptureQueriesContext(connection) as queries:
        guardrail_figures.snapshot(today=today)
    return sum("SUM(" in q["sql"].upper() for q in queries.captured_queries)


def test_a_second_decision_reuses_the_sums_and_sees_the_same_facts():
    campaign = CampaignFactory(external_id="T")
    spent(campaign, 1)
    spent(campaign, 2)
    first = selectors.campaign_facts(today=TODAY)["T"]
    assert sums_queries() == 0
    assert selectors.campaign_facts(today=TODAY)["T"] == first
    assert (first.month_spend, first.evidence_days, first.evidence_conversions) == (200.0, 2, 4.0)


def test_a_new_day_row_makes_the_next_decision_sum_again():
    campaign = CampaignFactory(external_id="T")
    spent(campaign, 1)
    assert selectors.campaign_facts(today=TODAY)["T"].month_spend == 100.0
    spent(campaign, 2, "50.00")  # written by another process: only the new row's id tells
    assert selectors.campaign_facts(today=TODAY)["T"].month_spend == 150.0


def test_an_import_run_makes_the_next_decision_sum_again_even_when_it_only_updated_rows():
    campaign = CampaignFactory(external_id="T")
    row = spent(campaign, 1)
    assert selectors.campaign_facts(today=TODAY)["T"].month_spend == 100.0
    DailyMetric.objects.filter(pk=row.pk).update(spend=Decimal("70.00"))
    assert selectors.campaign_facts(today=TODAY)["T"].month_spend == 100.0  # same ids, no run: within the bound
    ImportRun.objects.create(filename="re-import.csv", status=ImportRun.Status.SUCCEEDED)
    assert selectors.campaign_facts(today=TODAY)["T"].month_spend == 70.0


def test_forget_and_a_new_day_and_the_time_bound_each_drop_the_snapshot():
    campaign = CampaignFactory(external_id="T")
    row = spent(campaign, 1)
    guardrail_figures.snapshot(today=TODAY)
    DailyMetric.objects.filter(pk=row.pk).update(spend=Decimal("70.00"))
    guardrail_figures.forget()  # what the importers call after writing days in this process
    assert guardrail_figures.snapshot(today=TODAY).month[campaign.pk].spend == 70.0
    assert sums_queries(TODAY + dt.timedelta(days=1)) > 0  # tomorrow is another month-to-date and window
    DailyMetric.objects.filter(pk=row.pk).update(spend=Decimal("60.00"))
    with override_settings(WAYPOINT_GUARDRAIL_FIGURES_SECONDS=0):
        assert guardrail_figures.snapshot(today=TODAY).month[campaign.pk].spend == 60.0
