"""The acceptance model and step calibration, without a database."""

import numpy as np
import pytest

from decisions.engine import acceptance
from decisions.engine.proposing import Group


def _synthetic(n: int, *, seed: int = 0) -> list[acceptance.Decision]:
    """Reviewers accept low-risk moves and refuse big brand-search moves, with 5% noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for step in range(n):
        channel = str(rng.choice(["brand_search", "search", "display"]))
        pct = float(rng.uniform(-50, 50))
        p_loss = float(rng.uniform(0, 0.6))
        accepted = p_loss < 0.3 and not (channel == "brand_search" and abs(pct) > 25)
        if rng.random() < 0.05:
            accepted = not accepted
        values = acceptance.features("budget_change", channel, pct, p_loss, 0, 0, reviewer=f"r{step % 3}")
        rows.append(acceptance.Decision(features=values, accepted=accepted, at=step, kind="budget_change"))
    return rows


def _decision(kind="budget_shift", channel="display", *, ratio=1.0, edited=False, accepted=True, at=0):
    values = acceptance.features(kind, channel, 20.0, 0.1, 0, 0)
    return acceptance.Decision(
        features=values, accepted=accepted, at=at, kind=kind, channel=channel, edited=edited, ratio=ratio
    )


# --- the acceptance model ---------------------------------------------------------------


def test_it_ranks_held_out_decisions_well_above_chance_on_a_learnable_set():
    fitted = acceptance.fit(_synthetic(800))

    assert fitted.evaluation.n_train == 600 and fitted.evaluation.n_test == 200
    assert fitted.evaluation.auc > 0.85
    assert fitted.evaluation.brier < 0.15


def test_it_scores_from_stored_params_exactly_as_scikit_learn_predicts():
    fitted = acceptance.fit(_synthetic(400))
    params = fitted.to_params()
    probe = [
        acceptance.features("budget_change", "brand_search", 40.0, 0.05, 1, 0, reviewer="r0"),
        acceptance.features("budget_change", "display", -12.0, 0.45, 0, 0, reviewer="r1"),
        acceptance.features("pause", "video", -100.0, 0.2, 2, 1, reviewer="r2"),  # a kind and channel never seen
    ]

    expected = fitted.estimator.predict_proba(fitted.vectorizer.transform(probe))[:, 1]
    assert [acceptance.score(params, values) for values in probe] == pytest.approx(expected, abs=1e-12)


def test_without_a_reviewer_it_averages_scikit_learns_predictions_over_the_reviewer_mix():
    fitted = acceptance.fit(_synthetic(400))
    values = acceptance.features("budget_change", "search", 30.0, 0.2, 0, 0)
    per_reviewer = [{**values, f"reviewer=r{i}": 1.0} for i in range(3)]

    predicted = fitted.estimator.predict_proba(fitted.vectorizer.transform(per_reviewer))[:, 1]
    shares = [fitted.reviewer_mix[f"reviewer=r{i}"] for i in range(3)]
    assert sum(shares) == pytest.approx(1.0, abs=1e-5)
    assert acceptance.score(fitted.to_params(), values) == pytest.approx(float(np.dot(shares, predicted)), abs=1e-5)


def test_its_params_survive_a_json_round_trip():
    import json

    params = acceptance.fit(_synthetic(200)).to_params()
    values = acceptance.features("budget_change", "search", 15.0, 0.1, 0, 0)

    assert acceptance.score(json.loads(json.dumps(params)), values) == acceptance.score(params, values)


def test_it_measures_on_the_newest_quarter_whatever_order_the_records_come_in():
    older = [_decision(accepted=bool(i % 2), at=i) for i in range(75)]
    newest = [_decision(accepted=True, at=100 + i) for i in range(25)]
    records = newest + older[::-1]

    evaluation = acceptance.fit(records).evaluation

    assert evaluation.n_test == 25
    assert evaluation.base_rate == 1.0  # only the newest, all accepted, were held out
    assert evaluation.auc is None  # one class held out: no AUC to report
    assert sum(b.n for b in evaluation.reliability) == 25


def test_it_charges_a_strict_reviewers_rejections_to_the_reviewer_not_the_channel():
    rng = np.random.default_rng(3)
    rows = []
    for step in range(600):
        channel = "display" if step % 2 else "search"
        # The strict reviewer reviews mostly display and rejects nearly everything.
        reviewer = "strict" if channel == "display" and step % 4 == 1 else "usual"
        accepted = rng.random() < (0.1 if reviewer == "strict" else 0.7)
        values = acceptance.features("budget_shift", channel, 20.0, 0.1, 0, 0, reviewer=reviewer)
        rows.append(acceptance.Decision(features=values, accepted=accepted, at=step))
    params = acceptance.fit(rows).to_params()
    shown = acceptance.score(params, acceptance.features("budget_shift", "display", 20.0, 0.1, 0, 0))
    display_rate = np.mean([r.accepted for r in rows if r.features.get("channel=display")])

    assert "reviewer=strict" in params["features"]
    assert shown > display_rate + 0.1  # the raw display rate (≈0.4) would be the reviewer-blind estimate


def test_it_falls_back_to_a_smoothed_rate_when_everyone_accepted():
    fitted = acceptance.fit([_decision(at=i) for i in range(40)])

    assert fitted.to_params()["features"] == []
    assert acceptance.score(fitted.to_params(), {}) == pytest.approx(41 / 42)


def test_features_carry_the_reviewer_only_when_given():
    with_reviewer = acceptance.features("pause", "search", -100.0, 0.2, 1, 0, reviewer="7")

    assert with_reviewer["reviewer=7"] == 1.0
    assert acceptance.without_reviewer(with_reviewer) == acceptance.features("pause", "search", -100.0, 0.2, 1, 0)


def test_reliability_bins_put_each_prediction_in_one_band():
    table = acceptance.reliability(np.array([0.05, 0.15, 0.5, 0.99, 1.0]), np.array([0, 1, 1, 1, 1]))

    assert [b.n for b in table] == [2, 0, 1, 0, 2]
    assert table[0].observed == 0.5 and table[1].predicted is None


# --- reading proposals ---------------------------------------------------------------------


def test_change_pct_is_the_signed_move_on_the_proposals_own_campaign():
    changes = [
        {"campaign": "A", "field": "daily_budget", "from": 200.0, "to": 150.0},
        {"campaign": "B", "field": "daily_budget", "from": 100.0, "to": 150.0},
    ]

    assert acceptance.change_pct(changes, "B") == 50.0
    assert acceptance.change_pct(changes, "A") == -25.0
    assert acceptance.change_pct([{"campaign": "A", "field": "status", "from": "active", "to": "paused"}]) == -100.0


def test_failing_counts_count_failed_verdicts_by_severity():
    verdicts = [
        {"severity": "warn", "passed": False},
        {"severity": "warn", "passed": True},
        {"severity": "block", "passed": False},
        {"severity": "warn", "passed": False},
    ]

    assert acceptance.failing_counts(verdicts) == (2, 1)


def test_change_ratio_reads_a_halved_shift_as_half_and_a_pause_as_nothing():
    machine = [
        {"campaign": "A", "field": "daily_budget", "from": 200.0, "to": 150.0},
        {"campaign": "B", "field": "daily_budget", "from": 100.0, "to": 150.0},
    ]
    human = [
        {"campaign": "A", "field": "daily_budget", "from": 200.0, "to": 175.0},
        {"campaign": "B", "field": "daily_budget", "from": 100.0, "to": 125.0},
    ]
    pause = [{"campaign": "A", "field": "status", "from": "active", "to": "paused"}]

    assert acceptance.change_ratio(machine, human) == pytest.approx(0.5)
    assert acceptance.change_ratio(machine, machine) == pytest.approx(1.0)
    assert acceptance.change_ratio(pause, pause) is None


# --- step calibration ---------------------------------------------------------------------


def test_it_sets_a_step_factor_where_reviewers_consistently_shrink():
    decisions = [_decision(ratio=0.5, edited=True) for _ in range(6)] + [_decision(ratio=1.0)] * 2

    assert acceptance.step_factors(decisions) == {"budget_shift|display": 0.5}


def test_it_sets_no_step_factor_from_fewer_than_five_edits():
    decisions = [_decision(ratio=0.5, edited=True) for _ in range(4)]

    assert acceptance.step_factors(decisions) == {}


def test_it_sets_no_step_factor_when_most_accepted_steps_were_left_alone():
    decisions = [_decision(ratio=0.5, edited=True) for _ in range(6)] + [_decision(ratio=1.0)] * 20

    assert acceptance.step_factors(decisions) == {}


def test_it_sets_no_step_factor_for_slight_trims_or_enlargements():
    trims = [_decision(channel="search", ratio=0.95, edited=True) for _ in range(8)]
    enlargements = [_decision(channel="social", ratio=1.6, edited=True) for _ in range(8)]

    assert acceptance.step_factors(trims + enlargements) == {}


def test_it_clips_step_factors_to_the_floor_and_ignores_rejections():
    decisions = [_decision(kind="budget_change", channel="search", ratio=0.1, edited=True) for _ in range(5)]
    rejections = [_decision(kind="budget_change", channel="search", accepted=False, ratio=None)] * 10

    assert acceptance.step_factors(decisions + rejections) == {"budget_change|search": 0.3}


def test_scaled_group_shortens_a_shift_and_keeps_it_budget_neutral_to_the_cent():
    group = Group({0: -33.33, 1: 20.01, 2: 13.32})

    scaled = acceptance.scaled_group(group, 0.37)

    assert round(sum(scaled.deltas.values()) * 100) == 0
    assert scaled.amount == pytest.approx(group.amount * 0.37, abs=0.02)
    assert acceptance.scaled_group(group, 1.0) is group


def test_scaled_changes_shorten_moves_from_the_same_starting_budgets():
    changes = [{"campaign": "A", "field": "daily_budget", "from": 100.0, "to": 140.0}]

    assert acceptance.scaled_changes(changes, 0.5) == [
        {"campaign": "A", "field": "daily_budget", "from": 100.0, "to": 120.0}
    ]
