"""Demand-limited campaigns: the allocator values a budget at the spend it buys, never raises one past what it
can spend, and the money it does not spend is reclaimed in proposals of their own."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decisions.engine import proposing
from decisions.engine import simulator as sim
from decisions.engine.allocation import allocate_detailed, bounds_from_limits
from decisions.engine.types import CurveFit, FittedCurve
from decisions.engine.utilization import measure

DAYS = 90


def _curve(c, k, n=1.0):
    return FittedCurve(
        ceiling=c, half_saturation=k, shape=n, adstock=0.0, n_days=DAYS, spend_min=1, spend_max=1e4, residual_sd=1
    )


def _fit(c, k):
    # Draws all at the curve itself: impacts are then exact, which is what these tests compare.
    return CurveFit(curve=_curve(c, k), draws=np.tile([c, k, 1.0], (50, 1)))


def _demand_limited(budget, ceiling):
    rng = np.random.default_rng(3)
    spend = np.minimum(budget, ceiling * rng.lognormal(0, 0.05, DAYS))
    return measure(spend, np.full(DAYS, budget))


# The best campaign (0) can spend only 300 of its 500; 1 and 2 spend whatever they get.
CURVES = [_curve(5000, 200), _curve(2000, 300), _curve(2000, 300)]
CURRENT = np.array([500.0, 300.0, 300.0])


def test_a_capped_campaign_is_not_raised_and_its_unspent_budget_moves():
    free = allocate_detailed(CURVES, CURRENT, bounds_from_limits(CURRENT, max_change_pct=50))
    caps = np.array([320.0, np.inf, np.inf])
    capped = allocate_detailed(
        CURVES, CURRENT, bounds_from_limits(CURRENT, max_change_pct=50, spend_cap=caps), spend_caps=caps
    )

    assert free.budgets[0] > CURRENT[0]  # blind to the cap, the engine raises the best campaign
    assert capped.budgets[0] == pytest.approx(320.0)  # cut to what it can spend, no further
    assert capped.budgets.sum() == pytest.approx(CURRENT.sum())
    assert (capped.budgets[1:] > CURRENT[1:]).all()


def test_money_nobody_can_spend_stays_where_it_was():
    caps = np.array([320.0, np.inf, np.inf])
    bounds = bounds_from_limits(CURRENT, max_change_pct=50, budget_max=[np.inf, 330, 330], spend_cap=caps)

    budgets = allocate_detailed(CURVES, CURRENT, bounds, spend_caps=caps).budgets

    # The others may grow by 30 each: the rest of the 180 unspent stays with the capped campaign.
    assert budgets[1:] == pytest.approx([330.0, 330.0])
    assert budgets[0] == pytest.approx(500.0 - 60.0)
    assert budgets.sum() == pytest.approx(CURRENT.sum())


def test_the_spend_cap_bounds_raises_not_budgets_already_above_it():
    bounds = bounds_from_limits(
        np.array([100.0, 100.0, 100.0]), max_change_pct=50, spend_cap=np.array([80.0, 120.0, np.inf])
    )

    assert bounds.upper.tolist() == [100.0, 120.0, 150.0]
    assert bounds.lower.tolist() == [50.0, 50.0, 50.0]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 20), capped_share=st.floats(0, 0.8))
def test_no_campaign_ever_ends_above_both_its_cap_and_its_budget(seed, size, capped_share):
    rng = np.random.default_rng(seed)
    curves = [_curve(c, k) for c, k in zip(rng.uniform(100, 2000, size), rng.uniform(10, 400, size), strict=True)]
    current = rng.uniform(20, 300, size)
    caps = np.where(rng.random(size) < capped_share, current * rng.uniform(0.4, 1.2, size), np.inf)
    bounds = bounds_from_limits(current, max_change_pct=50, spend_cap=caps)

    result = allocate_detailed(curves, current, bounds, spend_caps=caps)

    assert result.budgets.sum() == pytest.approx(current.sum(), rel=1e-6)
    assert (result.budgets <= np.maximum(current, caps) + 1e-6).all()
    assert (result.budgets >= bounds.lower - 1e-6).all() and (result.budgets <= bounds.upper + 1e-6).all()


def _views(utilizations):
    return [
        proposing.CampaignView(external_id=f"C{i}", name=f"Campaign {i}", utilization=u)
        for i, u in enumerate(utilizations)
    ]


def test_reclaims_and_shifts_split_into_disjoint_budget_neutral_moves():
    current = np.array([500.0, 200.0, 300.0, 300.0, 100.0])
    budgets = np.array([400.0, 150.0, 380.0, 320.0, 50.0])  # 0 gives unspent budget, 1 and 4 spent budget
    caps = np.array([380.0, np.inf, np.inf, np.inf, np.inf])

    reclaims, rest = proposing.split_reclaims(current, budgets, caps)

    moved_r, moved_s = reclaims != current, rest != current
    assert not (moved_r & moved_s).any()
    assert reclaims.sum() == pytest.approx(current.sum())
    # The 100 unspent funds both increases (80 and 20), whole; the cuts into spent budget are left for shifts.
    assert reclaims.tolist() == [400.0, 200.0, 380.0, 320.0, 100.0]
    assert rest.tolist() == [500.0, 150.0, 300.0, 300.0, 50.0]


def test_a_reclaim_is_scaled_to_the_increases_it_can_fund_whole():
    current = np.array([500.0, 300.0, 300.0, 300.0])
    budgets = np.array([400.0, 380.0, 350.0, 270.0])  # 100 unspent; increases of 80 and 50; 30 spent cut
    caps = np.array([380.0, np.inf, np.inf, np.inf])

    reclaims, rest = proposing.split_reclaims(current, budgets, caps)

    # 80 fits whole, 50 would not (a campaign in two proposals would get two targets): the reclaim takes 80.
    assert reclaims.tolist() == [420.0, 380.0, 300.0, 300.0]
    assert rest.tolist() == [500.0, 300.0, 350.0, 270.0]


def test_idle_money_smaller_than_every_increase_goes_to_the_largest_as_a_smaller_raise():
    current = np.array([300.0, 200.0, 200.0, 500.0])
    budgets = np.array([260.0, 300.0, 350.0, 250.0])  # 40 unspent; increases of 100 and 150; 250 spent cut
    caps = np.array([260.0, np.inf, np.inf, np.inf])

    reclaims, rest = proposing.split_reclaims(current, budgets, caps)

    assert reclaims.tolist() == [260.0, 200.0, 240.0, 500.0]
    assert reclaims.sum() == pytest.approx(current.sum())
    # The largest increase is in the reclaim alone; the other increase and the spent cut stay for shifts.
    assert rest.tolist() == [300.0, 300.0, 200.0, 250.0]


def test_a_cut_below_the_cap_is_an_ordinary_shift_not_a_reclaim():
    current = np.array([500.0, 300.0])
    budgets = np.array([300.0, 500.0])

    reclaims, rest = proposing.split_reclaims(current, budgets, np.array([380.0, np.inf]))

    assert reclaims.tolist() == current.tolist()
    assert rest.tolist() == budgets.tolist()


def test_a_reclaim_values_the_cut_at_nothing_and_says_why():
    limited = _demand_limited(500.0, 300.0)
    views = _views([limited, None])
    fits = [_fit(5000, 200), _fit(2000, 300)]
    current = np.array([500.0, 300.0])
    target = round(limited.spend_cap, 2)
    group = proposing.Group({0: target - 500.0, 1: 500.0 - target})

    draft = proposing.reclaim_draft(
        group, current=current, fits=fits, views=views, metric="pipeline_value", marginal_level=1.0
    )

    gain = float(fits[1].curve.value(current[1] + 500.0 - target) - fits[1].curve.value(current[1]))
    assert draft.kind == "reclaim"
    assert draft.expected["mean"] == pytest.approx(7 * gain, rel=1e-3)  # the cut itself costs nothing
    assert draft.p_loss == 0.0
    assert limited.sentence() in draft.rationale
    assert "demand-limited, a raise would not be spent" in draft.rationale
    assert draft.evidence["utilization"]["C0"]["limited_by"] == "demand"
    assert "C1" not in draft.evidence["utilization"]


def test_a_shift_reads_a_demand_limited_donor_at_what_it_spends():
    limited = _demand_limited(500.0, 300.0)
    views = _views([limited, None])
    fits = [_fit(5000, 200), _fit(2000, 300)]
    current = np.array([500.0, 300.0])
    group = proposing.Group({0: -250.0, 1: 250.0})  # down to 250: 50 below what it spends

    draft = proposing.shift_draft(
        group, current=current, fits=fits, views=views, metric="pipeline_value", marginal_level=1.0
    )

    spent = min(500.0, limited.spend_cap)
    expected = (fits[0].curve.value(250.0) - fits[0].curve.value(spent)) + (
        fits[1].curve.value(550.0) - fits[1].curve.value(300.0)
    )
    assert draft.kind == "budget_shift"
    assert draft.expected["mean"] == pytest.approx(7 * float(expected), rel=1e-3)
    assert "Campaign 0 spent" in draft.rationale and "demand-limited" in draft.rationale


# --- the simulator ------------------------------------------------------------------------------------------


END = date(2026, 11, 20)


def test_a_world_without_limits_has_no_ceilings_and_search_loses_impressions_to_budget():
    world = sim.make_world(40, seed=1)
    history = sim.simulate_history(world, days=60, end_date=END)
    search = np.array([c.reports_impression_share for c in world.campaigns])

    assert all(c.spend_ceiling is None for c in world.campaigns)
    assert np.isnan(history.impression_share[~search]).all()
    assert (history.lost_is_budget[search] > 0.05).mean() > 0.95
    total = history.impression_share + history.lost_is_budget + history.lost_is_rank
    np.testing.assert_allclose(total[search], 1.0, atol=2e-4)


def test_demand_limited_campaigns_spend_below_their_budget_and_lose_nothing_to_it():
    world = sim.make_world(40, seed=1, limited_share=0.15)
    history = sim.simulate_history(world, days=90, end_date=END, spend_variation="low")
    limited = [i for i, c in enumerate(world.campaigns) if c.spend_ceiling is not None]

    assert len(limited) == 6
    assert sum(world.campaigns[i].channel == "search" for i in limited) >= 3
    for i in limited:
        c = world.campaigns[i]
        assert history.spend[i].mean() == pytest.approx(c.spend_ceiling, rel=0.08)
        assert (history.spend[i] <= history.budgets[i] * 1.05 + 0.01).all()
        if c.reports_impression_share:
            assert np.median(history.lost_is_budget[i]) == 0.0
        u = measure(history.spend[i], history.budgets[i], lost_is_budget=history.lost_is_budget[i])
        assert u.limited_by == "demand"
        assert u.ceiling == pytest.approx(c.spend_ceiling, rel=0.1)


def test_delivery_rows_carry_the_day_budget_and_the_search_shares():
    world = sim.make_world(4, seed=2, limited_share=0.5)
    history = sim.simulate_history(world, days=10, end_date=END)

    rows = list(history.delivery_rows(world))

    assert len(rows) == 40
    assert set(rows[0]) == {
        "date",
        "campaign_id",
        "daily_budget",
        "impression_share",
        "lost_is_budget",
        "lost_is_rank",
        "limited_by_budget",
    }
    assert rows[0]["daily_budget"] == pytest.approx(history.budgets[0, 0], abs=0.005)
    for row, c in zip(rows[::10], world.campaigns, strict=True):
        assert (row["impression_share"] is None) == (not c.reports_impression_share)


def test_the_yardstick_knows_a_budget_above_the_ceiling_buys_nothing():
    world = sim.make_world(5, seed=1)
    first = world.campaigns[0]
    capped = sim.with_ceilings(world, {first.external_id: first.daily_budget * 0.8})
    raised = capped.budgets.copy()
    raised[0] *= 1.3

    assert sim.true_value(capped, raised) == pytest.approx(sim.true_value(capped, capped.budgets))
    assert sim.true_value(world, raised) > sim.true_value(world, world.budgets)
    oracle = sim.oracle_budgets(capped, upper=capped.budgets * 1.5, lower=capped.budgets * 0.5)
    assert oracle[0] <= first.daily_budget * 0.8 + 1e-6
    with pytest.raises(KeyError):
        sim.with_ceilings(world, {"nope": 1.0})
