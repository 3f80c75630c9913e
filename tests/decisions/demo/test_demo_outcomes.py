"""demo_outcomes: the seeded demo fast-forwarded two weeks, with decisions and their outcomes."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.utils import timezone

from decisions.demo.seed import demo_seed
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
    last = timezone.localdate() + dt.timedelta(days=OUTCOME_DAYS)
    assert DailyMetric.objects.aggregate(last=Max("date"))["last"] == last
    assert DailyMetric.objects.filter(date=last).count() == 24
    outcomes = Outcome.objects.select_related("proposal__review")
    assert outcomes.count() == 4
    for outcome in outcomes:
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
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    after = campaign.metrics.filter(date__gte=tomorrow).values_list("spend", flat=True)
    mean_spend = sum(float(s) for s in after) / len(after)
    # Platforms deliver a little under budget: the new days spend around the cut budget, not the old one.
    assert mean_spend == pytest.approx(cut["to"], rel=0.12)
    assert abs(mean_spend - cut["to"]) < abs(mean_spend - cut["from"])


def test_it_fast_forwards_a_seeded_demo_only_once(seeded):
    run()
    with pytest.raises(CommandError, match="already runs to"):
        run()
    assert "outcomes exist already" in run(if_no_outcomes=True)


def test_it_refuses_data_that_is_not_the_demo_world():
    CampaignFactory(external_id="REAL-1")
    with pytest.raises(CommandError, match="not the demo world"):
        run()
    assert not Outcome.objects.exists()


def test_after_the_fast_forward_the_demo_changes_count_as_two_weeks_old(seeded):
    run(approve=2)
    touched = Campaign.objects.filter(last_changed_at__isnull=False)
    assert touched.exists()
    # The demo's present is two simulated weeks on: a 7-day cooldown must not warn on every campaign it changed.
    for campaign in touched:
        assert timezone.now() - campaign.last_changed_at >= dt.timedelta(days=OUTCOME_DAYS - 1)
