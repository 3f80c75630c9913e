"""Splitting an allocation into budget-neutral shifts a reviewer can approve one at a time."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from decisions.engine.proposing import _money, group_moves, impact_summary


def moved(current, budgets) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(current, dtype=float), np.asarray(budgets, dtype=float)


def test_one_cut_funding_one_increase_is_one_shift():
    current, budgets = moved([100, 100, 100], [60, 140, 100])
    (group,) = group_moves(current, budgets, min_move=1)
    assert group.deltas == {0: -40.0, 1: 40.0}


def test_a_long_chain_is_cut_where_the_least_money_is_left_unmoved():
    # Four cuts of 50 against four increases of 50 line up as four separate pairs: nothing needs dropping.
    current = np.full(8, 100.0)
    budgets = np.array([50, 50, 50, 50, 150, 150, 150, 150.0])
    groups = group_moves(current, budgets, min_move=1, max_campaigns=2)
    assert len(groups) == 4
    assert sum(g.amount for g in groups) == 200


def test_a_campaign_is_never_split_across_two_shifts():
    # One big cut funds five increases: splitting it would give it two conflicting targets.
    current = np.full(6, 100.0)
    budgets = np.array([50, 110, 110, 110, 110, 110.0])
    groups = group_moves(current, budgets, min_move=1, max_campaigns=3)
    assert len(groups) == 1 and len(groups[0].deltas) == 6


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=-80, max_value=80, allow_nan=False), min_size=2, max_size=40),
    st.integers(min_value=2, max_value=8),
)
def test_shifts_are_budget_neutral_and_disjoint(raw, max_campaigns):
    delta = np.array(raw) - np.mean(raw)  # an allocation keeps the total
    current = np.full(len(delta), 200.0)
    groups = group_moves(current, current + delta, min_move=1.0, max_campaigns=max_campaigns)
    seen = set()
    for group in groups:
        assert abs(sum(group.deltas.values())) < 0.05
        assert not seen & set(group.deltas)
        seen |= set(group.deltas)
        for i, change in group.deltas.items():
            assert np.sign(change) == np.sign(delta[i])  # nobody moves against the allocation
            assert abs(change) <= abs(delta[i]) + 0.01


def test_impact_summary_is_weekly_with_an_80_percent_interval():
    draws = np.linspace(-10, 90, 1001)  # per day
    expected, p_loss = impact_summary(draws, metric="pipeline_value")
    assert expected["per"] == "week"
    assert expected["mean"] == 280.0
    assert expected["low"] == -0.0 or expected["low"] == 0.0
    assert expected["high"] == 560.0
    assert p_loss == np.mean(draws < 0)


def test_money_reads_like_people_write_it():
    assert _money(1665.03) == "$1,665"
    assert _money(-481.7) == "−$482"
    assert _money(23.7) == "$23.70"
