"""Monthly pacing maths: pace, projection, the band, and the budget that lands the month."""

import datetime as dt

import pytest

from decisions.engine import pacing

NOV = {dt.date(2026, 11, d): 100.0 for d in range(1, 21)}  # 20 days at 100/day


def nov_course(amount=3000.0, daily_budget=100.0, spend_share=1.0, spend=NOV):
    return pacing.course(
        amount=amount,
        today=dt.date(2026, 11, 21),
        daily_spend=spend,
        daily_budget=daily_budget,
        spend_share=spend_share,
    )


def test_pace_is_month_to_date_spend_over_the_pro_rated_target():
    course = nov_course(amount=2400)
    assert (course.days_gone, course.days_left, course.spent) == (20, 10, 2000)
    assert course.target_to_date == pytest.approx(1600)
    assert course.pace == pytest.approx(1.25)
    assert course.projected == pytest.approx(3000)
    assert course.projected_share == pytest.approx(1.25)


def test_days_of_another_month_are_ignored():
    course = nov_course(spend=NOV | {dt.date(2026, 10, 31): 999.0})
    assert course.spent == 2000


def test_on_course_inside_the_band_off_course_outside():
    band = pacing.Band(0.9, 1.1)
    assert not nov_course(amount=3000).off_pace(band)
    assert nov_course(amount=2400).off_pace(band)
    assert nov_course(amount=3600).off_pace(band)
    # A budget already corrected: the projection is fine but the pace so far is not, so it still counts.
    assert nov_course(amount=2400, daily_budget=40).off_pace(band)


def test_the_landing_budget_ends_the_month_on_the_amount():
    course = nov_course(amount=2400, spend_share=0.8)
    landing = course.landing_daily_budget()
    assert landing == pytest.approx(400 / 10 / 0.8)
    corrected = nov_course(amount=2400, daily_budget=landing, spend_share=0.8)
    assert corrected.projected == pytest.approx(2400)


def test_an_overspent_month_lands_at_zero_not_below():
    assert nov_course(amount=1500).landing_daily_budget() == 0


def test_too_few_days_left_and_the_engine_leaves_it_to_next_month():
    late = pacing.course(
        amount=1800,
        today=dt.date(2026, 11, 29),
        daily_spend=NOV | {dt.date(2026, 11, 28): 100.0},
        daily_budget=100,
        spend_share=1,
    )
    assert late.days_left == 2
    assert late.off_pace(pacing.Band()) and not late.needs_correction(pacing.Band())
    assert nov_course(amount=2400).needs_correction(pacing.Band())


def test_no_day_left_no_correction():
    course = pacing.course(
        amount=100, today=dt.date(2026, 11, 30), daily_spend={dt.date(2026, 11, 30): 5.0}, daily_budget=1, spend_share=1
    )
    assert course.days_left == 0
    assert course.landing_daily_budget() is None
    assert not course.off_pace(pacing.Band())


def test_landing_budgets_split_in_proportion():
    assert pacing.landing_budgets({"A": 100, "B": 300}, 200) == {"A": 50, "B": 150}


def test_the_chart_lines():
    course = nov_course(amount=3000)
    assert course.target_line()[-1] == (dt.date(2026, 11, 30), pytest.approx(3000))
    assert course.projection_line()[0] == (dt.date(2026, 11, 20), 2000)
    assert course.projection_line()[-1] == (dt.date(2026, 11, 30), pytest.approx(3000))


def members(*specs):
    return [pacing.Member(key, budget, share, may_raise) for key, budget, share, may_raise in specs]


def test_an_overspending_scope_is_cut_in_proportion_and_lands_on_the_amount():
    course = nov_course(amount=2400, daily_budget=100)
    scope = members(("A", 60, 1.0, True), ("B", 40, 1.0, True))
    budgets = pacing.corrections(course, scope)
    assert budgets == {"A": 24.0, "B": 16.0}
    assert pacing.projected_with(course, budgets, scope, 0.0) == pytest.approx(2400)


def test_an_underspending_scope_is_raised_only_where_a_raise_would_be_spent():
    course = nov_course(amount=3600, daily_budget=100)
    scope = members(("A", 50, 1.0, True), ("LIMITED", 50, 1.0, False))
    budgets = pacing.corrections(course, scope)
    assert budgets == {"A": 110.0}
    assert pacing.projected_with(course, budgets, scope, 0.0) == pytest.approx(3600)


def test_nothing_to_raise_when_demand_limits_every_campaign():
    assert pacing.corrections(nov_course(amount=3600), members(("LIMITED", 100, 0.8, False))) == {}


def test_guardrail_limits_hold_the_correction():
    course = nov_course(amount=2400)
    [member] = members(("A", 100, 1.0, True))
    limited = pacing.Member("A", 100, 1.0, True, low=70.0)
    assert pacing.corrections(course, [limited]) == {"A": 70.0}
    assert pacing.corrections(course, [member]) == {"A": 40.0}


def test_the_chance_a_correction_was_not_needed():
    band = pacing.Band(0.9, 1.1)
    far = nov_course(amount=2400)  # projected 125%
    assert pacing.unneeded_chance(far, band, daily_sd=5) < 0.01
    near = nov_course(amount=2700)  # projected 111%
    assert 0.3 < pacing.unneeded_chance(near, band, daily_sd=30) < 0.6
