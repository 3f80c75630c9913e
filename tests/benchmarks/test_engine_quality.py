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
    assert "limited raised" in out and "The issue's worlds" in out
    # Five goals of the grid, two of the demand-limited worlds.
    assert sum(line.startswith(("met: ", "NOT met: ")) for line in out.splitlines()) == 7


def test_demand_limited_worlds_compare_the_landed_engine_with_today_s():
    results, unlimited = eq.run_limited(seeds=1, n_campaigns=16)
    cells = eq.limited_cells(results)

    assert {(c["case"], c["variation"], c["engine"]) for c in cells} == {
        (case, variation, engine)
        for case, variation in (("issue", "high"), ("share", "low"), ("share", "high"))
        for engine in ("landed", "now")
    }
    assert list(unlimited) == [1]
    for cell in cells:
        assert math.isfinite(cell["median"]) and cell["violations"] == 0
        assert cell["limited"] > 0
    issue = {c["engine"]: c for c in cells if c["case"] == "issue"}
    assert issue["landed"]["above"] > 0  # the failure the issue measured
    assert sum(c["above"] for c in cells if c["engine"] == "now") == 0
    assert issue["now"]["median"] > issue["landed"]["median"]
    for result in results:
        assert result.captured <= 1.0 + 1e-6


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
