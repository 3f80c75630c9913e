"""Pacing proposals from a run: a monthly budget pacing outside the band gets budget changes that land it."""

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Campaign, DailyMetric, GenerationRun, Proposal
from objectives import services as objective_services
from objectives.models import Guardrail

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 20)
TODAY = END + dt.timedelta(days=1)


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    seeded = demo_seed(n_campaigns=12, days=100, seed=3, end_date=END)
    # Only the monthly budget under test: the demo's own would correct other scopes too.
    Guardrail.objects.filter(kind="monthly_budget").update(is_active=False)
    return seeded.world


def run_engine() -> GenerationRun:
    started = generating.generation_start(force=True)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    assert started.run.status == GenerationRun.Status.SUCCEEDED, started.run.errors
    return started.run


def monthly_budget_for(campaign: Campaign, amount: float) -> None:
    objective_services.guardrail_create(
        name=f"Month of {campaign.name}",
        kind="monthly_budget",
        scope={"campaign": campaign.external_id},
        severity="warn",
        params={"amount": amount},
        reason="test",
    )


def month_spend(campaign: Campaign) -> float:
    days = DailyMetric.objects.filter(campaign=campaign, date__gte=TODAY.replace(day=1))
    return float(days.aggregate(total=Sum("spend"))["total"])


def pacing_proposals(run: GenerationRun) -> list[Proposal]:
    return [p for p in Proposal.objects.filter(run=run) if "pacing" in (p.evidence or {})]


def test_an_overspending_campaign_gets_a_cut_that_lands_its_month(world):
    Guardrail.objects.filter(kind="max_budget_change_pct").update(is_active=False)
    campaign = Campaign.objects.order_by("-daily_budget").first()
    monthly_budget_for(campaign, round(month_spend(campaign) * 1.05))  # 20 of 30 days spent: heading for ~140%
    [proposal] = pacing_proposals(run_engine())
    assert proposal.kind == "budget_change"
    [change] = proposal.changes
    assert change["campaign"] == campaign.external_id
    assert change["to"] < change["from"]
    pacing = proposal.evidence["pacing"]
    assert pacing["days_left"] == 10
    assert pacing["projected"] > pacing["amount"] * 1.1
    assert pacing["projected_after"] == pytest.approx(pacing["amount"], rel=0.01)
    assert "Pacing over its monthly budget" in proposal.rationale
    assert "brings the projected month-end spend to" in proposal.rationale


def test_a_campaign_on_course_gets_no_pacing_proposal(world):
    campaign = Campaign.objects.order_by("-daily_budget").first()
    monthly_budget_for(campaign, round(month_spend(campaign) * 1.5))  # 20 of 30 days at the same pace
    assert pacing_proposals(run_engine()) == []


def test_the_cut_stops_where_a_block_level_guardrail_does(world):
    campaign = Campaign.objects.order_by("-daily_budget").first()
    monthly_budget_for(campaign, round(month_spend(campaign) * 1.05))
    [proposal] = pacing_proposals(run_engine())
    [change] = proposal.changes
    assert change["to"] == pytest.approx(change["from"] * 0.7, abs=0.01)  # the demo's 30% limit
    assert proposal.evidence["pacing"]["projected_after"] > proposal.evidence["pacing"]["amount"]
    assert not any(not v["passed"] and v["severity"] == "block" for v in proposal.guardrail_verdicts)


def test_a_run_plans_its_shifts_around_its_pacing_corrections(world):
    first = run_engine()
    shifted = [p for p in Proposal.objects.filter(run=first, kind="budget_shift")]
    assert shifted, first.counts
    cut = min((c for p in shifted for c in p.changes), key=lambda c: c["to"] - c["from"])
    campaign = Campaign.objects.get(external_id=cut["campaign"])
    monthly_budget_for(campaign, round(month_spend(campaign) * 1.05))  # heading for ~140%: pacing wants a cut
    run = run_engine()
    others = {c["campaign"] for p in Proposal.objects.filter(run=run) if "pacing" not in p.evidence for c in p.changes}
    paced = {c["campaign"] for p in pacing_proposals(run) for c in p.changes}
    assert paced == {campaign.external_id}
    assert campaign.external_id not in others
    left_alone = {c["id"] for group in run.left_alone["campaigns"] for c in group["campaigns"]}
    assert campaign.external_id in left_alone
