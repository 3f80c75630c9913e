"""One number format for every page: money with its currency, counts in their own units, objectives as what they are."""

import pytest

from objectives import formatting
from objectives.formatting import MONEY, VALUE_POINTS, objective_label, objective_unit


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "$1,234"),
        (100, "$100"),
        (99.994, "$99.99"),
        (99.996, "$100"),
        (12.345, "$12.35"),
        (5, "$5.00"),
        (-18, "−$18.00"),
        (-1500, "−$1,500"),
        (0, "$0.00"),
    ],
)
def test_money_is_whole_dollars_from_100_and_cents_below(value, text):
    assert formatting.money(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(2504, "+$2,504"), (-18, "−$18.00"), (0.004, "$0"), (-0.004, "$0"), (99.5, "+$99.50")]
)
def test_a_change_in_money_always_says_its_direction(value, text):
    assert formatting.signed_money(value) == text


def test_counts_have_no_currency_and_keep_their_sign():
    assert [formatting.count(v) for v in (1234.4, 12.5, 12.0, -3.25)] == ["1,234", "12.5", "12", "−3.2"]
    assert [formatting.signed_count(v) for v in (12, -3.25, 0)] == ["+12", "−3.2", "0"]


def test_percentages():
    assert [formatting.percent(v) for v in (0.123, 0.004, 0, 1)] == ["12%", "0.4%", "0%", "100%"]
    assert [formatting.signed_percent(v) for v in (-30, 12.5, 0)] == ["−30%", "+12.5%", "0%"]


def test_money_metrics_are_dollars_and_counted_metrics_their_own_units():
    assert objective_unit("pipeline_value") == MONEY
    assert objective_unit("closed_revenue", {"pipeline_value": 0.5}) == MONEY
    assert objective_unit("leads").amount(12) == "+12 leads"
    assert objective_unit("leads").amount(1) == "+1 lead"
    assert objective_unit("clicks").amount(-827) == "−827 clicks"
    assert objective_unit("platform_conversions").amount(3.5, signed=False) == "3.5 platform conversions"
    assert "$" not in objective_unit("clicks").amount(827)
    assert objective_unit("leads").interval(-4, 20) == "−4 to +20 leads"
    assert MONEY.interval(-20, 340) == "−$20.00 to +$340"


def test_a_composite_of_money_and_counts_is_value_points_not_dollars():
    unit = objective_unit("closed_revenue", {"pipeline_value": 0.3, "leads": 50})
    assert unit == VALUE_POINTS
    assert unit.amount(1234) == "+1,234 value points"
    assert "$" not in unit.amount(1234)


def test_an_objective_is_labelled_as_what_it_is():
    assert objective_label("pipeline_value") == "Pipeline value"
    assert objective_label("closed_revenue", {"pipeline_value": 0.3, "leads": 50}) == (
        "Closed revenue + 0.3 × pipeline + 50 × leads"
    )
    assert objective_label("leads", {"clicks": 0}) == "Leads"  # a zero weight adds nothing
    # PostgreSQL's jsonb returns keys in its own order: the label does not depend on it.
    assert objective_label("closed_revenue", {"leads": 50, "pipeline_value": 0.3}) == (
        "Closed revenue + 0.3 × pipeline + 50 × leads"
    )


def test_an_unknown_metric_is_named_and_never_counted_in_dollars():
    assert formatting.metric_label("demo_requests") == "Demo requests"
    assert objective_unit("demo_requests").amount(3) == "+3 demo requests"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1874.85, "$1,874.85"), (1500, "$1,500"), (1500.4, "$1,500.40"), (80, "$80.00"), (-12.345, "−$12.35")],
)
def test_exact_money_keeps_every_cent_a_limit_is_compared_to(value, text):
    assert formatting.exact_money(value) == text
