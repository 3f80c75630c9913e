"""A new proposal kind needs one spec and one drafter: registered here at test time, it flows through
generation, the queue, the edit form, the guardrails, auto-approval, apply and rollback untouched."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from decisions.engine import proposing
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Campaign, GenerationRun, Proposal
from decisions.review import autoapproval, kinds
from decisions.review import transitions as reviewing
from objectives.guardrails import fields
from objectives.models import AutoApprovalPolicy
from objectives.services import guardrail_create
from tests.factories import CampaignFactory, DailyMetricFactory, guardrail_admin, marketer

pytestmark = pytest.mark.django_db

TARGET = "lookalikes"


def retarget_headline(lines: list[dict]) -> str:
    return f"Retarget {lines[0]['name']} to {lines[0]['to']}"


def draft_retargets(ctx, anomalies) -> list[proposing.Draft]:
    """The toy kind's engine part: move the first active campaign's audience to TARGET."""
    campaign = next(c for c in ctx.campaigns if c.status == Campaign.Status.ACTIVE)
    change = {"campaign": campaign.external_id, "field": fields.AUDIENCE, "from": campaign.audience, "to": TARGET}
    expected = {"metric": ctx.run.metric, "per": "week", "mean": 120.0, "low": 40.0, "high": 200.0}
    return [
        proposing.Draft(
            kind="audience_move",
            campaign=campaign.external_id,
            changes=[change],
            rationale="Lookalikes convert at twice the rate.",
            expected=expected,
            p_loss=0.05,
        )
    ]


@pytest.fixture
def toy_kind(monkeypatch):
    spec = kinds.register(kinds.KindSpec("audience_move", "Audience move", fields.AUDIENCE, retarget_headline))
    monkeypatch.setattr(generating, "DRAFTERS", [*generating.DRAFTERS, draft_retargets])
    yield spec
    kinds.unregister(spec.name)


@pytest.fixture
def campaigns():
    found = [CampaignFactory(name=f"Prospecting {i}", audience="prospects") for i in range(3)]
    start = dt.date(2026, 10, 1)
    for campaign in found:
        for day in range(30):
            DailyMetricFactory(campaign=campaign, date=start + dt.timedelta(days=day), spend=Decimal("100"))
    return found


def generate() -> Proposal:
    run = generating.generation_start().run
    generate_proposals.delay(run.pk)
    run.refresh_from_db()
    assert run.status == GenerationRun.Status.SUCCEEDED, run.errors
    return Proposal.objects.get(run=run, kind="audience_move")


def test_a_toy_kind_flows_from_generation_to_rollback(toy_kind, campaigns, client, django_capture_on_commit_callbacks):
    proposal = generate()
    first = campaigns[0]
    assert proposal.lever == fields.AUDIENCE and proposal.campaign == first
    assert proposal.get_kind_display() == "Audience move"

    reviewer = marketer()
    client.force_login(reviewer)
    queue = client.get(reverse("decisions:queue")).content.decode()
    assert f"Retarget {first.name} to {TARGET}" in queue

    form = client.get(reverse("decisions:proposal-edit", args=[proposal.pk])).content.decode()
    assert 'name="change_0"' in form and TARGET in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("decisions:proposal-edit", args=[proposal.pk]), {"change_0": "returning_visitors", "note": "closer"}
        )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.audience == "returning_visitors"  # applied through the ledger, eagerly
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    assert proposal.review.final_changes[0]["to"] == "returning_visitors"

    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_rollback(proposal=proposal, actor=reviewer, reason="audience too small")
    first.refresh_from_db()
    assert first.audience == "prospects"


def test_auto_approval_measures_a_toy_move_as_a_whole_move(toy_kind, campaigns):
    proposal = generate()
    policy = AutoApprovalPolicy(is_enabled=True, max_change_pct=25, max_p_loss=0.2, kinds=["audience_move"])
    reason = autoapproval.why_not(
        policy=policy, kind=proposal.kind, channels={"search"}, changes=proposal.changes, p_loss=0.0, verdicts=[]
    )
    assert reason == "moves 100.0% (limit 25%)"


def test_a_move_into_a_forbidden_audience_is_judged_by_the_guardrail(toy_kind, campaigns):
    guardrail_create(
        name="No lookalikes",
        kind="forbidden_audiences",
        params={"segments": [TARGET]},
        severity="warn",
        actor=guardrail_admin(),
        reason="brand safety",
    )
    proposal = generate()
    failing = [v for v in proposal.guardrail_verdicts if not v["passed"]]
    assert [v["name"] for v in failing] == ["No lookalikes"]
    assert TARGET in failing[0]["message"]
