"""A monthly budget judges a change the same whether every campaign's facts are built or only the touched ones'
(the others summed by group): month-to-date spend, paused campaigns' spend included."""

import datetime as dt
from decimal import Decimal

import pytest

from decisions.review import selectors
from objectives.guardrails import Change, Rule, check
from tests.factories import CampaignFactory, DailyMetricFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 21)


def month(campaign, *, spend: str, budget: str = "100.00", n: int = 20):
    for day in range(1, n + 1):
        DailyMetricFactory(
            campaign=campaign, date=dt.date(2026, 11, day), spend=Decimal(spend), daily_budget=Decimal(budget)
        )


def test_the_month_reaches_the_facts_and_the_verdict_is_the_same_both_ways():
    touched = CampaignFactory(external_id="T", channel="search", daily_budget=Decimal("100.00"))
    month(touched, spend="80.00")
    month(
        CampaignFactory(channel="search", tags=["brand"], daily_budget=Decimal("200.00")),
        spend="200.00",
        budget="200.00",
    )
    month(
        CampaignFactory(channel="search", status="paused", daily_budget=Decimal("50.00")), spend="50.00", budget="50.00"
    )
    month(CampaignFactory(channel="social"), spend="999.00")
    DailyMetricFactory(campaign=touched, date=dt.date(2026, 10, 31), spend=Decimal("5000.00"))  # last month

    facts = selectors.campaign_facts(today=TODAY)
    assert (facts["T"].month_spend, facts["T"].spend_through, facts["T"].spend_share) == (
        1600.0,
        dt.date(2026, 11, 20),
        pytest.approx(0.8),
    )
    rule = Rule("Search month", "monthly_budget", scope={"channel": "search"}, params={"amount": 11000})
    change = [Change("T", "daily_budget", 100.0, 150.0)]
    full = check(change, rules=[rule], campaigns=facts, today=TODAY)
    summed = check(
        change, rules=[rule], campaigns=selectors.facts_for_change(today=TODAY, external_ids=["T"]), today=TODAY
    )
    assert full == summed
    # Spent: 1,600 + 4,000 + 1,000 (paused, spent before) = 6,600; 10 days left at 150 × 0.8 + 200 × 1.0 = 320/day.
    [verdict] = full
    assert verdict.message == "Projected month-end spend of channel search $9,800 (monthly budget $11,000)"
