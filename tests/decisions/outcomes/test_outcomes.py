"""Outcome tracking: realised impact by difference-in-differences, verdicts, and the model's estimates."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from decisions.data.tasks import import_performance_file
from decisions.delivery import outbox as applying
from decisions.engine.estimates import estimate_per_week
from decisions.models import Application, DailyMetric, ImportRun, Outcome, Proposal
from decisions.outcomes import service as outcomes
from decisions.outcomes.service import Windows, portfolio_growth, verdict_for
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, ProposalFactory, marketer

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 16)  # the apply day
N = outcomes.OUTCOME_DAYS
CURVE = {"spend": [0, 100, 200, 300], "value": [0, 1000, 1500, 1800]}


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def days(first: dt.date, last: dt.date):
    return (first + dt.timedelta(days=k) for k in range((last - first).days + 1))


def script(campaign, *, before: float, after: float | None, last: dt.date = D + dt.timedelta(days=N)) -> None:
    """pipeline_value per day: `before` up to the apply day, `after` from then on (None: no rows)."""
    rows = []
    for day in days(D - dt.timedelta(days=N), last):
        value = before if day < D else after
        if value is not None:
            rows.append(DailyMetric(campaign=campaign, date=day, pipeline_value=Decimal(str(value))))
    DailyMetric.objects.bulk_create(rows)


@pytest.fixture
def portfolio():
    """A changed campaign (100 → 150 a day) and two untouched ones that grew by 10%."""
    changed, b, c = (CampaignFactory(external_id=ext) for ext in ("A", "B", "C"))
    script(changed, before=100, after=150)
    script(b, before=200, after=220)
    script(c, before=100, after=110)
    return changed


def proposal_on(campaign, *, to: float = 150.0, low: float = 100.0, high: float = 300.0, **fields) -> Proposal:
    return ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
        evidence={"curves": [{"campaign": campaign.external_id, **CURVE}]},
        expected_low=low,
        expected_mean=(low + high) / 2,
        expected_high=high,
        **fields,
    )


def applied_on(proposal: Proposal, day: dt.date = D, *, final_changes: list | None = None) -> Proposal:
    if final_changes is None:
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    else:
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=final_changes)
    application = Application.objects.get(proposal=proposal)
    applying.application_apply(application_id=application.pk)
    Application.objects.filter(pk=application.pk).update(updated_at=noon(day))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    return proposal


# --- the difference-in-differences, by hand ----------------------------------------------------


def test_realised_impact_is_the_changed_campaigns_lift_beyond_the_portfolios_growth(portfolio):
    proposal = applied_on(proposal_on(portfolio))
    counts = outcomes.outcomes_refresh(today=D + dt.timedelta(days=N + 1))

    outcome = Outcome.objects.get(proposal=proposal)
    # Controls grew 300 → 330 a day (×1.1); A would have made 110 without the change and made 150:
    # 40 a day, 280 a week.
    assert outcome.realised == pytest.approx(280.0)
    assert outcome.verdict == Outcome.Verdict.HIT
    assert (outcome.window_start, outcome.window_end, outcome.days) == (
        D + dt.timedelta(days=1),
        D + dt.timedelta(days=N),
        N,
    )
    assert (outcome.expected_low, outcome.expected_high, outcome.metric) == (100.0, 300.0, "pipeline_value")
    assert counts == {"created": 1, "updated": 0, "unchanged": 0, "waiting": 0}


@pytest.mark.parametrize(
    ("low", "high", "verdict"), [(100, 300, "hit"), (280, 280, "hit"), (300, 500, "below"), (0, 200, "above")]
)
def test_the_verdict_places_the_realised_impact_against_the_expected_interval(portfolio, low, high, verdict):
    proposal = applied_on(proposal_on(portfolio, low=low, high=high))
    outcomes.outcomes_refresh()
    assert Outcome.objects.get(proposal=proposal).verdict == verdict


def test_campaigns_another_applied_change_touched_are_not_controls(portfolio):
    proposal = applied_on(proposal_on(portfolio))
    other = CampaignFactory(external_id="D")
    script(other, before=100, after=300)  # tripled by its own change: no measure of the market
    applied_on(proposal_on(other, to=130.0), D + dt.timedelta(days=3))
    outcomes.outcomes_refresh()
    assert Outcome.objects.get(proposal=proposal).realised == pytest.approx(280.0)


def test_without_untouched_campaigns_it_falls_back_to_before_and_after():
    only = CampaignFactory(external_id="A")
    script(only, before=100, after=150)
    proposal = applied_on(proposal_on(only))
    outcomes.outcomes_refresh()
    assert Outcome.objects.get(proposal=proposal).realised == pytest.approx(350.0)


def test_a_paused_campaign_that_stops_reporting_counts_as_zero(portfolio):
    paused = CampaignFactory(external_id="P")
    script(paused, before=50, after=None)
    proposal = ProposalFactory(
        kind=kinds.PAUSE.name,
        campaign=paused,
        lever="status",
        changes=[{"campaign": "P", "field": "status", "from": "active", "to": "paused"}],
        expected_low=-350.0,
        expected_mean=-350.0,
        expected_high=0.0,
    )
    applied_on(proposal)
    outcomes.outcomes_refresh()
    outcome = Outcome.objects.get(proposal=proposal)
    # A is untouched here, so controls are A, B, C: 400 → 480 a day (×1.2); P gave up 50 × 1.2 a day.
    assert outcome.realised == pytest.approx(-7 * 50 * 1.2)
    assert outcome.verdict == Outcome.Verdict.BELOW
    assert (outcome.machine_estimate, outcome.human_estimate) == (-350.0, -350.0)


# --- when outcomes appear, and how often they are written ------------------------------------------


def test_it_waits_until_every_day_of_the_window_is_imported():
    a, b = CampaignFactory(external_id="A"), CampaignFactory(external_id="B")
    short = D + dt.timedelta(days=N - 1)
    script(a, before=100, after=150, last=short)
    script(b, before=100, after=100, last=short)
    proposal = applied_on(proposal_on(a))

    assert outcomes.outcomes_refresh()["waiting"] == 1
    assert not Outcome.objects.exists()

    last = D + dt.timedelta(days=N)
    DailyMetric.objects.bulk_create(
        [DailyMetric(campaign=c, date=last, pipeline_value=Decimal(v)) for c, v in ((a, "150"), (b, "100"))]
    )
    assert outcomes.outcomes_refresh()["created"] == 1
    assert Outcome.objects.get(proposal=proposal).realised == pytest.approx(350.0)


def test_a_proposal_approved_but_not_yet_applied_has_no_outcome(portfolio):
    reviewing.proposal_approve(proposal=proposal_on(portfolio), actor=marketer())
    assert outcomes.outcomes_refresh() == {"created": 0, "updated": 0, "unchanged": 0, "waiting": 0}


def test_refreshing_twice_writes_one_outcome_and_leaves_it_alone(portfolio):
    proposal = applied_on(proposal_on(portfolio))
    soon = D + dt.timedelta(days=N + 1)
    outcomes.outcomes_refresh(today=soon)
    first = Outcome.objects.get(proposal=proposal)

    counts = outcomes.outcomes_refresh(today=soon)

    assert counts == {"created": 0, "updated": 0, "unchanged": 1, "waiting": 0}
    assert Outcome.objects.count() == 1
    assert Outcome.objects.get(proposal=proposal).computed_at == first.computed_at


def test_a_late_correction_updates_a_young_outcome_but_not_a_final_one(portfolio):
    proposal = applied_on(proposal_on(portfolio))
    outcomes.outcomes_refresh()
    DailyMetric.objects.filter(campaign=portfolio, date__gt=D).update(pipeline_value=Decimal("160"))

    final_day = D + dt.timedelta(days=N + outcomes.RECOMPUTE_DAYS + 1)
    assert outcomes.outcomes_refresh(today=final_day)["updated"] == 0
    assert Outcome.objects.get(proposal=proposal).realised == pytest.approx(280.0)

    assert outcomes.outcomes_refresh(today=D + dt.timedelta(days=N + 1))["updated"] == 1
    assert Outcome.objects.get(proposal=proposal).realised == pytest.approx(350.0)


# --- rejected and edited: the model's estimate of each version ------------------------------------


def test_a_rejection_gets_the_machines_estimate_and_zero_for_the_human(portfolio):
    proposal = proposal_on(portfolio)
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="strategy")
    Proposal.objects.filter(pk=proposal.pk).update(decided_at=noon(D))
    outcomes.outcomes_refresh()

    outcome = Outcome.objects.get(proposal=proposal)
    # The engine's own figure, the one the pages show as proposed (not the bare curve's 250 a day × 7).
    assert outcome.machine_estimate == proposal.expected_mean == 200.0
    assert outcome.human_estimate == 0.0
    assert (outcome.realised, outcome.verdict) == (None, "")
    assert "nothing changed" in outcomes.describe(outcome, decision="rejected")


def test_an_edit_gets_both_estimates_and_is_judged_against_the_interval_of_what_was_applied(portfolio):
    proposal = proposal_on(portfolio, low=1500.0, high=2000.0)
    final = [{**proposal.changes[0], "to": 120.0}]
    applied_on(proposal, final_changes=final)
    outcomes.outcomes_refresh()

    outcome = Outcome.objects.get(proposal=proposal)
    assert outcome.machine_estimate == proposal.expected_mean == 1750.0
    # The re-estimate the pages show for the reviewer's values: the curve read at 1000 → 1100 a day.
    assert outcome.human_estimate == pytest.approx(7 * 100.0)
    # The machine's 1500–2000 moved by 700 − 1750: the model expected 450–950 from the edit.
    assert (outcome.expected_low, outcome.expected_high) == (450.0, 950.0)
    assert outcome.realised == pytest.approx(280.0)
    assert outcome.verdict == Outcome.Verdict.BELOW
    assert "reviewer's at +$700/week" in outcomes.describe(outcome, decision="edited")


# --- the pure helpers --------------------------------------------------------------------------------


def test_growth_uses_only_controls_known_on_every_day():
    complete = Windows(before=1400, before_days=14, after=1540, after_days=14)
    patchy = Windows(before=100, before_days=2, after=5000, after_days=14)
    assert portfolio_growth([complete, patchy], days=14) == pytest.approx(1.1)
    assert portfolio_growth([patchy], days=14) == 1.0


def test_an_estimate_without_curve_points_scales_the_expected_mean_by_the_move_kept():
    machine = [{"campaign": "A", "field": "daily_budget", "from": 100.0, "to": 50.0}]
    kept_a_fifth = [{**machine[0], "to": 90.0}]
    assert estimate_per_week(machine, evidence={}, machine_changes=machine, machine_mean=-300.0) == -300.0
    assert estimate_per_week(kept_a_fifth, evidence={}, machine_changes=machine, machine_mean=-300.0) == -60.0


def test_the_verdict_is_empty_when_nothing_could_be_measured():
    assert verdict_for(None, low=0, high=1) == ""


# --- wiring: the import task and beat -------------------------------------------------------------------


def test_a_successful_import_refreshes_outcomes_once_it_commits(
    portfolio, tmp_path, django_capture_on_commit_callbacks
):
    DailyMetric.objects.filter(date=D + dt.timedelta(days=N)).delete()
    proposal = applied_on(proposal_on(portfolio))
    path = tmp_path / "last-day.csv"
    last = D + dt.timedelta(days=N)
    path.write_text(f"date,campaign_id,pipeline_value\n{last},A,150\n{last},B,220\n{last},C,110\n")
    run = ImportRun.objects.create(filename="last-day.csv", stored_path=str(path), size_bytes=path.stat().st_size)

    with django_capture_on_commit_callbacks(execute=True):
        import_performance_file.delay(run.pk)

    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.SUCCEEDED
    assert Outcome.objects.get(proposal=proposal).realised == pytest.approx(280.0)


def test_beat_refreshes_outcomes_every_morning_at_five():
    task = PeriodicTask.objects.get(task="decisions.outcome_tasks.refresh_outcomes")
    assert (task.crontab.hour, task.crontab.minute) == ("5", "0")
    assert task.enabled
