"""The simulated world: known truth the demo, the tests and the benchmarks rely on."""

from datetime import date, timedelta

import numpy as np
import pytest

from decisions.engine.simulator import (
    CLOSE_LAG_DAYS,
    ResponseCurve,
    make_world,
    oracle_budgets,
    simulate_days,
    simulate_history,
    true_marginals,
    true_value,
)

END = date(2026, 6, 30)
COLUMNS = (
    "spend",
    "impressions",
    "clicks",
    "platform_conversions",
    "platform_revenue",
    "leads",
    "pipeline_value",
    "closed_revenue",
)


@pytest.fixture(scope="module")
def world():
    return make_world(40, seed=1)


@pytest.fixture(scope="module")
def history(world):
    return simulate_history(world, days=180, end_date=END)


def test_the_same_seed_gives_the_same_world_and_history(world, history):
    again = make_world(40, seed=1)
    assert again == world
    repeat = simulate_history(again, days=180, end_date=END)
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(repeat, column), getattr(history, column))


def test_a_different_seed_gives_a_different_world(world):
    other = make_world(40, seed=2)
    assert [c.daily_budget for c in other.campaigns] != [c.daily_budget for c in world.campaigns]


def test_history_has_one_row_per_campaign_and_one_column_per_day(world, history):
    assert len(history.dates) == 180
    assert history.dates[-1] == END
    assert history.dates[0] == END - timedelta(days=179)
    for column in COLUMNS:
        assert getattr(history, column).shape == (40, 180), column


def test_no_metric_is_ever_negative(history):
    for column in COLUMNS:
        values = getattr(history, column)
        assert np.nanmin(values) >= 0, column
    assert (history.impressions >= history.clicks).all()


def test_closed_revenue_is_unknown_for_the_last_month_only(history):
    unknown_days = np.isnan(history.closed_revenue).all(axis=0)
    assert unknown_days.sum() == CLOSE_LAG_DAYS
    assert unknown_days[-CLOSE_LAG_DAYS:].all()
    assert not np.isnan(history.closed_revenue[:, :-CLOSE_LAG_DAYS]).any()


def test_rows_give_one_dict_per_campaign_day_with_none_for_unknown_closed_revenue(world, history):
    rows = list(history.rows(world))
    assert len(rows) == 40 * 180
    first, last = rows[0], rows[-1]
    assert set(first) == {"date", "campaign_id", *COLUMNS}
    assert first["campaign_id"] == world.campaigns[0].external_id
    assert first["date"] == history.dates[0]
    assert first["spend"] == pytest.approx(history.spend[0, 0])
    assert isinstance(first["closed_revenue"], float)
    assert last["campaign_id"] == world.campaigns[-1].external_id
    assert last["closed_revenue"] is None


def test_the_world_mixes_channels_platforms_brand_and_a_sensitive_audience(world):
    channels = {c.channel for c in world.campaigns}
    assert {"search", "social", "display", "video", "linkedin"} <= channels
    assert {"google_ads", "meta", "linkedin", "dv360"} <= {c.platform for c in world.campaigns}
    assert 2 <= sum("brand" in c.tags for c in world.campaigns) <= 8
    assert any(c.audience == "lookalike_sensitive" for c in world.campaigns)
    assert len({c.external_id for c in world.campaigns}) == 40


def test_the_trap_share_sets_how_many_campaigns_are_traps():
    assert sum(c.is_trap for c in make_world(40, seed=1).campaigns) == 10
    assert sum(c.is_trap for c in make_world(40, seed=1, trap_share=0.0).campaigns) == 0


def test_weekdays_bring_more_pipeline_per_euro_than_weekends(history):
    weekdays = np.array([d.weekday() for d in history.dates])
    per_spend = history.pipeline_value.sum(axis=0) / history.spend.sum(axis=0)
    assert per_spend[weekdays < 5].mean() > 1.15 * per_spend[weekdays >= 5].mean()


def test_trap_campaigns_look_best_to_the_platform_and_worst_to_the_business(world, history):
    trap = np.array([c.is_trap for c in world.campaigns])
    spend = history.spend.sum(axis=1)
    platform_roas = history.platform_revenue.sum(axis=1) / spend
    pipeline_roas = history.pipeline_value.sum(axis=1) / spend
    assert platform_roas[trap].mean() > 2 * platform_roas[~trap].mean()
    assert pipeline_roas[trap].mean() < 0.5 * pipeline_roas[~trap].mean()
    # And their little pipeline is saturated: the next euro buys almost nothing.
    marginal = true_marginals(world, world.budgets)
    assert marginal[trap].max() < np.median(marginal[~trap])


def test_high_variation_moves_budgets_a_lot_and_low_variation_barely(world, history):
    calm = simulate_history(world, days=180, end_date=END, spend_variation="low")
    today = world.budgets[:, None]
    assert (history.budgets.max(axis=1) / history.budgets.min(axis=1)).mean() > 1.8
    assert np.abs(calm.budgets / today - 1).max() <= 0.03 + 1e-9
    # Both end on the budget the campaign has today.
    np.testing.assert_allclose(history.budgets[:, -1], world.budgets)


def test_it_refuses_an_unknown_spend_variation(world):
    with pytest.raises(ValueError, match="spend_variation"):
        simulate_history(world, days=10, end_date=END, spend_variation="wild")


def test_marginal_matches_a_finite_difference():
    curve = ResponseCurve(ceiling=5000.0, half_saturation=300.0, shape=1.2)
    spend = np.array([10.0, 150.0, 300.0, 900.0])
    step = 1e-3
    numeric = (curve.value(spend + step) - curve.value(spend - step)) / (2 * step)
    np.testing.assert_allclose(curve.marginal(spend), numeric, rtol=1e-5)
    assert curve.value(0.0) == 0.0
    assert curve.value(300.0) == pytest.approx(2500.0)


def test_true_marginals_agree_with_each_curve(world):
    budgets = world.budgets * 1.2
    expected = [c.pipeline_curve.marginal(b) for c, b in zip(world.campaigns, budgets, strict=True)]
    np.testing.assert_allclose(true_marginals(world, budgets), expected)


def test_simulate_days_follows_a_budget_increase_as_the_curve_says(world):
    start = END + timedelta(days=1)
    raised = {c.external_id: c.daily_budget * 1.4 for c in world.campaigns}
    before = simulate_days(world, budgets={}, start_date=start, days=364, seed=5)
    after = simulate_days(world, budgets=raised, start_date=start, days=364, seed=6)

    assert after.spend.sum() / before.spend.sum() == pytest.approx(1.4, rel=0.02)
    observed = after.pipeline_value.sum() / before.pipeline_value.sum()
    expected = true_value(world, world.budgets * 1.4) / true_value(world, world.budgets)
    assert observed == pytest.approx(expected, rel=0.03)
    assert expected > 1.05  # the increase must be worth detecting at all


def test_simulated_pipeline_averages_to_the_true_value_at_the_spend(world):
    days = simulate_days(world, budgets={}, start_date=END, days=364, seed=9)
    # Under-delivery means the average day spends a little under budget.
    assert 0.93 < days.spend.mean(axis=1).sum() / world.budgets.sum() < 0.99
    expected = true_value(world, days.spend.mean(axis=1))
    assert days.pipeline_value.mean(axis=1).sum() == pytest.approx(expected, rel=0.03)


def test_a_zero_budget_spends_nothing_and_brings_no_pipeline(world):
    paused = world.campaigns[0].external_id
    days = simulate_days(world, budgets={paused: 0.0}, start_date=END, days=14)
    assert days.spend[0].sum() == 0
    assert days.pipeline_value[0].sum() == 0
    assert days.spend[1].sum() > 0


def test_simulate_days_is_deterministic_and_refuses_unknown_campaigns(world):
    one = simulate_days(world, budgets={}, start_date=END, days=7)
    two = simulate_days(world, budgets={}, start_date=END, days=7)
    np.testing.assert_array_equal(one.pipeline_value, two.pipeline_value)
    with pytest.raises(KeyError, match="NOPE"):
        simulate_days(world, budgets={"NOPE": 10.0}, start_date=END, days=7)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_reallocating_the_same_total_has_real_but_believable_uplift(seed):
    world = make_world(40, seed=seed)
    today = world.budgets
    base = true_value(world, today)
    free = oracle_budgets(world)
    boxed = oracle_budgets(world, lower=0.7 * today, upper=1.3 * today)

    assert free.sum() == pytest.approx(today.sum(), rel=1e-4)
    assert boxed.sum() == pytest.approx(today.sum(), rel=1e-4)
    assert (boxed >= 0.7 * today - 1e-6).all() and (boxed <= 1.3 * today + 1e-6).all()
    assert 0.10 < true_value(world, free) / base - 1 < 0.35
    assert 0.05 < true_value(world, boxed) / base - 1 < true_value(world, free) / base - 1


def test_the_oracle_beats_random_reallocations(world):
    best = true_value(world, oracle_budgets(world))
    rng = np.random.default_rng(0)
    for _ in range(50):
        shares = rng.dirichlet(np.ones(40))
        assert true_value(world, shares * world.budgets.sum()) < best
