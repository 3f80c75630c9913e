"""Data-health checks on simulated data: each break planted against the same data left clean."""

from datetime import date, timedelta

import numpy as np
import pytest

from decisions.engine import data_health as dh
from decisions.engine import simulator as sim

END = date(2026, 11, 20)
TODAY = END + timedelta(days=1)


@pytest.fixture(scope="module")
def world_history():
    world = sim.make_world(12, 5)
    return world, sim.simulate_history(world, days=90, end_date=END)


def health_data(world, history, **changes) -> dh.HealthData:
    data = dh.HealthData(
        campaign_ids=list(world.external_ids),
        names=[c.name for c in world.campaigns],
        dates=list(history.dates),
        spend=history.spend.astype(float).copy(),
        outcome=history.pipeline_value.astype(float).copy(),
        clicks=history.clicks.astype(float).copy(),
        active=np.ones(len(world.campaigns), dtype=bool),
        today=TODAY,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def checks_of(findings, campaign_id=None):
    return {(f.check, f.severity) for f in findings if f.campaign_id == campaign_id}


def test_clean_simulated_data_has_no_finding(world_history):
    assert dh.check_health(health_data(*world_history)) == []


def test_a_tag_that_broke_is_a_fail_that_says_tracking_broke(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.outcome[3, -8:] = 0.0
    findings = dh.check_health(data)
    [finding] = [f for f in findings if f.campaign_id == world.external_ids[3]]
    assert (finding.check, finding.severity) == (dh.TRACKING_BROKE, dh.FAIL)
    assert finding.since == END - timedelta(days=7)
    assert "tracking broke" in finding.message and world.campaigns[3].name in finding.message
    assert world.external_ids[3] not in finding.message  # names, not ids
    assert dh.held_campaigns(findings) == {world.external_ids[3]: finding}
    assert {f.campaign_id for f in findings} == {world.external_ids[3]}


def test_a_gradual_decline_is_a_review_that_says_stopped_converting(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.outcome[4, -20:] *= np.linspace(0.9, 0.0, 20)
    findings = dh.check_health(data)
    assert checks_of(findings, world.external_ids[4]) == {(dh.STOPPED_CONVERTING, dh.REVIEW)}
    assert "stopped converting" in findings[0].message
    assert dh.held_campaigns(findings) == {}


def test_an_abrupt_drop_with_clicks_falling_too_is_not_called_broken_tracking(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.outcome[4, -6:] = 0.0
    data.clicks[4, -6:] = 0.0
    assert checks_of(dh.check_health(data), world.external_ids[4]) == {(dh.STOPPED_CONVERTING, dh.REVIEW)}


def test_a_whole_source_at_zero_is_one_source_fail_not_one_per_campaign(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.outcome[:, -3:] = 0.0
    findings = dh.check_health(data)
    assert [(f.check, f.severity, f.campaign_id) for f in findings] == [(dh.SOURCE_ZERO, dh.FAIL, None)]
    assert dh.excluded_from(findings, "pipeline_value") == END - timedelta(days=2)
    assert dh.held_campaigns(findings) == {}


def test_spend_times_a_hundred_is_a_unit_jump(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.spend[2, -5:] *= 100
    findings = dh.check_health(data)
    assert checks_of(findings, world.external_ids[2]) == {(dh.UNIT_JUMP, dh.FAIL)}
    assert "×" in findings[0].message and findings[0].since == END - timedelta(days=4)


def test_a_single_missing_day_and_a_whole_missing_day_are_reviews(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.spend[1, 50] = np.nan
    data.spend[:, 60] = np.nan
    findings = dh.check_health(data)
    assert checks_of(findings, world.external_ids[1]) == {(dh.MISSING_DAYS, dh.REVIEW)}
    assert checks_of(findings) == {(dh.MISSING_DAYS, dh.REVIEW)}
    source = next(f for f in findings if f.campaign_id is None)
    assert source.since == history.dates[60]


def test_a_paused_campaign_without_rows_is_not_missing_days(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.spend[1, -10:] = np.nan
    data.active[1] = False
    assert dh.check_health(data) == []


def test_stale_data_is_a_review_from_three_days(world_history):
    world, history = world_history
    assert dh.check_health(health_data(world, history, today=END + timedelta(days=2))) == []
    [finding] = dh.check_health(health_data(world, history, today=END + timedelta(days=4)))
    assert (finding.check, finding.severity, finding.since) == (dh.STALE, dh.REVIEW, END)


def test_low_attribution_coverage_is_a_review(world_history):
    world, history = world_history
    data = health_data(world, history)
    data.outcome[:6, -28:] = np.nan
    findings = dh.check_health(data)
    assert (dh.ATTRIBUTION, dh.REVIEW) in checks_of(findings)


def test_an_import_that_rewrote_old_days_is_a_review_and_recent_days_info():
    late = dh.ImportChange("restated.csv", TODAY, 40, END - timedelta(days=30), END - timedelta(days=20), END)
    recent = dh.ImportChange("daily.csv", TODAY, 12, END - timedelta(days=1), END, END)
    untouched = dh.ImportChange("new.csv", TODAY, 0, None, None, END)
    findings = dh.changed_history([late, recent, untouched])
    assert [(f.check, f.severity) for f in findings] == [(dh.CHANGED_HISTORY, dh.REVIEW), (dh.CHANGED_HISTORY, dh.INFO)]
    assert "restated.csv" in findings[0].message and "40 rows" in findings[0].message


@pytest.mark.parametrize(
    ("matched", "expected"), [(960, []), (900, [dh.INFO]), (500, [dh.REVIEW])], ids=["fine", "info", "review"]
)
def test_deal_coverage_grades_the_share_credited_to_a_campaign(matched, expected):
    findings = dh.deal_coverage(dh.DealCoverage(matched, 1000))
    assert [f.severity for f in findings] == expected


def test_drop_diagnosis_tells_broken_tracking_from_stopped_converting(world_history):
    world, history = world_history
    spend, clicks = history.spend[5].astype(float), history.clicks[5].astype(float)
    broken = history.pipeline_value[5].astype(float).copy()
    broken[-6:] = 0.0
    assert dh.drop_diagnosis(spend, broken, clicks) == "tracking broke"
    fading = history.pipeline_value[5].astype(float).copy()
    fading[-21:] *= np.linspace(1.0, 0.05, 21)
    assert dh.drop_diagnosis(spend, fading, clicks) == "stopped converting"
    assert dh.drop_diagnosis(spend, history.pipeline_value[5].astype(float), clicks) == ""


def test_findings_round_trip_through_their_stored_form():
    finding = dh.Finding("unit_jump", dh.FAIL, "m", "f", campaign_id="C1", since=END, until=TODAY)
    assert dh.Finding.from_dict(finding.to_dict()) == finding
    assert dh.status_of([finding]) == "red"
    assert dh.status_of([]) == "green"
