"""The Pacing page, and utilization on the Data, campaign and proposal pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions.reports import weekly
from tests.factories import CampaignFactory, DailyMetricFactory, GuardrailFactory, ProposalFactory, viewer

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def days(campaign, n: int, *, spend: str, budget: str, end: dt.date = TODAY - dt.timedelta(days=1), **extra):
    for i in range(n):
        DailyMetricFactory(
            campaign=campaign,
            date=end - dt.timedelta(days=i),
            spend=Decimal(spend),
            daily_budget=Decimal(budget),
            **extra,
        )


def demand_limited(name="Search – Generic", **extra):
    campaign = CampaignFactory(name=name, daily_budget=Decimal("100.00"))
    days(campaign, 30, spend="79.00", budget="100.00", **extra)
    return campaign


# --- the Pacing page ----------------------------------------------------------------------------------


def test_the_pacing_page_shows_each_monthly_budgets_course(client, today):
    campaign = CampaignFactory(external_id="C-1", name="Brand", daily_budget=Decimal("100.00"))
    days(campaign, 20, spend="120.00", budget="100.00")
    GuardrailFactory(name="Brand month", kind="monthly_budget", scope={"campaign": "C-1"}, params={"amount": 3000})
    client.force_login(viewer())
    response = client.get(reverse("decisions:pacing"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Brand month" in text
    assert "$2,400" in text  # spent to date: 20 days × 120
    assert "$2,000" in text  # pro-rated target: 3,000 × 20/30
    assert "120%" in text  # pace
    assert "$3,600" in text  # projected: 2,400 + 10 days × 100 × 1.2
    assert "over pace" in text
    assert "90%–110%" in text  # the band, from the setting
    assert 'data-pacing-chart="pacing-chart-0"' in text


def test_the_pacing_page_says_how_to_add_a_monthly_budget_when_there_is_none(client, today):
    client.force_login(viewer())
    response = client.get(reverse("decisions:pacing"))
    assert b"No monthly budget yet" in response.content
    assert b"pacing.js" not in response.content


def test_the_band_setting_shows_on_the_page(client, today, settings):
    settings.WAYPOINT_PACING_BAND = (0.95, 1.05)
    client.force_login(viewer())
    assert "95%–105%" in client.get(reverse("decisions:pacing")).content.decode()


def test_the_pacing_page_needs_a_login_and_only_reads(client, today):
    assert client.get(reverse("decisions:pacing")).status_code == 302
    client.force_login(viewer())
    assert client.post(reverse("decisions:pacing")).status_code == 405


# --- utilization on the pages --------------------------------------------------------------------------


def test_the_data_page_lists_demand_limited_campaigns_in_bounded_queries(client, today, django_assert_max_num_queries):
    limited = demand_limited()
    for _ in range(4):
        demand_limited(name="Another generic")
    client.force_login(viewer())
    with django_assert_max_num_queries(11):
        response = client.get(reverse("decisions:data"))
    text = response.content.decode()
    assert "Demand-limited campaigns" in text
    assert limited.name in text
    assert "spent 79% of its budget on 30 of 90 days: demand-limited, a raise would not be spent" in text
    assert "(spends about $79.00/day of a $100 budget)" in text


def test_the_data_page_has_no_demand_limited_list_when_none_is(client, today):
    campaign = CampaignFactory(name="Always capped")
    days(campaign, 30, spend="100.00", budget="100.00")
    client.force_login(viewer())
    text = client.get(reverse("decisions:data")).content.decode()
    assert "Demand-limited campaigns" not in text
    assert '<span class="badge limited-budget">budget</span>' in text  # its row says what limits it


def test_the_campaign_page_shows_budget_use_and_impression_shares(client, today):
    campaign = demand_limited(impression_share=0.41, lost_is_budget=0.0, lost_is_rank=0.59)
    client.force_login(viewer())
    text = client.get(reverse("decisions:campaign", args=[campaign.external_id])).content.decode()
    assert "Budget use" in text
    assert "Demand-limited" in text
    assert "Spent 79% of its budget on 30 of 90 days: demand-limited, a raise would not be spent." in text
    assert "It spends about <strong>$79.00/day</strong> whatever its budget" in text
    assert "Search impression share 41% · lost to budget 0% · lost to rank 59%" in text


def test_the_campaign_page_says_when_nothing_is_known(client, today):
    campaign = CampaignFactory()
    client.force_login(viewer())
    text = client.get(reverse("decisions:campaign", args=[campaign.external_id])).content.decode()
    assert "what limits it is unknown" in text


def test_the_proposal_page_shows_each_campaigns_budget_use(client, today):
    campaign = demand_limited()
    proposal = ProposalFactory(campaign=campaign)
    client.force_login(viewer())
    text = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert "Budget use" in text
    assert "demand-limited, a raise would not be spent" in text


# --- the weekly report -------------------------------------------------------------------------------


def test_the_weekly_report_shows_pacing(client, today):
    campaign = CampaignFactory(external_id="C-1", daily_budget=Decimal("100.00"))
    days(campaign, 20, spend="60.00", budget="100.00")
    GuardrailFactory(name="Brand month", kind="monthly_budget", scope={"campaign": "C-1"}, params={"amount": 3000})
    report = weekly.weekly_report("2026-W47")  # Nov 16–22: as of Sunday the 22nd, capped at today (the 21st)
    [row] = report["pacing"]["budgets"]
    assert report["pacing"]["as_of"] == TODAY
    assert (row["spent"], row["target_to_date"], row["state"]) == (1200.0, 2000.0, "under")
    assert "2026-W47,pacing,monthly_budget,Brand month,pace,0.6" in weekly.to_csv(report)
    client.force_login(viewer())
    text = client.get(reverse("decisions:reports"), {"week": "2026-W47"}).content.decode()
    assert "Monthly pacing" in text
    assert "under pace" in text
