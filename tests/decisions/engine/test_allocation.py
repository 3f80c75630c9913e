"""Allocation: every bound holds, the total is kept, and the bisection finds the true optimum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from decisions.engine.allocation import allocate, allocate_detailed, bounds_from_limits
from decisions.engine.curves import fit_curves
from decisions.engine.types import Bounds, FittedCurve, hill_value


def _curve(c, k, n):
    return FittedCurve(
        ceiling=c, half_saturation=k, shape=n, adstock=0.0, n_days=90, spend_min=1, spend_max=1e4, residual_sd=1
    )


def _random_case(rng, size, max_shape):
    curves = [
        _curve(c, k, n)
        for c, k, n in zip(
            rng.uniform(100, 2000, size), rng.uniform(10, 400, size), rng.uniform(0.5, max_shape, size), strict=True
        )
    ]
    return curves, rng.uniform(20, 300, size)


def _total_value(curves, budgets):
    return sum(float(c.value(b)) for c, b in zip(curves, budgets, strict=True))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 25),
    max_shape=st.sampled_from([1.0, 2.5]),
    change_pct=st.one_of(st.none(), st.floats(0, 80)),
    use_minmax=st.booleans(),
    use_seen=st.booleans(),
    protected_share=st.floats(0, 0.5),
    forbidden_share=st.floats(0, 0.5),
)
def test_it_never_breaks_a_bound_and_keeps_the_total(
    seed, size, max_shape, change_pct, use_minmax, use_seen, protected_share, forbidden_share
):
    rng = np.random.default_rng(seed)
    curves, current = _random_case(rng, size, max_shape)
    no_cut = rng.random(size) < protected_share
    no_increase = rng.random(size) < forbidden_share
    bounds = bounds_from_limits(
        current,
        max_change_pct=change_pct,
        budget_min=rng.uniform(0, 60, size) if use_minmax else None,
        budget_max=rng.uniform(150, 600, size) if use_minmax else None,
        no_cut=no_cut,
        no_increase=no_increase,
        seen_max=current * rng.uniform(0.8, 2.0, size) if use_seen else None,
    )
    result = allocate_detailed(curves, current, bounds, min_move=0.5)
    budgets = result.budgets
    tol = 1e-6 * current.sum()
    assert np.all(bounds.lower <= bounds.upper)
    assert np.all(budgets >= bounds.lower - tol)
    assert np.all(budgets <= bounds.upper + tol)
    assert np.all(budgets[no_cut] >= current[no_cut] - tol)
    assert np.all(budgets[no_increase] <= current[no_increase] + tol)
    if bounds.lower.sum() <= current.sum() <= bounds.upper.sum():
        assert result.feasible
        assert budgets.sum() == pytest.approx(current.sum(), rel=1e-9, abs=1e-6)
    else:
        assert not result.feasible


def test_bisection_reaches_the_same_optimum_as_slsqp():
    rng = np.random.default_rng(7)
    curves, current = _random_case(rng, 8, 1.0)
    bounds = bounds_from_limits(current, max_change_pct=50)
    budgets = allocate(curves, current, bounds, min_move=0.0)

    best = minimize(
        lambda x: -_total_value(curves, x),
        current,
        method="SLSQP",
        bounds=list(zip(bounds.lower, bounds.upper, strict=True)),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - current.sum()}],
    )
    assert best.success
    assert _total_value(curves, budgets) >= -best.fun - 1e-6
    assert budgets == pytest.approx(best.x, abs=0.5)


def test_it_handles_s_shaped_curves_as_well_as_a_brute_force_search():
    # Two campaigns, one S-shaped: the grid of all splits is the truth.
    curves = [_curve(1000.0, 100.0, 2.5), _curve(600.0, 80.0, 0.7)]
    current = np.array([60.0, 140.0])
    bounds = Bounds(lower=np.zeros(2), upper=np.full(2, 200.0))
    budgets = allocate(curves, current, bounds, min_move=0.0)
    first = np.linspace(0, 200, 20001)
    brute = max(_total_value(curves, (a, 200 - a)) for a in first)
    assert _total_value(curves, budgets) >= brute - 1e-3 * brute


def test_it_returns_the_nearest_feasible_split_when_the_bounds_cannot_hold_the_total():
    curves, current = _random_case(np.random.default_rng(1), 4, 1.0)
    bounds = bounds_from_limits(current, budget_min=current * 1.1)
    result = allocate_detailed(curves, current, bounds)
    assert not result.feasible
    assert result.budgets == pytest.approx(bounds.lower)


def test_it_holds_moves_too_small_to_matter():
    curves = [_curve(500.0, 100.0, 1.0), _curve(500.0, 100.0, 1.0), _curve(5000.0, 100.0, 1.0)]
    current = np.array([100.0, 100.5, 50.0])
    bounds = bounds_from_limits(current, max_change_pct=100)
    result = allocate_detailed(curves, current, bounds, min_move=5.0)
    moved = np.abs(result.budgets - current)
    assert np.all((moved == 0) | (moved >= 5.0))
    assert result.budgets.sum() == pytest.approx(current.sum())
    assert result.budgets[2] > current[2]


def test_it_holds_moves_whose_probability_of_losing_value_is_too_high():
    rng = np.random.default_rng(2)
    days = 150
    spend = np.vstack([np.repeat(rng.uniform(40, 160, days // 10), 10), np.full(days, 100.0)])
    spend = spend * rng.normal(1, 0.02, spend.shape)
    value = hill_value(spend, np.array([[800.0], [900.0]]), 100.0, 1.0) * np.exp(rng.normal(0, 0.3, spend.shape))
    fits = fit_curves(spend, value, weekly=False)
    current = np.array([100.0, 100.0])
    bounds = bounds_from_limits(current, max_change_pct=30)
    free = allocate_detailed(fits, current, bounds, min_move=0.0)
    cautious = allocate_detailed(fits, current, bounds, min_move=0.0, max_p_loss=0.05)
    assert np.all(free.p_loss[~free.held] >= 0)
    assert np.nanmax(free.p_loss) > 0.05
    assert cautious.held.all()
    assert cautious.budgets == pytest.approx(current)


def test_bounds_from_limits_caps_growth_at_the_seen_range_plus_the_change_cap():
    current = np.array([100.0, 100.0, 100.0])
    bounds = bounds_from_limits(
        current,
        max_change_pct=20,
        seen_max=np.array([100.0, 110.0, 300.0]),
        no_cut=np.array([False, True, False]),
        no_increase=np.array([False, False, True]),
    )
    assert bounds.upper == pytest.approx([120.0, 120.0, 100.0])
    assert bounds.lower == pytest.approx([80.0, 100.0, 80.0])


def test_it_holds_a_protected_campaign_above_its_budget_maximum_instead_of_breaking_either_rule():
    current = np.array([300.0, 100.0])
    bounds = bounds_from_limits(current, budget_max=200.0, no_cut=np.array([True, False]))
    assert bounds.lower[0] == bounds.upper[0] == 300.0
    assert bounds.upper[1] == 200.0


def test_it_keeps_a_campaign_without_a_curve_at_its_current_budget():
    curves = [None, _curve(500.0, 100.0, 1.0), _curve(3000.0, 100.0, 1.0)]
    current = np.array([80.0, 100.0, 100.0])
    result = allocate_detailed(curves, current, bounds_from_limits(current, max_change_pct=50))
    assert result.held[0] and result.budgets[0] == 80.0
    assert result.budgets[2] > 100.0
    assert result.budgets.sum() == pytest.approx(current.sum())


def test_a_campaign_without_a_curve_stays_put_even_outside_the_guardrails_bounds():
    # Its budget is above a guardrail's maximum: with no curve the engine cannot value a cut, so it proposes
    # none (moving it into bounds left a shift with a campaign nobody could value, and the run crashed).
    curves = [None, _curve(500.0, 100.0, 1.0), _curve(3000.0, 100.0, 1.0)]
    current = np.array([900.0, 100.0, 100.0])
    result = allocate_detailed(curves, current, bounds_from_limits(current, max_change_pct=50, budget_max=600.0))
    assert result.held[0] and result.budgets[0] == 900.0
    assert result.budgets.sum() == pytest.approx(current.sum())
