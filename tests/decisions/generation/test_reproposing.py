"""An out-of-date proposal never blocks a new one: the next run proposes again from today's values."""

import datetime as dt
from decimal import Decimal

import pytest

from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Campaign, GenerationRun, Proposal
from decisions.review import freshness, kinds

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


@pytest.fixture
def world():
    return demo_seed(n_campaigns=16, days=120, seed=3, end_date=END).world


def run_engine() -> tuple[GenerationRun, bool]:
    started = generating.generation_start()
    if started.created:
        generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    return started.run, started.created


def test_a_run_over_the_same_window_is_repeated_once_a_pending_proposal_went_out_of_date(world):
    first, _ = run_engine()
    stale = Proposal.objects.filter(run=first, kind=kinds.BUDGET_SHIFT.name).order_by("-priority").first()
    receiver = max(stale.changes, key=lambda c: c["to"] - c["from"])
    moved_to = Decimal(str(receiver["from"])) + 40
    # An import changed the budget but brought no new day: the data window is the same.
    Campaign.objects.filter(external_id=receiver["campaign"]).update(daily_budget=moved_to)
    assert freshness.out_of_date(stale.changes)

    second, created = run_engine()

    assert created and second.pk != first.pk and second.window_end == first.window_end
    stale.refresh_from_db()
    assert stale.status == Proposal.Status.SUPERSEDED
    fresh = [
        p for p in Proposal.objects.filter(run=second) if receiver["campaign"] in {c["campaign"] for c in p.changes}
    ]
    assert fresh, "the moved campaign is proposed again"
    for proposal in fresh:
        change = next(c for c in proposal.changes if c["campaign"] == receiver["campaign"])
        assert Decimal(str(change["from"])) == moved_to  # from today's budget, not the one the stale proposal saw
        assert not freshness.out_of_date(proposal.changes)


def test_a_run_whose_pending_proposals_are_all_current_is_reused(world):
    first, _ = run_engine()
    again, created = run_engine()
    assert not created and again.pk == first.pk
