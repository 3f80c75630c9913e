"""channel_shift proposals: with attribution "mix", budget-neutral moves between channels from the mix model."""

import datetime as dt

import pytest
from django.urls import reverse

from decisions.demo.mix import seed_mix_world
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Campaign, GenerationRun, Proposal
from objectives import services as objective_services
from tests.factories import marketer

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


def run_engine(window_end) -> GenerationRun:
    started = generating.generation_start(window_end=window_end)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    return started.run


@pytest.fixture
def mix_world():
    world, campaigns = seed_mix_world(end=END, weeks=104)
    return world, campaigns


def test_with_mix_attribution_a_run_proposes_a_budget_neutral_channel_shift(mix_world):
    objective_services.objective_set(metric="closed_revenue", attribution="mix", reason="totals only")
    run = run_engine(END - dt.timedelta(days=1))
    assert run.status == GenerationRun.Status.SUCCEEDED, run.errors
    shift = Proposal.objects.get(run=run, kind="channel_shift")
    before = {c.external_id: float(c.daily_budget) for c in Campaign.objects.all()}
    moves = [change["to"] - change["from"] for change in shift.changes]
    assert abs(sum(moves)) < 0.011 and any(m > 0 for m in moves) and any(m < 0 for m in moves)
    assert all(before[change["campaign"]] == pytest.approx(change["from"]) for change in shift.changes)
    assert "per extra dollar" in shift.rationale and "80% sure" in shift.rationale
    assert shift.expected_low <= shift.expected_mean <= shift.expected_high and 0 <= shift.p_loss < 0.5
    assert {c["channel"] for c in shift.evidence["mix"]["channels"]} == {
        "search",
        "social",
        "video",
        "display",
        "shopping",
        "email",
    }


def test_with_campaign_attribution_no_channel_shift_is_proposed(mix_world):
    objective_services.objective_set(metric="closed_revenue", reason="per campaign")
    run = run_engine(END - dt.timedelta(days=1))
    assert not Proposal.objects.filter(run=run, kind="channel_shift").exists()


def test_the_proposal_page_shows_the_channels_behind_the_move(mix_world, client):
    objective_services.objective_set(metric="closed_revenue", attribution="mix", reason="totals only")
    run = run_engine(END - dt.timedelta(days=1))
    shift = Proposal.objects.get(run=run, kind="channel_shift")
    client.force_login(marketer())
    page = client.get(reverse("decisions:proposal", args=[shift.pk])).content.decode()
    assert "Channel mix behind this move" in page and 'id="mix-evidence"' in page
    assert "Channel mix: move $" in page  # the headline
