"""The uplift model and its audience rules, on simulated tests whose per-customer effects are known."""

import json

import numpy as np
import pytest

from decisions.engine import uplift
from decisions.engine import uplift_simulator as sim
from decisions.engine.balance import check_balance, holm_flags

SETTINGS = uplift.Settings(bootstrap=200, seed=0)


@pytest.fixture(scope="module")
def planted():
    simulated = sim.make_trial(40_000, seed=3)
    return simulated, uplift.analyse(simulated.trial, SETTINGS)


def members(analysis: uplift.Analysis, trial: uplift.Trial) -> np.ndarray:
    """audiences × customers: who is in which audience."""
    by_name = {a.name: a for a in trial.attributes}
    return np.array([uplift.segment_mask(a.segment, by_name, trial.size) for a in analysis.audiences])


def policy_value(analysis: uplift.Analysis, simulated: sim.SimulatedTrial) -> float:
    inside = members(analysis, simulated.trial)
    value = np.zeros(simulated.trial.size)
    for audience, mask in zip(analysis.audiences, inside, strict=True):
        action = uplift.policy_action(analysis, audience)
        if action != analysis.control:
            value[mask] = simulated.truth[mask, sim.ACTIONS.index(action)]
    return float(value.mean())


def test_it_sends_the_discount_to_lapsed_customers_and_recovers_its_uplift(planted):
    simulated, analysis = planted
    inside = members(analysis, simulated.trial)
    lapsed = simulated.customers.days_since_purchase >= 210
    discount = sim.ACTIONS.index("Discount 20%")
    found = [
        (audience, mask)
        for audience, mask in zip(analysis.audiences, inside, strict=True)
        if audience.best_action == "Discount 20%" and audience.confident
    ]
    assert found, "the discount's gain among lapsed customers is the test's largest effect"
    for audience, mask in found:
        assert lapsed[mask].mean() > 0.8  # the audience is (mostly) lapsed customers
        truth = simulated.truth[mask, discount].mean()
        estimate = audience.best
        assert estimate.low < truth < estimate.high
        assert estimate.mean == pytest.approx(truth, abs=1.5)


def test_its_policy_beats_every_single_action_and_most_of_the_oracle(planted):
    simulated, analysis = planted
    oracle = np.maximum(simulated.truth.max(axis=1), 0).mean()
    best_single = max(simulated.truth.mean(axis=0).max(), 0)
    value = policy_value(analysis, simulated)
    assert value > 0.6 * oracle
    assert value > 0.95 * best_single


def test_audiences_never_overlap_and_cover_everyone(planted):
    simulated, analysis = planted
    inside = members(analysis, simulated.trial)
    assert (inside.sum(axis=0) == 1).all()
    assert sum(a.size for a in analysis.audiences) == simulated.trial.size
    assert sum(a.share for a in analysis.audiences) == pytest.approx(1.0)


def test_audience_rules_are_readable_ranges_and_lists(planted):
    simulated, analysis = planted
    numeric = {a.name for a in simulated.trial.attributes if a.numeric}
    for audience in analysis.audiences:
        assert len(audience.segment) <= 2  # two conditions at most
        for name, condition in audience.segment.items():
            if name in numeric:
                assert set(condition) == {"min", "max"}
                assert condition["min"] is not None or condition["max"] is not None
            else:
                assert isinstance(condition, list) and condition


def test_the_analysis_survives_json_and_back(planted):
    _, analysis = planted
    stored = json.loads(json.dumps(analysis.to_dict()))
    again = uplift.Analysis.from_dict(stored)
    assert again.audiences[0].best_action == analysis.audiences[0].best_action
    assert again.audiences[0].uplifts[0].low == pytest.approx(analysis.audiences[0].uplifts[0].low)
    assert again.curves.keys() == analysis.curves.keys()


def test_ranking_by_predicted_uplift_beats_random_targeting(planted):
    _, analysis = planted
    assert analysis.curves["Discount 20%"]["qini"] > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_with_shuffled_arms_it_claims_nothing(seed):
    simulated = sim.make_trial(30_000, seed=seed, shuffle_arms=True)
    analysis = uplift.analyse(simulated.trial, uplift.Settings(bootstrap=200, seed=seed))
    uplifts = [u for audience in analysis.audiences for u in audience.uplifts]
    assert not any(audience.confident for audience in analysis.audiences)
    assert not any(u.confident_gain or u.confident_loss for u in uplifts)
    assert all(u.low < 0 < u.high for u in uplifts)


def test_it_refuses_a_test_without_an_action():
    trial = uplift.Trial(arms=np.array(["control"] * 10), outcome=np.zeros(10), control="control", attributes=())
    with pytest.raises(ValueError, match="at least one action"):
        uplift.analyse(trial)


def test_uplift_curve_of_a_perfect_ranking_rises_above_random():
    treated = np.array([True, False] * 50)
    gains = np.where(np.arange(100) < 50, 10.0, 0.0)  # the first half responds to the action only
    outcome = np.where(treated, gains, 0.0)
    points = uplift.uplift_curve(-np.arange(100.0), treated, outcome)
    assert points[-1][1] == pytest.approx(5.0)
    assert uplift.qini_area(points) > 0
    assert uplift.qini_area(uplift.uplift_curve(np.arange(100.0), treated, outcome)) < 0


# --- the balance check ---


def _customers(n: int, seed: int):
    rng = np.random.default_rng(seed)
    customers = sim.make_customers(n, rng)
    return customers, rng


def _attributes(customers):
    return [(a.name, a.values, a.numeric) for a in customers.attributes()]


def test_a_proper_randomisation_passes_the_balance_check():
    customers, rng = _customers(8000, 4)
    arms = rng.choice(sim.ARMS, 8000)
    balance = check_balance(_attributes(customers), arms, sim.CONTROL)
    assert balance.passed
    assert all(a.largest_difference < 0.1 for a in balance.attributes)


def test_a_broken_randomisation_is_flagged_where_it_broke():
    customers, rng = _customers(8000, 5)
    arms = rng.choice(sim.ARMS, 8000)
    # The discount went to a list sorted by age: its older customers were sent the control instead.
    older = customers.age > 60
    arms[(arms == "Discount 20%") & older & (rng.random(8000) < 0.5)] = sim.CONTROL
    balance = check_balance(_attributes(customers), arms, sim.CONTROL)
    assert not balance.passed
    flagged = {a.name for a in balance.attributes if a.flagged}
    assert flagged == {"age"}
    assert next(a for a in balance.attributes if a.name == "age").largest_difference > 0.1


def test_holm_takes_the_number_of_tests_into_account():
    assert holm_flags([0.004, 0.2], 0.01) == [True, False]
    assert holm_flags([0.006, 0.006], 0.01) == [False, False]  # each alone would pass 0.01, not both together


def test_an_action_that_hurts_an_audience_is_called_out_there():
    rng = np.random.default_rng(8)
    n = 4000
    group = rng.choice(["Loyal", "New"], n)
    arms = rng.choice(["Nothing", "Coupon"], n)
    effect = np.where(group == "Loyal", -6.0, 6.0)  # the coupon gives away margin on loyal customers
    outcome = 50 + (arms == "Coupon") * effect + rng.normal(0, 10, n)
    trial = uplift.Trial(
        arms=arms, outcome=outcome, control="Nothing", attributes=(uplift.Attribute("group", group, False),)
    )
    analysis = uplift.analyse(trial, uplift.Settings(bootstrap=200, min_leaf_customers=100))
    by_group = {tuple(a.segment["group"]): a for a in analysis.audiences}
    loyal, new = by_group[("Loyal",)], by_group[("New",)]
    assert loyal.best_action == "Nothing" and [u.action for u in loyal.harmful] == ["Coupon"]
    assert loyal.uplift_of("Coupon").high < 0
    assert new.best_action == "Coupon" and new.confident
    assert new.best.mean == pytest.approx(6.0, abs=1.5)


def test_fitted_on_a_sample_its_audiences_still_cover_every_customer():
    simulated = sim.make_trial(6000, seed=9)
    analysis = uplift.analyse(
        simulated.trial, uplift.Settings(bootstrap=50, max_customers=3000, min_leaf_customers=100)
    )
    assert analysis.fitted_on == 3000 and analysis.customers == 6000
    assert (members(analysis, simulated.trial).sum(axis=0) == 1).all()
    assert sum(a.size for a in analysis.audiences) == 6000
