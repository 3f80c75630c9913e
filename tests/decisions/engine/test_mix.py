"""The channel mix model against simulated worlds with known truth (no timing here: see benchmarks/)."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from decisions.engine.mix import fit_mix
from decisions.engine.mix_allocation import allocate, plan_shifts
from decisions.engine.mix_checks import FAIL, INFO, REVIEW, run_checks, worst
from decisions.engine.mix_simulator import simulate_mix


def _fit(world, **kwargs):
    return fit_mix(
        world.spend,
        world.outcome,
        world.channels,
        controls=world.controls,
        control_names=world.control_names,
        period_days=world.period_days,
        n_draws=300,
        **kwargs,
    )


@pytest.fixture(scope="module")
def fits():
    worlds = [simulate_mix(seed=seed, noise=0.03) for seed in range(6)]
    return worlds, [_fit(world) for world in worlds]


def test_it_ranks_the_channels_returns_like_the_truth(fits):
    worlds, results = fits
    ranks = [
        spearmanr([c.roas.mean for c in fit.channels], world.true_roas)[0]
        for world, fit in zip(worlds, results, strict=True)
    ]
    assert np.mean(ranks) >= 0.6


def test_its_80_percent_intervals_hold_the_true_roas_about_80_percent_of_the_time(fits):
    worlds, results = fits
    inside = [
        c.roas.low <= truth <= c.roas.high
        for world, fit in zip(worlds, results, strict=True)
        for c, truth in zip(fit.channels, world.true_roas, strict=True)
    ]
    assert 0.6 <= np.mean(inside) <= 0.97


def test_its_moves_capture_most_of_what_the_oracle_gains(fits):
    worlds, results = fits
    captured = []
    for world, fit in zip(worlds, results, strict=True):
        current = np.array([c.current_spend for c in fit.channels])
        plan = plan_shifts(fit.channels, current, max_change_pct=30)
        oracle = allocate(lambda c, s, w=world: w.true_beta[c] * s / (s + w.true_half_saturation[c]), current)
        today = world.true_value(current).sum()
        captured.append((world.true_value(plan.proposed).sum() - today) / (world.true_value(oracle).sum() - today))
        assert plan.proposed.sum() == pytest.approx(current.sum())
        assert np.all(plan.proposed <= current * 1.3 + 1e-6) and np.all(plan.proposed >= current * 0.7 - 1e-6)
    assert np.median(captured) >= 0.6


def test_each_channel_reports_contribution_roas_marginal_roas_curve_and_half_life(fits):
    _, results = fits
    fit = results[0]
    assert 0 < fit.holdout_mape < 0.5
    for channel in fit.channels:
        assert channel.roas.low <= channel.roas.mean <= channel.roas.high
        assert channel.marginal_roas.low <= channel.marginal_roas.high
        assert channel.contribution.mean == pytest.approx(channel.roas.mean * channel.spend)
        mean, low, high = channel.curve
        assert np.all(low <= high) and mean[0] == 0
        assert channel.adstock_half_life_days >= 0
    assert fit.contributions.shape == (fit.periods, len(fit.channels))


def test_it_says_plainly_when_two_channels_cannot_be_told_apart():
    world = simulate_mix(seed=3, collinear_pair=True)
    fit = _fit(world)
    first, second = fit.channels[0], fit.channels[1]
    assert any("cannot be told apart" in text and second.channel in text for text in first.warnings)
    # Each one's interval is wider than the return of the pair taken together allows.
    assert first.roas.high - first.roas.low > 0.5 * max(first.roas.mean, second.roas.mean)
    checks = run_checks(world.spend, world.outcome, world.channels)
    together = [c for c in checks if "move together" in c.title]
    assert together and together[0].status == FAIL and "without the other" in together[0].fix


def test_irrelevant_controls_get_small_effects_and_the_demand_index_a_large_one():
    world = simulate_mix(seed=1, noise=0.03)
    fit = _fit(world)
    effects = fit.control_effects
    assert abs(effects["demand_index"]) > 3 * max(abs(effects["weather_index"]), abs(effects["price_index"]))


def test_daily_data_fit_too():
    world = simulate_mix(seed=2, periods=200, period_days=1)
    fit = _fit(world)
    assert fit.period_days == 1 and len(fit.channels) == 6
    assert all(np.isfinite(c.roas.mean) for c in fit.channels)


def test_the_data_checks_fail_an_outcome_that_never_varies_and_review_a_flat_channel():
    rng = np.random.default_rng(0)
    spend = rng.uniform(100, 200, (40, 3))
    spend[:, 2] = 150 * (1 + rng.normal(0, 0.05, 40))
    checks = run_checks(spend, np.full(40, 1000.0), ["Search", "Video", "Audio"])
    by_title = {c.title: c for c in checks}
    assert by_title["The outcome never varies"].status == FAIL
    assert by_title["Audio's spend barely varies"].status == REVIEW
    assert by_title["Less than a year of data"].status == REVIEW
    assert worst(checks) == FAIL
    assert checks[0].status == FAIL  # the worst first


def test_too_few_periods_fail_and_enough_pass():
    rng = np.random.default_rng(0)
    few = run_checks(rng.uniform(1, 2, (20, 2)), rng.uniform(1, 2, 20), ["A", "B"])
    assert any(c.title == "Too few periods" and c.status == FAIL for c in few)
    enough = run_checks(rng.uniform(1, 2, (104, 2)), rng.uniform(1, 2, 104), ["A", "B"])
    assert worst(enough) == INFO


def test_it_refuses_mismatched_shapes_and_a_zero_outcome():
    with pytest.raises(ValueError):
        fit_mix(np.ones((10, 2)), np.ones(9), ["a", "b"])
    with pytest.raises(ValueError):
        fit_mix(np.ones((10, 2)), np.zeros(10), ["a", "b"])
