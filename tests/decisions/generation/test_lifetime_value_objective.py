"""Customer lifetime value as the objective, end to end: the demo's transactions give each campaign a daily
lifetime value, a run optimises it, and the policy file carries it."""

import datetime as dt
import json

import pytest

from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import DailyMetric, GenerationRun, LifetimeValueFit, Proposal
from objectives import policy
from objectives import selectors as objective_selectors
from objectives import services as objective_services

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)
CLV = "customer_lifetime_value"


@pytest.fixture
def world():
    return demo_seed(n_campaigns=12, days=120, seed=3, end_date=END).world


def test_the_demo_gives_campaigns_a_daily_lifetime_value(world):
    fit = LifetimeValueFit.objects.get()
    assert fit.error == "" and fit.as_of <= END and fit.acquired == fit.customers > 100
    valued = DailyMetric.objects.filter(customer_lifetime_value__gt=0)
    assert valued.values("campaign").distinct().count() >= 10


def test_a_run_for_lifetime_value_fits_curves_to_it_and_proposes(world):
    objective_services.objective_set(metric=CLV, reason="customers who stay")
    run = GenerationRun.objects.filter(metric=CLV).first() or generating.generation_start().run
    if run.status == GenerationRun.Status.RUNNING:
        generate_proposals.delay(run.pk)
        run.refresh_from_db()
    assert run.metric == CLV and run.status == GenerationRun.Status.SUCCEEDED, run.errors
    proposals = Proposal.objects.filter(run=run)
    assert proposals.exists(), run.counts
    assert {p.expected_metric for p in proposals} == {CLV}
    shifts = [p for p in proposals if p.kind == "budget_shift"]
    assert shifts and all("lifetime value per extra dollar" in p.rationale for p in shifts)


def test_the_policy_file_round_trips_the_lifetime_value_objective(world):
    objective_services.objective_set(metric=CLV, weights={"pipeline_value": 0.1}, reason="customers who stay")
    document = policy.export_policy_json()
    assert json.loads(document)["objective"]["metric"] == CLV
    parsed = policy.parse_policy(document)
    assert parsed.objective["metric"] == CLV
    objective_services.objective_set(metric="pipeline_value", reason="back")
    policy.import_policy(policy=parsed, reason="restore the file")
    assert objective_selectors.active_objective().metric == CLV
