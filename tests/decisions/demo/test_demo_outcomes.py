"""demo_outcomes: a few decisions replayed on the decision day, two weeks ago, with their outcomes up to yesterday."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.utils import timezone

from decisions.demo.seed import demo_seed
from decisions.management.commands.demo_outcomes import decision_day
from decisions.models import AuditEvent, Campaign, DailyMetric, Outcome, Proposal, Review
from decisions.outcomes.service import OUTCOME_DAYS
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SEED = 3


@pytest.fixture
def seeded():
    return demo_seed(n_campaigns=24, days=120, seed=SEED)


def run(**options) -> str:
    out = StringIO()
    call_command("demo_outcomes", seed=SEED, stdout=out, **options)
    return out.getvalue()


def test_it_decides_applies_simulates_and_shows_outcomes(seeded):
    output = run(approve=2)

    reviews = decisions_made()
    assert reviews == {"approved": 2, "edited": 1, "rejected": 1}
    applied = Proposal.objects.filter(status=Proposal.Status.APPLIED)
    assert applied.count() == 3
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert DailyMetric.objects.aggregate(last=Max("date"))["last"] == yesterday
    assert DailyMetric.objects.filter(date=yesterday).count() == 24
    outcomes = Outcome.objects.select_related("proposal__review")
    assert outcomes.count() == 4
    for outcome in outcomes:
        assert outcome.window_end <= yesterday  # measured over days that have passed
        if outcome.proposal.review.decision == Review.Decision.REJECTED:
            assert (outcome.realised, outcome.human_estimate) == (None, 0.0)
        else:
            assert outcome.realised is not None
            assert outcome.verdict in ("hit", "above", "below")
    assert AuditEvent.objects.filter(action="data.imported", actor_label="demo_outcomes").count() == 1
    assert "Realised" in output and "Rejected: nothing changed" in output


def decisions_made() -> dict[str, int]:
    decisions = list(Review.objects.values_list("decision", flat=True))
    return {d: decisions.count(d) for d in set(decisions)}


def test_the_new_days_follow_the_applied_budgets(seeded):
    run(approve=1)
    changes = [c for p in Proposal.objects.filter(status="applied") for c in p.review.final_changes]
    cut = min(changes, key=lambda c: c["to"] - c["from"])
    campaign = Campaign.objects.get(external_id=cut["campaign"])
    after = campaign.metrics.filter(date__gt=decision_day()).values_list("spend", flat=True)
    assert len(after) == OUTCOME_DAYS
    mean_spend = sum(float(s) for s in after) / len(after)
    # Platforms deliver a little under budget: the new days spend around the cut budget, not the old one.
    assert mean_spend == pytest.approx(cut["to"], rel=0.12)
    assert abs(mean_spend - cut["to"]) < abs(mean_spend - cut["from"])


def test_it_replays_a_seeded_demo_only_once(seeded):
    run()
    with pytest.raises(CommandError, match="already replayed"):
        run()
    assert "outcomes exist already" in run(if_no_outcomes=True)


def test_it_refuses_data_that_is_not_the_demo_world():
    CampaignFactory(external_id="REAL-1")
    with pytest.raises(CommandError, match="not the demo world"):
        run()
    assert not Outcome.objects.exists()


def test_the_demo_changes_were_made_on_the_decision_day_and_say_so_everywhere(seeded):
    run(approve=2)
    day = decision_day()
    assert day == timezone.localdate() - dt.timedelta(days=OUTCOME_DAYS + 1)
    touched = Campaign.objects.filter(last_changed_at__isnull=False)
    assert touched.exists()
    # Two weeks ago: a 7-day cooldown does not warn on every campaign the demo changed.
    for campaign in touched:
        assert timezone.localdate(campaign.last_changed_at) == day
    for review in Review.objects.select_related("proposal"):
        assert timezone.localdate(review.created_at) == day
        assert review.proposal.created_at < review.created_at  # proposed that morning, then decided
    decided = AuditEvent.objects.filter(action__in=["proposal.approved", "proposal.edited", "proposal.rejected"])
    assert {timezone.localdate(e.created_at) for e in decided} == {day}
    applied = AuditEvent.objects.filter(action="application.succeeded")
    assert applied.exists() and {timezone.localdate(e.created_at) for e in applied} == {day}


def test_what_nobody_decided_on_the_decision_day_expired_three_days_later(seeded):
    run(approve=1)
    replayed = Proposal.objects.filter(created_at__date=decision_day())
    assert not replayed.filter(status=Proposal.Status.PENDING).exists()
    for event in AuditEvent.objects.filter(action="proposal.expired"):
        assert timezone.localdate(event.created_at) < timezone.localdate()


def test_the_queue_waits_with_proposals_made_today_from_the_replayed_days(seeded):
    run()
    waiting = Proposal.objects.filter(status=Proposal.Status.PENDING, expires_at__gt=timezone.now())
    assert waiting.exists()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert {p.run.window_end for p in waiting.select_related("run")} == {yesterday}


def test_the_week_of_the_decisions_reports_their_outcomes(seeded):
    from decisions.reports import weekly

    run(approve=2)
    report = weekly.weekly_report(weekly.iso_week(decision_day()))
    assert report["counts"]["approved_as_proposed"] + report["counts"]["edited"] >= 2
    assert sum(known_counts(report["outcomes"])) >= 3  # the applied ones, measured


def known_counts(section) -> list[int]:
    """Every "known" figure of the report's outcome section, however it is grouped."""
    if isinstance(section, dict):
        own = [section["known"]] if isinstance(section.get("known"), int) else []
        return own + [n for value in section.values() for n in known_counts(value)]
    if isinstance(section, list):
        return [n for value in section for n in known_counts(value)]
    return []


def test_the_replay_leaves_reclaims_for_the_marketer_to_meet_in_the_queue(seeded):
    run()
    replayed = Review.objects.filter(reviewer__username="marketer").values_list("proposal__kind", flat=True)
    assert "reclaim" not in set(replayed)
    assert Proposal.objects.filter(kind="reclaim", status=Proposal.Status.PENDING, expires_at__gt=timezone.now())
