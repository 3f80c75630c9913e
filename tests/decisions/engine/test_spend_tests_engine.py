"""The spend-test engine (decisions/engine/spend_tests.py): pure maths over posterior draws, no database."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from decisions.engine import spend_tests
from decisions.engine.mix import ChannelDraws, ChannelResult, Interval
from decisions.engine.types import CurveFit, FittedCurve

SPEND = 100.0


def fit_with(spread: float, *, seed: int = 0, n: int = 400, ceiling: float = 400.0) -> CurveFit:
    """A campaign whose value at today's spend is known (every draw passes through ~200/day at 100/day) and whose
    half-saturation is uncertain by `spread` (log sd): its slope at 100/day is what the draws disagree on."""
    rng = np.random.default_rng(seed)
    k = SPEND * np.exp(spread * rng.standard_normal(n))
    # Pin the value at SPEND: ceiling · s/(s+k) = 200 → ceiling = 200 (SPEND + k) / SPEND.
    c = 200.0 * (SPEND + k) / SPEND
    draws = np.column_stack([c, k, np.ones(n)])
    curve = FittedCurve(
        ceiling=ceiling,
        half_saturation=SPEND,
        shape=1.0,
        adstock=0.0,
        n_days=90,
        spend_min=97.0,
        spend_max=103.0,
        residual_sd=20.0,
    )
    return CurveFit(curve=curve, draws=draws)


def plan(fit: CurveFit, **kwargs):
    defaults = {"index": 0, "spend": SPEND, "noise_sd": 20.0, "lower": 50.0, "upper": 150.0, "rate": 1.0}
    return spend_tests.plan_test(fit.value_draws, **{**defaults, **kwargs})


def test_an_uncertain_curve_is_worth_testing_and_the_test_narrows_its_interval():
    found = plan(fit_with(1.0))

    assert found.value_of_knowing > 0
    assert found.narrowing > 0.2
    now = found.interval_now[1] - found.interval_now[0]
    after = found.interval_expected[1] - found.interval_expected[0]
    assert after < now
    assert found.spend_test == pytest.approx(125.0)
    assert found.extra_spend == pytest.approx(25.0 * spend_tests.TEST_DAYS)


def test_a_curve_already_known_teaches_nothing_and_is_not_chosen():
    found = plan(fit_with(0.001))

    assert found.value_of_knowing == pytest.approx(0.0, abs=1e-6)
    assert spend_tests.choose([found]) == []


def test_the_cost_is_the_extra_spend_at_the_money_rate_minus_the_expected_lift():
    fit = fit_with(0.8)
    found = plan(fit, rate=1.5)

    lift = spend_tests.TEST_DAYS * (fit.value_draws(125.0) - fit.value_draws(100.0))
    assert found.lift[0] == pytest.approx(float(lift.mean()))
    assert found.cost[0] == pytest.approx(1.5 * found.extra_spend - float(lift.mean()))
    assert found.cost[1] <= found.cost[0] <= found.cost[2]
    assert found.p_loss == pytest.approx(float(np.mean(1.5 * found.extra_spend - lift > 0)))


def test_a_longer_horizon_makes_knowing_worth_proportionally_more():
    fit = fit_with(1.0)
    short, long = plan(fit, horizon=30), plan(fit, horizon=90)

    assert long.value_of_knowing == pytest.approx(3 * short.value_of_knowing)


def test_nothing_is_planned_without_spend_noise_or_draws():
    fit = fit_with(1.0)
    assert plan(fit, spend=0.0) is None
    assert plan(fit, noise_sd=0.0) is None
    assert plan(fit, rate=float("nan")) is None
    assert plan(CurveFit(curve=fit.curve, draws=fit.draws[:5])) is None


def test_choose_keeps_the_best_net_values_up_to_the_cap():
    base = plan(fit_with(1.0))
    plans = [
        replace(base, index=i, value_of_knowing=v, cost=(c, c - 1, c + 1))
        for i, (v, c) in enumerate([(500, 100), (50, 100), (900, 100), (300, 100), (0, -50)])
    ]

    chosen = spend_tests.choose([None, *plans], max_tests=2)

    assert [p.index for p in chosen] == [2, 0]  # 800 and 400 net; knowing worth less than the cost never
    assert all(p.index != 4 for p in spend_tests.choose(plans, max_tests=10))  # nothing to learn: not a test


def test_campaign_plans_leave_out_moved_unfitted_and_unraisable_campaigns():
    fits = [fit_with(1.0, seed=i) for i in range(4)] + [None]
    current = np.full(5, SPEND)
    allocated = np.array([100.0, 100.0, 130.0, 104.0, 100.0])  # the third moved 30%, the fourth 4%
    may_raise = np.array([True, False, True, True, True])

    plans = spend_tests.campaign_plans(
        fits,
        current,
        allocated=allocated,
        lower=current * 0.5,
        upper=current * 1.5,
        may_raise=may_raise,
        rate=1.0,
    )

    assert [p is not None for p in plans] == [True, False, False, True, False]
    assert plans[3].index == 3


def test_campaign_plans_fall_back_to_the_median_marginal_return_without_a_multiplier():
    fits = [fit_with(1.0, seed=i) for i in range(3)]
    current = np.full(3, SPEND)
    common = {"allocated": current, "lower": current * 0.5, "upper": current * 1.5, "may_raise": np.ones(3, bool)}

    plans = spend_tests.campaign_plans(fits, current, rate=float("inf"), **common)

    assert all(p is not None and np.isfinite(p.cost[0]) for p in plans)


def channel(name: str, spend: float, spread: float, seed: int) -> ChannelResult:
    rng = np.random.default_rng(seed)
    n = 400
    k = spend * np.exp(spread * rng.standard_normal(n))
    scale = 2.0 * spend * (spend + k) / spend  # every draw brings 2·spend per period at today's spend
    draws = ChannelDraws(roas=np.ones(n), scale=scale, half_saturation=k, rate=np.zeros(n))
    marginal = draws.marginal(np.array([spend]))[:, 0]
    return ChannelResult(
        channel=name,
        spend=spend * 52,
        current_spend=spend,
        contribution=Interval(1, 1, 1),
        roas=Interval(2, 2, 2),
        marginal_roas=Interval.of(marginal),
        adstock_half_life_days=0.0,
        curve_spend=np.array([spend]),
        curve=(np.zeros(1), np.zeros(1), np.zeros(1)),
        draws=draws,
    )


def test_channel_plans_read_weeks_and_take_a_raise_per_channel():
    channels = [channel("search", 7000.0, 1.0, 1), channel("video", 7000.0, 1.0, 2), channel("email", 700.0, 1.0, 3)]

    plans = spend_tests.channel_plans(
        channels, period_days=7, noise_sd=500.0, may_raise=[True, True, False], raise_pct=[25.0, 0.0, 25.0]
    )

    assert plans[1] is None and plans[2] is None  # nothing to raise; not allowed to rise
    assert plans[0].periods == pytest.approx(2.0)  # 14 days = 2 weeks
    assert plans[0].spend_test == pytest.approx(8750.0)
    assert plans[0].value_of_knowing > 0
