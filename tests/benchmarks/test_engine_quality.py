"""The engine quality benchmark on a small grid: it runs, its numbers are finite, the engine breaks no rule."""

import math

import numpy as np
import pytest

from benchmarks import engine_quality as eq
from decisions.engine import simulator as sim
from decisions.engine.types import Bounds


@pytest.fixture(scope="module")
def small_grid():
    return eq.run_grid(seeds=2, n_campaigns=12, days=(90,))


def test_it_reports_finite_quality_numbers_without_guardrail_violations(small_grid):
    cells = eq.summarise(small_grid)

    assert [(c.days, c.variation) for c in cells] == [(90, "low"), (90, "high")]
    for cell in cells:
        assert math.isfinite(cell.median) and math.isfinite(cell.worst_decile)
        assert math.isfinite(cell.allocator_median)
        assert math.isfinite(cell.gain) and math.isfinite(cell.baseline_gain)
        assert 0.0 <= cell.coverage <= 1.0
        assert cell.proposals > 0
        assert cell.violations == 0


def test_it_never_captures_more_than_the_oracle_under_the_same_bounds(small_grid):
    for result in small_grid:
        assert result.proposed <= result.oracle + 1e-6
        assert result.captured <= 1.0 + 1e-6


def test_it_prints_both_tables_and_a_verdict_per_goal(capsys):
    eq.main(["--seeds", "1", "--campaigns", "10"])
    out = capsys.readouterr().out

    assert "worst 10%" in out and "ROAS-greedy" in out
    assert sum(line.startswith(("met: ", "NOT met: ")) for line in out.splitlines()) == 5


def test_the_roas_greedy_baseline_funds_the_highest_platform_roas_from_the_lowest():
    current = np.array([100.0, 100.0, 100.0])
    bounds = Bounds(lower=np.array([70.0, 70.0, 70.0]), upper=np.array([130.0, 130.0, 130.0]))

    budgets = eq.roas_greedy(current, bounds, np.array([1.0, 9.0, 4.0]))

    assert budgets.tolist() == [70.0, 130.0, 100.0]


def test_approving_a_pause_stops_the_campaigns_spend():
    world = sim.make_world(3, seed=1)
    pause = eq.proposing.Draft(
        kind="pause",
        campaign=world.external_ids[0],
        changes=[{"campaign": world.external_ids[0], "field": "status", "from": "active", "to": "paused"}],
        rationale="",
        expected={},
        p_loss=0.0,
    )

    budgets = eq.applied(world, [pause])

    assert budgets[0] == 0.0
    assert budgets[1:].tolist() == world.budgets[1:].tolist()
