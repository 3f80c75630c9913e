"""Anomalies: a planted cost spike and a no-outcome streak are flagged, a normal week is not."""

import numpy as np

from decisions.engine.anomalies import detect_anomalies


def _portfolio(seed=0, campaigns=30, days=60):
    rng = np.random.default_rng(seed)
    spend = rng.uniform(50, 400, (campaigns, 1)) * rng.normal(1, 0.1, (campaigns, days))
    cost_per_outcome = rng.uniform(10, 40, (campaigns, 1))
    outcomes = rng.poisson(spend / cost_per_outcome).astype(float)
    return rng, spend, outcomes


def test_it_flags_nothing_in_a_normal_week():
    _, spend, outcomes = _portfolio()
    assert detect_anomalies(spend, outcomes) == []


def test_it_flags_a_planted_cost_spike_as_a_cut():
    rng, spend, outcomes = _portfolio(seed=1)
    outcomes[4, -7:] = rng.binomial(outcomes[4, -7:].astype(int), 0.3)
    found = detect_anomalies(spend, outcomes)
    assert [(a.index, a.kind, a.action) for a in found] == [(4, "cost_spike", "cut")]
    assert found[0].observed < found[0].expected and found[0].p_value < 0.001


def test_it_flags_a_no_outcome_streak_as_a_pause():
    _, spend, outcomes = _portfolio(seed=2)
    outcomes[9, -6:] = 0.0
    found = detect_anomalies(spend, outcomes)
    assert [(a.index, a.kind, a.action, a.days) for a in found] == [(9, "no_outcome", "pause", 6)]


def test_it_does_not_call_a_quiet_streak_on_a_campaign_that_rarely_converts_an_anomaly():
    rng, spend, outcomes = _portfolio(seed=3)
    outcomes[2] = rng.poisson(0.05, outcomes.shape[1])
    outcomes[2, -10:] = 0.0
    assert all(a.index != 2 for a in detect_anomalies(spend, outcomes))


def test_it_skips_unknown_days():
    _, spend, outcomes = _portfolio(seed=4)
    outcomes[5, -6:] = np.nan
    assert detect_anomalies(spend, outcomes) == []
