"""Generation proposes spend tests: per campaign (attribution "campaign") and per channel ("mix"), under the
guardrails, never twice for a campaign, and the allocator leaves a campaign under test alone."""

from __future__ import annotations

import datetime as dt

import pytest

from decisions.delivery import outbox as applying
from decisions.demo.mix import seed_mix_world
from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Application, GenerationRun, Proposal
from decisions.review import transitions as reviewing
from objectives import services as objective_services
from objectives.models import Guardrail
from tests.factories import marketer

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


def run_engine(**kwargs) -> GenerationRun:
    started = generating.generation_start(**kwargs)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    return started.run


@pytest.fixture
def world():
    return demo_seed(end_date=END, steady=4).world


def spend_tests_of(run: GenerationRun) -> list[Proposal]:
    return list(Proposal.objects.filter(run=run, kind="spend_test"))


def test_a_run_proposes_a_spend_test_for_an_uncertain_campaign_it_leaves_where_it_is(world):
    run = run_engine()

    found = spend_tests_of(run)
    assert run.status == GenerationRun.Status.SUCCEEDED and found, run.counts
    assert len(found) <= 3
    for proposal in found:
        (change,) = proposal.changes
        assert set(change) == {"campaign", "field", "from", "to"}
        assert change["to"] == pytest.approx(change["from"] * 1.25, abs=0.01)
        plan = proposal.evidence["spend_test"]
        assert plan["days"] == 14 and plan["raise_pct"] == 25.0
        assert plan["value_of_knowing"] > max(plan["cost"]["mean"], 0)
        assert (
            plan["interval_expected"][1] - plan["interval_expected"][0]
            < plan["interval_now"][1] - plan["interval_now"][0]
        )
        assert proposal.expected_low <= proposal.expected_mean <= proposal.expected_high
        assert "too uncertain to act on" in proposal.rationale and "knowing is worth" in proposal.rationale
        assert not [v for v in proposal.guardrail_verdicts if v["severity"] == "block" and not v["passed"]]
        others = Proposal.objects.filter(run=run).exclude(pk=proposal.pk)
        assert not [p for p in others if any(c.get("campaign") == change["campaign"] for c in p.changes)]


def test_a_block_level_cap_below_the_raise_means_no_test(world):
    cap = Guardrail.objects.get(kind="max_budget_change_pct")
    objective_services.guardrail_update(guardrail=cap, params={"pct": 20}, reason="smaller steps")

    assert spend_tests_of(run_engine()) == []


def test_a_newer_test_of_a_campaign_supersedes_the_pending_one_so_the_queue_holds_one_at_most(world):
    first = spend_tests_of(run_engine())
    assert first

    again = run_engine(force=True)

    pending = Proposal.objects.filter(kind="spend_test", status=Proposal.Status.PENDING)
    tested = [p.changes[0]["campaign"] for p in pending]
    assert len(tested) == len(set(tested))
    retested = {p.changes[0]["campaign"] for p in spend_tests_of(again)}
    for older in first:
        older.refresh_from_db()
        expected = Proposal.Status.SUPERSEDED if older.changes[0]["campaign"] in retested else Proposal.Status.PENDING
        assert older.status == expected


def test_a_campaign_in_a_running_test_is_not_tested_again(world):
    proposal = spend_tests_of(run_engine())[0]
    reviewing.proposal_approve(proposal=proposal, actor=marketer())

    again = run_engine(force=True)

    assert proposal.changes[0]["campaign"] not in {p.changes[0]["campaign"] for p in spend_tests_of(again)}


def test_the_allocator_leaves_a_campaign_under_test_alone(world):
    proposal = spend_tests_of(run_engine())[0]
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    applying.application_apply(application_id=Application.objects.get(proposal=proposal).pk)
    tested = proposal.changes[0]["campaign"]

    again = run_engine(force=True)

    assert not [p for p in Proposal.objects.filter(run=again) if any(c.get("campaign") == tested for c in p.changes)]
    reasons = {group["reason"]: group for group in again.left_alone["campaigns"]}
    assert [c["id"] for c in reasons[generating.IN_SPEND_TEST]["campaigns"]] == [tested]


def test_with_the_channel_mix_a_run_tests_a_channel_and_the_shift_leaves_it_where_it_is():
    seed_mix_world(end=END, weeks=104)
    objective_services.objective_set(metric="closed_revenue", attribution="mix", reason="totals only")

    run = run_engine(window_end=END - dt.timedelta(days=1))

    found = spend_tests_of(run)
    assert run.status == GenerationRun.Status.SUCCEEDED and found, run.counts
    shift = Proposal.objects.get(run=run, kind="channel_shift")
    shifted = {c["campaign"] for c in shift.changes}
    for proposal in found:
        plan = proposal.evidence["spend_test"]
        assert plan["mode"] == "mix" and plan["channel"]
        assert {c["campaign"] for c in proposal.changes}.isdisjoint(shifted)
        assert all(c["to"] == pytest.approx(c["from"] * 1.25, abs=0.01) for c in proposal.changes)
        assert proposal.rationale.startswith(f"The {plan['channel']} channel: the return on its next dollar")


def test_with_campaign_attribution_no_channel_test_is_proposed():
    seed_mix_world(end=END, weeks=104)
    objective_services.objective_set(metric="closed_revenue", reason="per campaign")

    run = run_engine(window_end=END - dt.timedelta(days=1))

    assert not [p for p in spend_tests_of(run) if p.evidence["spend_test"]["mode"] == "mix"]
