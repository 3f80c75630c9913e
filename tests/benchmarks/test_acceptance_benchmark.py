"""The acceptance benchmark on a few hundred decisions: it runs, learns something, and prints its tables."""

import math

from benchmarks import acceptance_benchmark as ab


def test_it_beats_chance_and_recovers_the_display_habit_on_a_small_run():
    result = ab.run(400, seed=0)

    assert result.n_test == 100
    assert result.auc is not None and result.auc > 0.6
    assert math.isfinite(result.brier) and result.brier < 0.25
    learned = {key: factor for key, _, factor, _ in result.steps}
    assert abs(learned["budget_shift|display"] - 0.5) < 0.1
    assert learned.get("budget_shift|search") is None  # no habit there, no factor


def test_proposing_the_learned_step_cuts_how_often_display_shifts_are_edited():
    factor, before, after = ab.run(400, seed=0).adaptation

    assert factor < 1.0
    assert after < before


def test_it_prints_every_table(capsys):
    ab.main(["--decisions", "300"])
    out = capsys.readouterr().out

    for heading in ("acceptance model (as shown)", "oracle", "Reliability", "Step factors", "Adaptation"):
        assert heading in out
