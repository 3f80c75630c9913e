"""A run measures each campaign's utilization from its window, never raises a demand-limited campaign past what
it can spend, and reclaims what it does not spend in a proposal of its own kind."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import GenerationRun, Proposal
from decisions.review import kinds
from tests.factories import CampaignFactory, DailyMetricFactory

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


def run_engine() -> GenerationRun:
    started = generating.generation_start()
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    assert started.run.status == GenerationRun.Status.SUCCEEDED, started.run.errors
    return started.run


def test_the_demo_gets_a_reclaim_and_no_raise_for_a_demand_limited_campaign():
    world = demo_seed(n_campaigns=40, days=120, seed=1, end_date=END).world
    limited = {c.external_id for c in world.campaigns if c.spend_ceiling is not None}

    run = run_engine()

    proposals = list(Proposal.objects.filter(run=run))
    reclaims = [p for p in proposals if p.kind == kinds.RECLAIM.name]
    assert reclaims, run.counts
    for reclaim in reclaims:
        donors = [c for c in reclaim.changes if c["to"] < c["from"]]
        assert donors and all(c["campaign"] in limited for c in donors)
        assert sum(c["to"] - c["from"] for c in reclaim.changes) == pytest.approx(0, abs=0.01)
        for change in donors:
            figures = reclaim.evidence["utilization"][change["campaign"]]
            assert figures["limited_by"] == "demand"
            assert figures["sentence"] in reclaim.rationale
            assert change["to"] >= figures["ceiling_high"] - 0.01  # only budget it does not spend
        assert "demand-limited, a raise would not be spent" in reclaim.rationale
        assert reclaim.expected_low <= reclaim.expected_mean <= reclaim.expected_high
        assert not [v for v in reclaim.guardrail_verdicts if v["severity"] == "block" and not v["passed"]]
    for proposal in proposals:
        for change in proposal.changes:
            if change["campaign"] in limited and change["field"] == "daily_budget":
                assert change["to"] <= change["from"], proposal.rationale


def test_a_day_without_its_budget_is_measured_against_the_campaign_budget_today():
    campaign = CampaignFactory(daily_budget=Decimal("500.00"))
    start = END - dt.timedelta(days=59)
    rng = np.random.default_rng(4)
    for day in range(60):
        DailyMetricFactory(
            campaign=campaign,
            date=start + dt.timedelta(days=day),
            spend=Decimal(f"{300 * rng.lognormal(0, 0.05):.2f}"),
            daily_budget=None if day % 2 else Decimal("500.00"),
            lost_is_budget=0.0,
        )
    run = generating.generation_start().run

    window = generating.load_window(run, [campaign.pk])
    figures = window.utilization(0)

    assert np.isfinite(window.budget[0]).all()
    assert (window.budget[0] == 500.0).all()
    assert figures.limited_by == "demand"
    assert figures.ceiling == pytest.approx(300.0, rel=0.05)
    assert figures.days == 60


def test_a_chunk_result_carries_utilization_that_survives_json():
    campaign = CampaignFactory(daily_budget=Decimal("100.00"))
    for day in range(30):
        DailyMetricFactory(
            campaign=campaign,
            date=END - dt.timedelta(days=day),
            spend=Decimal("99.50"),
            daily_budget=Decimal("100.00"),
            lost_is_budget=0.2,
        )
    run = generating.generation_start().run

    entry = generating.fit_chunk(run_id=run.pk, campaign_ids=[campaign.pk])["campaigns"][0]
    back = generating._utilization_from_json(entry["utilization"])

    assert back.limited_by == "budget" and back.ceiling is None
    assert back.lost_is_budget == pytest.approx(0.2)
    assert "budget-limited, a raise would be spent" in back.sentence()
