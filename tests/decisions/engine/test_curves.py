"""Curve fitting: known curves come back, thin evidence gives wide intervals, unfittable rows give None."""

import numpy as np
import pytest

from decisions.engine.curves import fit_curves
from decisions.engine.types import hill_value

TRUE = [(500.0, 100.0, 1.0), (2000.0, 300.0, 0.8), (800.0, 60.0, 1.2)]


def _history(truths, *, days=240, spread=(0.4, 1.8), noise=0.1, seed=0):
    """Piecewise-constant budgets around the half-saturation, multiplicative noise."""
    rng = np.random.default_rng(seed)
    spend = np.empty((len(truths), days))
    for i, (_, k, _) in enumerate(truths):
        blocks = rng.uniform(*spread, size=days // 10 + 1) * k
        spend[i] = np.repeat(blocks, 10)[:days] * rng.normal(1.0, 0.03, days)
    c, k, n = (np.array(col)[:, None] for col in zip(*truths, strict=True))
    value = hill_value(spend, c, k, n) * np.exp(rng.normal(-(noise**2) / 2, noise, spend.shape))
    return spend, value


def test_it_recovers_known_curves_within_tolerance():
    spend, value = _history(TRUE)
    fits = fit_curves(spend, value)
    for fit, (c, k, n) in zip(fits, TRUE, strict=True):
        grid = np.linspace(0.5 * k, 1.5 * k, 5)
        true_value = hill_value(grid, c, k, n)
        true_marginal = c * n * (grid / k) ** n / (grid * (1 + (grid / k) ** n) ** 2)
        assert fit.curve.value(grid) == pytest.approx(true_value, rel=0.05)
        assert fit.curve.marginal(grid) == pytest.approx(true_marginal, rel=0.2)
        assert fit.curve.adstock == 0.0


def test_it_gives_a_flat_spend_campaign_a_wide_interval():
    truth = [(500.0, 100.0, 1.0)]
    varied = fit_curves(*_history(truth, spread=(0.4, 1.8)))[0]
    flat = fit_curves(*_history(truth, spread=(0.99, 1.01)))[0]

    def relative_width(fit):
        low, high = fit.marginal_interval(100.0, level=0.8)
        return (high - low) / fit.curve.marginal(100.0)

    assert relative_width(flat) > 3 * relative_width(varied)


def test_it_finds_carryover_where_it_improves_held_out_days():
    rng = np.random.default_rng(3)
    days = 300
    spend = np.repeat(rng.uniform(20, 200, days // 5), 5)[None, :] * rng.normal(1, 0.2, (1, days))
    carried = np.empty_like(spend)
    carried[:, 0] = spend[:, 0]
    for t in range(1, days):
        carried[:, t] = 0.6 * carried[:, t - 1] + 0.4 * spend[:, t]
    value = hill_value(carried, 400.0, 80.0, 1.0) * np.exp(rng.normal(0, 0.05, spend.shape))
    fit = fit_curves(spend, value)[0]
    assert fit.curve.adstock > 0


def test_it_skips_unknown_days_and_refuses_rows_it_cannot_fit():
    spend, value = _history(TRUE[:1], days=60)
    value[0, ::3] = np.nan
    thin = spend[:, :60].copy()
    thin_value = np.full_like(thin, np.nan)
    thin_value[0, :10] = 5.0
    no_spend = np.zeros_like(spend)
    fits = fit_curves(np.vstack([spend, thin, no_spend]), np.vstack([value, thin_value, value]))
    assert fits[0] is not None and fits[0].curve.n_days == 40
    assert fits[1] is None
    assert fits[2] is None


def test_impact_draws_describe_the_change_in_value():
    spend, value = _history(TRUE[:1])
    fit = fit_curves(spend, value, n_draws=300)[0]
    impact = fit.impact_draws(100.0, 120.0)
    assert impact.shape == (300,)
    assert np.median(impact) == pytest.approx(fit.curve.value(120.0) - fit.curve.value(100.0), rel=0.1)
    low, high = fit.value_interval(100.0, level=0.8)
    assert low < fit.curve.value(100.0) < high
