"""A campaign's page: its change timeline over its daily spend and objective, linked from History and Data."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions.delivery import outbox as applying
from decisions.models import Application
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, DailyMetricFactory, ObjectiveFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_viewer(client):
    client.force_login(viewer())
    return client


def page(campaign):
    return reverse("decisions:campaign", args=[campaign.external_id])


def chart_of(response) -> dict:
    html = response.content.decode()
    return json.loads(html.split('id="campaign-chart" type="application/json">')[1].split("</script>")[0])


def applied_change(campaign, to: float = 120.0):
    proposal = ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
    )
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    applying.application_apply(application_id=Application.objects.get(proposal=proposal).pk)
    return proposal


def test_it_draws_spend_and_the_objective_with_each_applied_change_marked(as_viewer):
    campaign = CampaignFactory(external_id="C-7", name="Brand search")
    today = timezone.localdate()
    days = [today - dt.timedelta(days=n) for n in (4, 3, 2)]
    for day in days:
        DailyMetricFactory(campaign=campaign, date=day)
    proposal = applied_change(campaign)  # today, after the last imported day
    response = as_viewer.get(page(campaign))
    assert response.status_code == 200
    chart = chart_of(response)
    # Empty days run up to the change, so its line is drawn at its own day.
    expected_days = [*days, today - dt.timedelta(days=1), today]
    assert [p["date"] for p in chart["series"]] == [day.isoformat() for day in expected_days]
    assert chart["series"][0] == {"date": days[0].isoformat(), "spend": 100.0, "objective": 800.0}
    assert chart["series"][-1] == {"date": today.isoformat(), "spend": None, "objective": None}
    [marker] = chart["markers"]
    assert (marker["proposal"], marker["kind"], marker["date"]) == (proposal.pk, "applied", today.isoformat())
    assert chart["objective"] == {"label": "Pipeline value", "unit": "", "money": True}
    html = response.content.decode()
    assert f'id="proposal-{proposal.pk}"' in html and "$100 → $120" in html
    assert "js/campaign.js" in html and "<script>" not in html  # the site's CSP allows no inline script


def test_a_composite_objective_adds_its_terms_and_an_unknown_day_is_a_gap(as_viewer):
    ObjectiveFactory(metric="closed_revenue", weights={"leads": 50})
    campaign = CampaignFactory()
    DailyMetricFactory(campaign=campaign, date=dt.date(2026, 3, 1), closed_revenue=Decimal("200"), leads=2)
    DailyMetricFactory(campaign=campaign, date=dt.date(2026, 3, 2), closed_revenue=None, leads=2)
    chart = chart_of(as_viewer.get(page(campaign)))
    assert [p["objective"] for p in chart["series"]] == [300.0, None]
    assert chart["objective"]["label"] == "Closed revenue + 50 × leads"
    assert chart["objective"]["money"] is False  # dollars plus leads is a score, not dollars


def test_a_shift_that_cuts_the_campaign_is_in_its_timeline(as_viewer):
    donor, receiver = CampaignFactory(external_id="C-cut"), CampaignFactory(external_id="C-gets")
    changes = [
        {"campaign": "C-cut", "field": "daily_budget", "from": 100.0, "to": 70.0},
        {"campaign": "C-gets", "field": "daily_budget", "from": 100.0, "to": 130.0},
    ]
    shift = ProposalFactory(kind=kinds.BUDGET_SHIFT.name, campaign=receiver, changes=changes)
    html = as_viewer.get(page(donor)).content.decode()
    assert f'id="proposal-{shift.pk}"' in html and "$100 → $70" in html and "pending" in html


def test_without_data_it_says_so_and_draws_nothing(as_viewer):
    html = as_viewer.get(page(CampaignFactory())).content.decode()
    assert "No daily figures imported" in html and "campaign-chart" not in html


def test_an_unknown_campaign_is_404_and_ids_with_a_slash_work(as_viewer):
    assert as_viewer.get(reverse("decisions:campaign", args=["nope"])).status_code == 404
    assert as_viewer.get(page(CampaignFactory(external_id="acct/123"))).status_code == 200


def test_it_needs_a_login_and_refuses_a_post(client):
    campaign = CampaignFactory()
    assert client.get(page(campaign)).status_code == 302
    client.force_login(viewer())
    assert client.post(page(campaign)).status_code == 405


def test_the_data_page_and_history_link_to_it(as_viewer):
    campaign = CampaignFactory(external_id="C-linked")
    assert f'href="{page(campaign)}"' in as_viewer.get(reverse("decisions:data")).content.decode()
    html = as_viewer.get(page(campaign)).content.decode()
    assert f'href="{reverse("decisions:history")}?campaign=C-linked"' in html


def test_a_change_months_after_the_last_imported_day_is_listed_but_not_drawn_over_months_of_gap(as_viewer):
    campaign = CampaignFactory()
    DailyMetricFactory(campaign=campaign, date=timezone.localdate() - dt.timedelta(days=90))
    applied_change(campaign)
    chart = chart_of(as_viewer.get(page(campaign)))
    assert len(chart["series"]) == 1 + 31


def test_an_edit_shows_what_the_reviewer_applied_and_what_the_engine_proposed(as_viewer):
    campaign = CampaignFactory(external_id="C-edit")
    proposal = ProposalFactory(
        campaign=campaign, changes=[{"campaign": "C-edit", "field": "daily_budget", "from": 100.0, "to": 140.0}]
    )
    final = [{**proposal.changes[0], "to": 120.0}]
    reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=final)
    html = as_viewer.get(page(campaign)).content.decode()
    assert "$100 → $120" in html and "the engine proposed $100 → $140" in html


def test_the_campaign_and_data_pages_name_the_platform_and_show_money(as_viewer):
    campaign = CampaignFactory(platform="microsoft_ads", daily_budget=Decimal("1234.5"))
    for url in (page(campaign), reverse("decisions:data")):
        body = as_viewer.get(url).content.decode()
        assert "Microsoft Ads" in body and "microsoft_ads" not in body
        assert "$1,234" in body
