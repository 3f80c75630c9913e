"""monthly_budget: judged on the projected month-end spend; what it lets the engine do."""

import datetime as dt

import pytest

from objectives.guardrails import CampaignFacts, Change, Rule, budget_limits, check, total_caps, validate_params
from objectives.guardrails.pacing import days_left, month_bounds, projected_spend

TODAY = dt.date(2026, 11, 21)  # data through the 20th: 10 days left of 30
THROUGH = dt.date(2026, 11, 20)


def facts(external_id="C1", **overrides) -> CampaignFacts:
    values = {
        "external_id": external_id,
        "channel": "search",
        "tags": (),
        "audience": "prospects",
        "daily_budget": 100.0,
        "status": "active",
        "month_spend": 2000.0,
        "spend_through": THROUGH,
        "spend_share": 1.0,
    }
    return CampaignFacts(**(values | overrides))


def monthly(amount, scope=None, severity="block") -> Rule:
    return Rule("Monthly", "monthly_budget", scope=scope or {}, severity=severity, params={"amount": amount})


def budget(campaign, before, after) -> Change:
    return Change(campaign, "daily_budget", before, after)


def test_month_bounds_and_days_left():
    assert month_bounds(dt.date(2026, 2, 10)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert days_left(TODAY, THROUGH) == 10
    assert days_left(TODAY, None) == 30  # nothing this month yet: every day is still to come
    assert days_left(TODAY, dt.date(2026, 10, 31)) == 30  # last month's day says nothing about this one
    assert days_left(dt.date(2026, 11, 30), dt.date(2026, 11, 30)) == 0


def test_the_projection_counts_only_the_share_of_the_budget_a_campaign_spends():
    assert projected_spend(facts(spend_share=0.8), today=TODAY) == pytest.approx(2000 + 100 * 0.8 * 10)
    assert projected_spend(facts(), today=TODAY, budget=150) == pytest.approx(3500)
    assert projected_spend(facts(), today=TODAY, paused=True) == pytest.approx(2000)


def test_a_raise_that_pushes_the_projection_over_the_amount_fails_with_both_figures():
    campaigns = {"C1": facts(), "C2": facts("C2")}
    [verdict] = check([budget("C1", 100, 130)], rules=[monthly(6100)], campaigns=campaigns, today=TODAY)
    assert not verdict.passed
    assert verdict.message == (
        "Projected month-end spend $6,300 is over the monthly budget $6,100 (it was $6,000 before this change)"
    )


def test_a_raise_within_the_amount_passes():
    [verdict] = check([budget("C1", 100, 110)], rules=[monthly(3200)], campaigns={"C1": facts()}, today=TODAY)
    assert verdict.passed
    assert verdict.message == "Projected month-end spend $3,100 (monthly budget $3,200)"


def test_a_cut_of_a_scope_already_over_passes():
    [verdict] = check([budget("C1", 100, 90)], rules=[monthly(2500)], campaigns={"C1": facts()}, today=TODAY)
    assert verdict.passed
    assert "but this change does not raise it" in verdict.message


def test_a_resume_counts_the_campaigns_budget_again():
    campaigns = {"C1": facts(status="paused")}
    change = Change("C1", "status", "paused", "active")
    [verdict] = check([change], rules=[monthly(2500)], campaigns=campaigns, today=TODAY)
    assert not verdict.passed


def test_the_scope_adds_up_only_its_campaigns():
    campaigns = {"C1": facts(), "S1": facts("S1", channel="social", month_spend=9000.0)}
    [verdict] = check(
        [budget("C1", 100, 120)], rules=[monthly(3300, scope={"channel": "search"})], campaigns=campaigns, today=TODAY
    )
    assert verdict.passed
    assert verdict.message.startswith("Projected month-end spend of channel search $3,200")


def test_a_campaign_monthly_budget_caps_its_budget_at_what_lands_the_month_never_below_today():
    rule = monthly(3500, scope={"campaign": "C1"})
    assert budget_limits(facts(), [rule])[1] == pytest.approx(150)  # (3500 − 2000) / 10 days
    assert budget_limits(facts(spend_share=0.5), [rule])[1] == pytest.approx(300)
    assert budget_limits(facts(), [monthly(2500, scope={"campaign": "C1"})])[1] == pytest.approx(100)
    assert budget_limits(facts(spend_through=None), [rule])[1] == float("inf")


def test_a_channel_monthly_budget_caps_the_sum_of_its_daily_budgets():
    campaigns = [facts(), facts("C2"), facts("S1", channel="social")]
    [(ids, cap)] = total_caps(campaigns, [monthly(4000 + 10 * 250, scope={"channel": "search"})])
    assert ids == ["C1", "C2"]
    assert cap == pytest.approx(250)
    assert total_caps(campaigns, [monthly(4000 + 10 * 250, severity="warn")]) == []


@pytest.mark.parametrize(("params", "problem"), [({}, "amount: required"), ({"amount": -1}, "amount: must be")])
def test_it_refuses_a_missing_or_negative_amount(params, problem):
    [found] = validate_params("monthly_budget", params)
    assert found.startswith(problem)
