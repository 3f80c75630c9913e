import numpy as np
import pytest

from decisions.engine.utilization import AT_BUDGET, MIN_DAYS, measure

DAYS = 90


def _noise(seed=0, sd=0.08):
    return np.random.default_rng(seed).lognormal(0.0, sd, DAYS)


def test_demand_limited_campaign_has_a_ceiling_near_what_it_spends():
    budget = np.full(DAYS, 500.0)
    spend = np.minimum(budget, 400.0 * _noise())

    u = measure(spend, budget)

    assert u.limited_by == "demand"
    assert u.days == DAYS
    assert u.share_spent == pytest.approx(0.8, abs=0.03)
    assert u.days_at_budget == 0
    assert u.ceiling == pytest.approx(400.0, rel=0.04)
    assert u.ceiling_low < u.ceiling < u.ceiling_high < 500.0
    assert u.ceiling_high == pytest.approx(400.0 * np.exp(1.2816 * 0.08), rel=0.05)
    assert u.sentence() == (
        f"spent {u.share_spent:.0%} of its budget on 90 of 90 days: demand-limited, a raise would not be spent"
    )


def test_campaign_at_its_budget_every_day_has_no_known_ceiling():
    budget = np.full(DAYS, 300.0)
    spend = budget * 0.995

    u = measure(spend, budget)

    assert u.limited_by == "budget"
    assert u.days_at_budget == DAYS
    assert u.ceiling is None and u.ceiling_low is None and u.ceiling_high is None
    assert u.effective_spend(450.0) == 450.0
    assert u.sentence().endswith("reaching it on 90: budget-limited, a raise would be spent")


def test_tolerance_counts_days_just_short_of_the_budget_as_at_budget():
    budget = np.full(DAYS, 100.0)
    spend = np.full(DAYS, 100.0 * AT_BUDGET)
    spend[:10] = 100.0 * AT_BUDGET - 0.5

    assert measure(spend, budget).days_at_budget == DAYS - 10


def test_lost_impression_share_to_budget_overrides_spend_below_budget():
    budget = np.full(DAYS, 500.0)
    spend = np.minimum(budget, 400.0 * _noise())
    lost = np.full(DAYS, 0.15)

    u = measure(spend, budget, lost_is_budget=lost)

    assert u.limited_by == "budget"
    assert u.ceiling is None
    assert u.lost_is_budget == pytest.approx(0.15)
    assert "losing 15% of impressions to budget: budget-limited" in u.sentence()


def test_zero_lost_impression_share_confirms_demand():
    budget = np.full(DAYS, 500.0)
    spend = np.minimum(budget, 400.0 * _noise())
    lost = np.where(np.arange(DAYS) % 2 == 0, 0.0, np.nan)  # reported on half the days

    u = measure(spend, budget, lost_is_budget=lost)

    assert u.limited_by == "demand"
    assert u.lost_is_budget == 0.0


def test_platform_status_limited_by_budget_counts_as_budget_limited():
    budget = np.full(DAYS, 500.0)
    spend = np.full(DAYS, 350.0)

    u = measure(spend, budget, limited_by_budget=np.ones(DAYS))

    assert u.limited_by == "budget"


def test_missing_days_are_left_out_and_the_budget_may_change():
    budget = np.r_[np.full(45, 200.0), np.full(45, 600.0)]
    spend = np.minimum(budget, 300.0 * _noise(1))
    spend[::9] = np.nan
    budget[5] = np.nan

    u = measure(spend, budget)

    assert u.days == DAYS - 10 - 1
    ok = np.isfinite(spend) & np.isfinite(budget)
    assert u.share_spent == pytest.approx(np.nansum(spend[ok]) / budget[ok].sum())
    # Capped at 200 for half the window, free at ~300 under today's 600: the capped days only say
    # demand was above 200, the free ones say where it sits, and at 600 it would never be reached.
    assert u.days_at_budget >= 35
    assert u.limited_by == "demand"
    assert u.share_days_reaching == 0.0
    assert u.ceiling == pytest.approx(300.0, rel=0.05)
    assert "reaching it on" in u.sentence() and "demand-limited" in u.sentence()


def test_budget_raised_above_a_capped_past_is_unknown_not_demand():
    # Always at its budget, until the budget was raised a week ago: one week says little.
    budget = np.r_[np.full(83, 200.0), np.full(7, 600.0)]
    spend = np.minimum(budget, 300.0 * _noise(1))

    u = measure(spend, budget)

    assert u.limited_by == "unknown"
    assert u.ceiling is None
    assert "not clearly limited" in u.sentence()


def test_today_budget_decides_whether_demand_reaches_it():
    budget = np.full(DAYS, 500.0)
    spend = np.minimum(budget, 400.0 * _noise())

    assert measure(spend, budget, current_budget=380.0).limited_by == "budget"
    assert measure(spend, budget, current_budget=500.0).limited_by == "demand"


def test_a_few_censored_days_do_not_pull_the_ceiling_down():
    budget = np.full(DAYS, 475.0)
    spend = np.minimum(budget, 400.0 * _noise(2, sd=0.1))

    u = measure(spend, budget)

    assert 0 < u.days_at_budget <= 0.1 * DAYS
    assert u.limited_by == "demand"
    assert u.ceiling == pytest.approx(400.0, rel=0.05)
    assert u.ceiling_high <= 475.0
    assert "reaching it on" in u.sentence()


def test_effective_spend_is_capped_at_the_ceiling():
    budget = np.full(DAYS, 500.0)
    spend = np.full(DAYS, 300.0)

    u = measure(spend, budget)

    assert u.effective_spend(500.0) == 300.0
    assert u.effective_spend(250.0) == 250.0
    np.testing.assert_allclose(u.effective_spend(np.array([100.0, 400.0])), [100.0, 300.0])
    assert u.spend_cap == 300.0
    assert u.to_dict()["sentence"] == u.sentence() and u.to_dict()["ceiling"] == 300.0


def test_too_few_days_or_no_spend_is_unknown():
    short = measure(np.full(MIN_DAYS - 1, 10.0), np.full(MIN_DAYS - 1, 100.0))
    idle = measure(np.zeros(DAYS), np.full(DAYS, 100.0))
    empty = measure(np.full(DAYS, np.nan), np.full(DAYS, 100.0))

    assert short.limited_by == "unknown" and short.ceiling is None and short.spend_cap == float("inf")
    assert short.sentence().startswith("only 13 of 13 days")
    assert idle.limited_by == "unknown" and idle.share_spent == 0.0
    assert "spent nothing" in idle.sentence()
    assert empty.days == 0 and np.isnan(empty.share_spent)


def test_zero_or_missing_budget_days_are_not_measured():
    budget = np.full(DAYS, 100.0)
    budget[:30] = 0.0
    spend = np.full(DAYS, 50.0)

    assert measure(spend, budget).days == DAYS - 30


def test_lengths_must_match():
    with pytest.raises(ValueError):
        measure(np.ones(5), np.ones(6))
    with pytest.raises(ValueError):
        measure(np.ones(5), np.ones(5), lost_is_budget=np.ones(4))


def test_utilization_is_frozen():
    u = measure(np.full(DAYS, 50.0), np.full(DAYS, 100.0))
    with pytest.raises(AttributeError):
        u.ceiling = 1.0  # type: ignore[misc]
