"""A spend test's life: the kind, its start when the raise reaches the platform, its scheduled return, a manual
rollback before (or refused after) the end, its outcome over its own days, and the proposal page's words."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from decisions import spend_tests
from decisions.audit.actions import REGISTRY, Action
from decisions.delivery import outbox as applying
from decisions.delivery import tasks as outbox_tasks
from decisions.models import Application, AuditEvent, Campaign, DailyMetric, Outcome, Proposal
from decisions.outcomes import service as outcomes
from decisions.review import kinds
from decisions.review import transitions as reviewing
from objectives.guardrails import fields
from tests.factories import CampaignFactory, DailyMetricFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db

PLAN = {
    "mode": "campaign",
    "days": 14,
    "raise_pct": 25.0,
    "extra_spend": 350.0,
    "cost": {"mean": 120.0, "low": -80.0, "high": 330.0},
    "predicted_lift": {"mean": 230.0, "low": 20.0, "high": 430.0},
    "interval_now": [0.4, 2.1],
    "interval_expected": [0.9, 1.6],
    "narrowing": 0.59,
    "value_of_knowing": 1900.0,
    "net_value": 1780.0,
    "horizon_days": 90,
    "metric": "pipeline_value",
}


def spend_test(**extra) -> Proposal:
    campaign = CampaignFactory(name="Search – Brand", external_id="SIM-0020", daily_budget=Decimal("100.00"))
    return ProposalFactory(
        kind=kinds.SPEND_TEST.name,
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 125.0}],
        evidence={"spend_test": dict(PLAN)},
        expected_mean=115.0,
        expected_low=10.0,
        expected_high=215.0,
        p_loss=0.6,
        **extra,
    )


def applied_test() -> Proposal:
    """Approved and pushed through the ledger (on_commit never fires inside a test, so the row is sent here)."""
    proposal = spend_test()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    row = Application.objects.get(proposal=proposal, direction=Application.Direction.APPLY)
    applying.application_apply(application_id=row.pk)
    proposal.refresh_from_db()
    return proposal


def budget(proposal: Proposal) -> Decimal:
    return Campaign.objects.get(pk=proposal.campaign_id).daily_budget


def send_returns(proposal: Proposal) -> None:
    for row in Application.objects.filter(proposal=proposal, direction=Application.Direction.ROLLBACK):
        applying.application_apply(application_id=row.pk)


def reload(proposal: Proposal) -> Proposal:
    return Proposal.objects.prefetch_related("applications").get(pk=proposal.pk)


# --- the kind ------------------------------------------------------------------------------------------------


def test_the_kind_moves_daily_budgets_of_campaigns_and_says_the_plan_in_its_headline():
    spec = kinds.get("spend_test")
    line = {"name": "Search – Brand", "from": 160.0, "delta": 40.0}

    assert (spec.label, spec.field, spec.target) == ("Spend test", fields.BUDGET, fields.CAMPAIGN)
    assert spec.headline([line]) == "Test: raise Search – Brand by 25% ($40.00/day) for 14 days, then return"
    assert ("spend_test", "Spend test") in kinds.choices()


def test_the_kind_refuses_a_change_to_another_field_and_inverts_by_swapping():
    spec = kinds.get("spend_test")
    change = {"campaign": "SIM-0020", "field": "daily_budget", "from": 100.0, "to": 125.0}

    assert spec.validate([change]) == [change]
    with pytest.raises(kinds.InvalidChange):
        spec.validate([{**change, "field": "status", "from": "active", "to": "paused"}])
    assert kinds.inverse([change]) == [{**change, "from": 125.0, "to": 100.0}]


def test_its_audit_actions_are_registered_and_are_not_overrides():
    for action in (Action.SPEND_TEST_STARTED, Action.SPEND_TEST_ENDED):
        assert not REGISTRY[action].is_override
        assert REGISTRY[action].label


# --- starting ------------------------------------------------------------------------------------------------


def test_the_test_starts_when_the_raise_reaches_the_platform():
    proposal = applied_test()
    today = timezone.localdate()

    assert proposal.status == Proposal.Status.APPLIED
    assert budget(proposal) == Decimal("125.00")
    event = AuditEvent.objects.get(action=Action.SPEND_TEST_STARTED, proposal=proposal)
    assert event.machine_payload == {
        "started_on": today.isoformat(),
        "days": 14,
        "returns_on": (today + dt.timedelta(days=15)).isoformat(),
    }
    assert spend_tests.state(reload(proposal), today=today + dt.timedelta(days=5)) == {
        "status": "running",
        "days": 14,
        "day": 5,
        "started_on": today,
        "returns_on": today + dt.timedelta(days=15),
    }


def test_an_ordinary_proposal_applied_starts_no_test():
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    applying.application_apply(application_id=Application.objects.get(proposal=proposal).pk)

    assert not AuditEvent.objects.filter(action=Action.SPEND_TEST_STARTED).exists()
    assert spend_tests.state(reload(proposal)) is None


def test_an_approved_test_not_yet_applied_has_not_started():
    proposal = spend_test()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())

    assert spend_tests.state(reload(proposal)) == {"status": "not_started", "days": 14}
    assert spend_tests.due(today=timezone.localdate() + dt.timedelta(days=30)) == []


# --- ending on schedule -------------------------------------------------------------------------------------


def test_the_sweep_leaves_a_running_test_alone_until_its_return_day():
    proposal = applied_test()
    today = timezone.localdate()

    assert spend_tests.spend_tests_sweep(today=today + dt.timedelta(days=14)) == {"ended": []}
    assert not Application.objects.filter(proposal=proposal, direction=Application.Direction.ROLLBACK).exists()
    assert budget(proposal) == Decimal("125.00")


def test_on_its_return_day_the_budget_goes_back_through_the_same_connector_and_is_audited():
    proposal = applied_test()
    back_on = timezone.localdate() + dt.timedelta(days=15)

    result = spend_tests.spend_tests_sweep(today=back_on)
    send_returns(proposal)

    assert result == {"ended": [proposal.pk]}
    row = Application.objects.get(proposal=proposal, direction=Application.Direction.ROLLBACK)
    apply_row = Application.objects.get(proposal=proposal, direction=Application.Direction.APPLY)
    assert (row.status, row.connector, row.platform) == ("succeeded", apply_row.connector, apply_row.platform)
    assert row.changes == [{"campaign": "SIM-0020", "field": "daily_budget", "from": 125.0, "to": 100.0}]
    assert budget(proposal) == Decimal("100.00")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED  # what was approved ran its course: no override
    ended = AuditEvent.objects.get(action=Action.SPEND_TEST_ENDED, proposal=proposal)
    assert ended.machine_payload["ended_on"] == back_on.isoformat()
    assert not AuditEvent.objects.filter(action=Action.PROPOSAL_ROLLED_BACK).exists()
    found = spend_tests.state(reload(proposal), today=back_on)
    assert (found["status"], found["early"]) == ("ended", False)


def test_a_second_sweep_sends_no_second_return():
    proposal = applied_test()
    back_on = timezone.localdate() + dt.timedelta(days=15)
    spend_tests.spend_tests_sweep(today=back_on)

    assert spend_tests.spend_tests_sweep(today=back_on + dt.timedelta(days=1)) == {"ended": []}
    assert spend_tests.spend_test_end(proposal=proposal, today=back_on) == []
    assert Application.objects.filter(proposal=proposal, direction=Application.Direction.ROLLBACK).count() == 1
    assert AuditEvent.objects.filter(action=Action.SPEND_TEST_ENDED).count() == 1


def test_the_beat_task_runs_the_sweep():
    applied_test()
    assert outbox_tasks.end_spend_tests.delay().get() == {"ended": []}


def test_the_command_sends_the_returns_that_are_due():
    proposal = applied_test()
    out = io.StringIO()
    call_command("end_spend_tests", stdout=out)
    assert out.getvalue() == "No spend test is due to end.\n"

    Application.objects.filter(proposal=proposal).update(updated_at=timezone.now() - dt.timedelta(days=15))
    call_command("end_spend_tests", stdout=out)

    assert f"Returns sent for 1 spend test(s): #{proposal.pk}." in out.getvalue()
    assert AuditEvent.objects.filter(action=Action.SPEND_TEST_ENDED, proposal=proposal).exists()


def test_a_rollback_after_the_return_is_refused():
    proposal = applied_test()
    spend_tests.spend_tests_sweep(today=timezone.localdate() + dt.timedelta(days=15))
    send_returns(proposal)

    with pytest.raises(reviewing.InvalidTransition, match="already returned"):
        reviewing.proposal_rollback(proposal=reload(proposal), actor=marketer(), reason="Too late")
    assert Application.objects.filter(proposal=proposal, direction=Application.Direction.ROLLBACK).count() == 1


def test_a_manual_rollback_before_the_end_ends_the_test_early():
    proposal = applied_test()
    reviewing.proposal_rollback(proposal=reload(proposal), actor=marketer(), reason="Leads look poor")
    send_returns(proposal)

    assert budget(proposal) == Decimal("100.00")
    assert spend_tests.spend_tests_sweep(today=timezone.localdate() + dt.timedelta(days=15)) == {"ended": []}
    found = spend_tests.state(reload(proposal))
    assert (found["status"], found["early"]) == ("ended", True)
    assert spend_tests.describe_state(found).endswith("(rolled back early).")
    assert AuditEvent.objects.filter(action=Action.PROPOSAL_ROLLED_BACK).count() == 1
    assert not AuditEvent.objects.filter(action=Action.SPEND_TEST_ENDED).exists()


# --- the rollback endpoint after the end -------------------------------------------------------------------


def test_the_rollback_page_answers_409_after_the_return(client):
    proposal = applied_test()
    spend_tests.spend_tests_sweep(today=timezone.localdate() + dt.timedelta(days=15))
    client.force_login(marketer())

    url = reverse("decisions:proposal-rollback", args=[proposal.pk])
    response = client.post(url, {"reason": "Undo"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 409 and "already returned" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.PROPOSAL_ROLLED_BACK).exists()


def test_the_rollback_page_refuses_viewers_and_get(client):
    proposal = applied_test()
    client.force_login(viewer())
    url = reverse("decisions:proposal-rollback", args=[proposal.pk])

    assert client.post(url, {"reason": "Undo"}).status_code == 403
    client.force_login(marketer())
    assert client.get(url).status_code == 405


# --- outcome and page ------------------------------------------------------------------------------------------


def test_the_outcome_is_measured_over_the_test_days_against_the_predicted_lift():
    proposal = applied_test()
    start = timezone.localdate()
    other = CampaignFactory(external_id="SIM-0099")
    tested = Campaign.objects.get(pk=proposal.campaign_id)
    for offset in range(-14, 15):
        day = start + dt.timedelta(days=offset)
        during = 1 <= offset <= 14
        DailyMetricFactory(
            campaign=tested, date=day, spend=125 if during else 100, pipeline_value=260 if during else 200 + offset % 3
        )
        DailyMetricFactory(campaign=other, date=day, pipeline_value=500)

    outcomes.outcomes_refresh(today=start + dt.timedelta(days=15))

    outcome = Outcome.objects.get(proposal=proposal)
    assert (outcome.days, outcome.window_start, outcome.window_end) == (
        14,
        start + dt.timedelta(days=1),
        start + dt.timedelta(days=14),
    )
    measured = spend_tests.measured_lift(proposal, outcome)
    assert measured["mean"] == pytest.approx(outcome.realised * 2)
    assert measured["low"] < measured["mean"] < measured["high"]
    text = spend_tests.lift_text(proposal, outcome)
    assert text.startswith("Predicted +$230 (+$20.00 to +$430) over its 14 days; measured +$")


def test_the_proposal_page_says_the_test_is_running(client):
    proposal = applied_test()
    client.force_login(marketer())

    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()

    assert "Running: day 0 of 14, returns on" in page
    assert "Predicted +$230" in page
    assert "Value of knowing" in page


def test_the_proposal_page_says_when_the_test_ended(client):
    proposal = applied_test()
    spend_tests.spend_tests_sweep(today=timezone.localdate() + dt.timedelta(days=15))
    client.force_login(viewer())

    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()

    assert "Ended on " in page
    assert DailyMetric.objects.count() == 0  # nothing imported yet: the lift waits for its days
    assert "measured once its days are imported" in page


def test_beat_ends_tests_every_hour():
    from celery import current_app
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="decisions.outbox_tasks.end_spend_tests")
    assert (task.crontab.hour, task.crontab.minute) == ("*", "15")
    assert task.enabled and task.task in current_app.tasks
