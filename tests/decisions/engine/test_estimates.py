"""The model's estimate of other values than the machine's: an edit's weekly impact, interval and P(loss).

Pure, with curves whose numbers can be worked out by hand, then measured against the engine's own
posterior draws on simulated campaigns.
"""

import math
from statistics import NormalDist, median

import numpy as np
import pytest

from decisions.engine.curves import fit_curves
from decisions.engine.estimates import Estimate, net_budget_change, p_loss, reestimate
from decisions.engine.proposing import CampaignView, curve_evidence, impact_summary

Z = NormalDist().inv_cdf(0.9)  # half an 80% interval, in σ


def linear(campaign: str, slope: float, low: float, high: float) -> dict:
    """value = slope × spend, its 80% band low × spend … high × spend."""
    spend = [0.0, 100.0, 200.0]
    return {
        "campaign": campaign,
        "spend": spend,
        "value": [slope * s for s in spend],
        "low": [low * s for s in spend],
        "high": [high * s for s in spend],
    }


EVIDENCE = {"curves": [linear("A", 1.0, 0.8, 1.2), linear("B", 3.0, 2.0, 4.0)]}
# The machine moves $20/day from A to B: −20 + 60 = +40 a day on the curves, +280 a week.
MACHINE_CHANGES = [
    {"campaign": "A", "field": "daily_budget", "from": 100.0, "to": 80.0},
    {"campaign": "B", "field": "daily_budget", "from": 100.0, "to": 120.0},
]
MACHINE = Estimate(mean=280.0, low=100.0, high=460.0, p_loss=0.05, reestimated=False)


def edited(a_to: float, b_to: float = 120.0) -> list[dict]:
    return [{**MACHINE_CHANGES[0], "to": a_to}, {**MACHINE_CHANGES[1], "to": b_to}]


def test_the_machines_own_values_give_back_its_figures_exactly():
    same = edited(80.001)  # a cent's rounding is no edit
    assert reestimate(same, evidence=EVIDENCE, machine_changes=MACHINE_CHANGES, machine=MACHINE) == MACHINE


def test_an_edit_is_re_estimated_from_the_curves_and_their_bands():
    # The reviewer cuts A to 90 instead of 80: −10 + 60 = +50 a day, +350 a week.
    estimate = reestimate(edited(90.0), evidence=EVIDENCE, machine_changes=MACHINE_CHANGES, machine=MACHINE)
    assert estimate.reestimated and estimate.mean == 350.0
    # Each campaign's move read off its band's edges: A's −20 lies in [−24, −16] (8 wide), now [−12, −8] (4 wide);
    # B's +60 in [40, 80] (40 wide). Independent campaigns: the spread is the root of the sum of squares.
    scale = math.sqrt(4**2 + 40**2) / math.sqrt(8**2 + 40**2)
    assert estimate.low == pytest.approx(350 - 180 * scale, abs=0.01)
    assert estimate.high == pytest.approx(350 + 180 * scale, abs=0.01)
    sigma = (estimate.mean - estimate.low) / Z
    assert estimate.p_loss == pytest.approx(NormalDist().cdf(-350 / sigma), abs=1e-4)


def test_budget_a_campaign_cannot_spend_is_worth_nothing_in_a_re_estimate():
    # A reclaim: A spends at most 80 a day whatever its budget, so its cut from 100 to 80 costs nothing and the
    # machine's +$420/week is B's raise alone (+60 a day on B's curve).
    evidence = {**EVIDENCE, "utilization": {"A": {"limited_by": "demand", "ceiling_high": 80.0}}}
    machine = Estimate(mean=420.0, low=280.0, high=560.0, p_loss=0.0, reestimated=False)
    # The reviewer keeps A's cut and raises B by 10 instead of 20: +30 a day, +210 a week; no loss from A's cut.
    estimate = reestimate(edited(80.0, 110.0), evidence=evidence, machine_changes=MACHINE_CHANGES, machine=machine)
    assert estimate.mean == pytest.approx(210.0)
    assert estimate.low > 0 and estimate.p_loss < 0.05


def test_the_engines_own_mean_calibrates_the_curves_reading():
    # The engine's draws expected 90% of what the curve says for its version: so for the reviewer's too.
    modest = Estimate(mean=252.0, low=100.0, high=400.0, p_loss=0.05)
    assert reestimate(edited(90.0), evidence=EVIDENCE, machine_changes=MACHINE_CHANGES, machine=modest).mean == 315.0
    # A ratio far from 1 says one of them is near zero: the curves are read as they are.
    odd = Estimate(mean=1000.0, low=800.0, high=1200.0, p_loss=0.0)
    assert reestimate(edited(90.0), evidence=EVIDENCE, machine_changes=MACHINE_CHANGES, machine=odd).mean == 350.0


def test_undoing_every_move_is_worth_nothing_and_risks_nothing():
    estimate = reestimate(edited(100.0, 100.0), evidence=EVIDENCE, machine_changes=MACHINE_CHANGES, machine=MACHINE)
    assert (estimate.mean, estimate.low, estimate.high, estimate.p_loss) == (0.0, 0.0, 0.0, 0.0)


def test_curves_without_bands_keep_the_machines_spread():
    bare = {"curves": [{k: v for k, v in c.items() if k not in ("low", "high")} for c in EVIDENCE["curves"]]}
    estimate = reestimate(edited(90.0), evidence=bare, machine_changes=MACHINE_CHANGES, machine=MACHINE)
    assert (estimate.low, estimate.mean, estimate.high) == (170.0, 350.0, 530.0)


def test_changes_without_curves_scale_the_machines_figures_by_the_move_kept():
    halve = [{"campaign": "C", "field": "daily_budget", "from": 100.0, "to": 50.0}]
    machine = Estimate(mean=-70.0, low=-70.0, high=0.0, p_loss=0.2)
    kept_half = [{**halve[0], "to": 75.0}]
    estimate = reestimate(kept_half, evidence={}, machine_changes=halve, machine=machine)
    assert (estimate.low, estimate.mean, estimate.high) == (-35.0, -35.0, 0.0)
    assert estimate.p_loss == pytest.approx(0.9, abs=0.001)  # a loss: its upper side reaches 0 at 1.28 σ


def test_a_pause_turned_back_into_no_change_is_worth_nothing():
    pause = [{"campaign": "C", "field": "status", "from": "active", "to": "paused"}]
    kept_on = [{**pause[0], "to": "active"}]
    machine = Estimate(mean=-70.0, low=-70.0, high=0.0, p_loss=0.2)
    estimate = reestimate(kept_on, evidence={}, machine_changes=pause, machine=machine)
    assert (estimate.mean, estimate.low, estimate.high, estimate.p_loss) == (0.0, 0.0, 0.0, 0.0)


def test_the_net_budget_change_says_when_a_neutral_shift_stops_being_neutral():
    assert net_budget_change(MACHINE_CHANGES) == 0.0
    assert net_budget_change(edited(90.0, 112.0)) == 2.0
    assert net_budget_change(edited(80.0, 102.0)) == -18.0
    assert net_budget_change([{"campaign": "C", "field": "status", "from": "active", "to": "paused"}]) == 0.0


@pytest.mark.parametrize(
    ("mean", "low", "high", "engine_p_loss"),
    # Proposals of the demo: the engine's 80% interval and its P(loss), both from the same posterior draws.
    [
        (257, -1, 477, 0.105),
        (388, -155, 855, 0.17),
        (9, -27, 50, 0.38),
        (3851, 1664, 5506, 0.02),
        (160, -7, 321, 0.125),
    ],
)
def test_p_loss_read_off_an_interval_matches_the_engines_draws(mean, low, high, engine_p_loss):
    assert p_loss(mean, low, high) == pytest.approx(engine_p_loss, abs=0.02)


def test_p_loss_of_a_certain_outcome():
    assert p_loss(10.0, 10.0, 10.0) == 0.0
    assert p_loss(-10.0, -10.0, -10.0) == 1.0


def test_the_re_estimate_follows_the_engines_draws_for_other_values():
    """Fit curves on simulated shifts, edit each four ways, and compare with the draws for those values."""
    rng = np.random.default_rng(7)
    errors = {"mean": [], "low": [], "high": [], "p_loss": []}
    for trial in range(12):
        base = rng.uniform(80, 400, 3)
        spend = base[:, None] * rng.uniform(0.6, 1.4, (3, 90))
        ceiling, half = base * rng.uniform(3, 8, 3), base * rng.uniform(0.5, 2.5, 3)
        value = ceiling[:, None] * spend / (spend + half[:, None]) * rng.lognormal(0, 0.3, (3, 90))
        fits = fit_curves(spend, value, n_draws=400, seed=trial)
        current = base.round(2)
        cut = 0.25 * current[0]
        targets = [current[0] - cut, current[1] + cut / 2, current[2] + cut / 2]
        views = [CampaignView(f"C{i}", f"C{i}") for i in range(3)]
        evidence = {"curves": [curve_evidence(fits[i], views[i], current[i], targets[i]) for i in range(3)]}
        machine_changes = [
            {"campaign": f"C{i}", "field": "daily_budget", "from": float(current[i]), "to": round(targets[i], 2)}
            for i in range(3)
        ]
        drawn, drawn_p_loss = impact_summary(
            sum(fits[i].impact_draws(current[i], targets[i]) for i in range(3)), metric="x"
        )
        machine = Estimate(drawn["mean"], drawn["low"], drawn["high"], drawn_p_loss)
        for keep, drop_last in ((0.5, True), (1.5, True), (-0.3, True), (0.5, False)):
            to = [current[i] + keep * (targets[i] - current[i]) for i in range(3)]
            if drop_last:
                to[2] = current[2]
            changes = [{**change, "to": round(float(to[i]), 2)} for i, change in enumerate(machine_changes)]
            truth, truth_p_loss = impact_summary(
                sum(fits[i].impact_draws(current[i], to[i]) for i in range(3)), metric="x"
            )
            estimate = reestimate(changes, evidence=evidence, machine_changes=machine_changes, machine=machine)
            width = truth["high"] - truth["low"]
            for key in ("mean", "low", "high"):
                errors[key].append(abs(getattr(estimate, key) - truth[key]) / width)
            errors["p_loss"].append(abs(estimate.p_loss - truth_p_loss))
    # Measured: 0.026, 0.065, 0.082 and 0.028 (decisions/engine/estimates.py gives the wider measurement).
    assert median(errors["mean"]) < 0.06  # of the interval's width
    assert median(errors["low"]) < 0.15 and median(errors["high"]) < 0.15
    assert median(errors["p_loss"]) < 0.05


def drawn_impact(fits, current, targets) -> tuple[dict, float]:
    """The engine's weekly impact and P(loss) for these budgets, from its posterior draws."""
    return impact_summary(sum(fits[i].impact_draws(current[i], targets[i]) for i in range(len(fits))), metric="x")
