"""On the simulator, whose curves are known, nominal 80% impact intervals cover the true impact ~80% of the time."""

import numpy as np

from decisions.engine import simulator as sim
from decisions.engine.curves import fit_curves


def _coverage(variation: str) -> float:
    world = sim.make_world(400, seed=3)
    history = sim.simulate_history(world, days=180, spend_variation=variation, seed=5)
    fits = fit_curves(history.spend, history.pipeline_value, n_draws=200, seed=1)
    rng = np.random.default_rng(1)
    covered = []
    for i, (campaign, fit) in enumerate(zip(world.campaigns, fits, strict=True)):
        start = history.spend[i, -14:].mean()
        end = start * rng.choice([0.7, 0.8, 1.2, 1.3])
        truth = campaign.pipeline_curve.value(end) - campaign.pipeline_curve.value(start)
        low, high = fit.impact_interval(start, end, level=0.8)
        covered.append(low <= truth <= high)
    return float(np.mean(covered))


def test_80_percent_impact_intervals_are_calibrated_when_spend_varied():
    assert 0.70 <= _coverage("high") <= 0.90


def test_80_percent_impact_intervals_stay_calibrated_when_spend_barely_varied():
    assert 0.70 <= _coverage("low") <= 0.90
