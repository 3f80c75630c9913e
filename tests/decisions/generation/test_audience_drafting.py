"""audience_action proposals: one per audience whose action should change, with its figures and evidence; stop
sending what confidently hurts; nothing on a test without real effects; not drafted twice; superseded by a newer
analysis."""

import dataclasses

import pytest
from django.utils import timezone

from decisions import audiences
from decisions.engine import uplift, uplift_simulator
from decisions.generation import audience_drafting
from decisions.models import AudienceList, Experiment
from decisions.review import kinds
from objectives.models import Guardrail
from tests.decisions.generation.audience_world import (
    CONTROL,
    MENS,
    OLDER,
    TEST,
    WOMENS,
    YOUNGER,
    analysis,
    audience_proposals,
    make_test,
    run_engine,
)

pytestmark = pytest.mark.django_db


def publish(experiment: Experiment, segment: dict, action: str) -> AudienceList:
    """A live list, as an earlier approved proposal would have left it."""
    canonical = audiences.canonical(segment)
    return AudienceList.objects.create(
        experiment=experiment,
        segment=canonical,
        segment_key=audiences.segment_key(canonical),
        action=action,
        customer_ids=audiences.members(experiment, canonical)[0],
    )


def test_a_confident_audience_gets_a_proposal_with_the_change_the_figures_and_the_evidence():
    make_test()
    (draft,) = audience_drafting.audience_drafts(None, {})
    assert draft.kind == "audience_action"
    assert draft.changes == [
        {
            "experiment": TEST,
            "segment": {"age": {"min": 30.0, "max": None}},
            "field": "action",
            "from": CONTROL,
            "to": MENS,
        }
    ]
    # $2 a customer (80% interval $1 to $3) for the 30 customers of the audience, for one send.
    assert draft.expected == {"metric": "closed_revenue", "per": "send", "mean": 60.0, "low": 30.0, "high": 90.0}
    assert draft.p_loss == 0.004
    evidence = draft.evidence["audience"]
    assert (evidence["experiment"], evidence["size"], evidence["share"], evidence["control"]) == (
        TEST,
        30,
        0.75,
        CONTROL,
    )
    assert [u["action"] for u in evidence["uplifts"]] == [MENS, WOMENS]
    assert evidence["arm_outcomes"][MENS] == {"customers": 10, "mean": 12.0}
    assert evidence["curve"] == [[0.0, 0.0], [0.5, 1.5], [1.0, 2.0]] and evidence["qini"] == 0.2
    assert "Mens e-mail instead of no action" in draft.rationale and "$60" in draft.rationale
    kinds.get("audience_action").validate(draft.changes)


def test_an_audience_whose_gain_is_not_confident_keeps_the_control_and_gets_no_proposal():
    make_test(found=analysis(older_gain=False))
    assert audience_drafting.audience_drafts(None, {}) == []


def test_an_audience_already_getting_its_best_action_gets_no_proposal():
    experiment = make_test()
    publish(experiment, OLDER, MENS)
    assert audience_drafting.audience_drafts(None, {}) == []


def test_an_audience_whose_current_action_confidently_hurts_it_is_told_to_stop():
    experiment = make_test()
    publish(experiment, YOUNGER, MENS)  # a list sends mens to the younger audience, which it puts off
    stops = [d for d in audience_drafting.audience_drafts(None, {}) if d.changes[0]["to"] == CONTROL]
    (stop,) = stops
    assert stop.changes[0]["segment"] == audiences.canonical(YOUNGER)
    assert (stop.changes[0]["from"], stop.changes[0]["to"]) == (MENS, CONTROL)
    # What stopping brings is what the action was losing: $1.50 a customer for 10 customers.
    assert (stop.expected["mean"], stop.expected["low"], stop.expected["high"]) == (15.0, 5.0, 25.0)
    assert stop.p_loss == pytest.approx(0.01)
    assert "Stopping Mens e-mail" in stop.rationale


def test_a_run_words_the_stop_as_stop_sending():
    from decisions.views import presenters

    experiment = make_test(found=analysis(older_gain=False))
    publish(experiment, YOUNGER, MENS)
    run_engine()
    (proposal,) = audience_proposals()
    (decorated,) = presenters.decorate([proposal])
    assert decorated.headline == "Stop sending Mens e-mail to age under 30"


def test_with_the_arms_shuffled_the_engine_claims_no_uplift_and_proposes_nothing():
    simulated = uplift_simulator.make_trial(6000, seed=3, shuffle_arms=True)
    found = uplift.analyse(simulated.trial, uplift.Settings(bootstrap=100, min_leaf_customers=150))
    assert not any(a.confident or a.harmful for a in found.audiences)
    for audience in found.audiences:
        for u in audience.uplifts:
            assert u.low < 0 < u.high  # every interval straddles zero
    make_test(name="Shuffled", found=found)
    assert audience_drafting.audience_drafts(None, {}) == []


def test_the_simulated_effects_are_found_and_proposed():
    simulated = uplift_simulator.make_trial(20000, seed=4)
    found = uplift.analyse(simulated.trial, uplift.Settings(bootstrap=100))
    make_test(name="Simulated", found=found)
    drafts = audience_drafting.audience_drafts(None, {})
    assert drafts and all(d.expected["low"] > 0 for d in drafts)
    truth = uplift_simulator.true_uplift(simulated.customers)
    attributes = {a.name: a for a in simulated.trial.attributes}
    for draft in drafts:
        change = draft.changes[0]
        inside = uplift.segment_mask(change["segment"], attributes, simulated.trial.size)
        action = uplift_simulator.ACTIONS.index(change["to"])
        assert truth[inside, action].mean() > 0  # the action truly adds in the audience proposed


def test_a_run_writes_the_proposals_once_and_a_new_analysis_supersedes_them():
    experiment = make_test()
    first = run_engine()
    assert first.status == "succeeded", first.errors
    (proposal,) = audience_proposals()
    assert (proposal.expected_per, proposal.expected_mean, proposal.campaign_id) == ("send", 60.0, None)

    run_engine()  # the same analysis: the pending proposal stands, nothing is drafted again
    assert audience_proposals() == [proposal]

    Experiment.objects.filter(pk=experiment.pk).update(analysed_at=timezone.now())  # analysed again
    run_engine()
    older, newer = audience_proposals()
    older.refresh_from_db()
    assert (older.pk, older.status, newer.status) == (proposal.pk, "superseded", "pending")


def test_a_block_level_guardrail_keeps_the_engine_from_proposing_what_it_fails():
    make_test()
    Guardrail.objects.create(
        name="Never minors",
        kind="forbidden_audiences",
        severity="block",
        params={"min_attribute": "age", "min_value": 40},
    )
    run = run_engine()
    assert audience_proposals() == [] and run.counts["blocked_by_guardrails"] == 1


def test_a_warn_level_verdict_is_stored_with_the_proposal():
    make_test()
    Guardrail.objects.create(
        name="Never minors",
        kind="forbidden_audiences",
        severity="warn",
        params={"min_attribute": "age", "min_value": 40},
    )
    run_engine()
    (proposal,) = audience_proposals()
    (verdict,) = proposal.guardrail_verdicts
    assert (verdict["passed"], verdict["message"]) == (
        False,
        "This audience could hold customers under 40: its definition must say age 40 or more",
    )


@pytest.mark.parametrize(
    ("segment", "problem"),
    [
        ("age", "must be an object"),
        ({"age": {"min": 30, "top": 40}}, "takes min and max only"),
        ({"age": {"min": None, "max": None}}, "needs a min or a max"),
        ({"age": {"min": 40, "max": 30}}, "must be below max"),
        ({"age": {"min": "30"}}, "must be numbers"),
        ({"region": []}, "at least one value"),
        ({"region": "North"}, "a list of values"),
    ],
)
def test_the_kind_refuses_a_malformed_segment(segment, problem):
    change = {"experiment": TEST, "segment": segment, "field": "action", "from": CONTROL, "to": MENS}
    with pytest.raises(kinds.InvalidChange, match=problem):
        kinds.get("audience_action").validate([change])


def test_the_kind_accepts_every_segment_the_analysis_writes():
    for audience in analysis().audiences + [dataclasses.replace(analysis().audiences[0], segment={})]:
        change = {"experiment": TEST, "segment": audience.segment, "field": "action", "from": CONTROL, "to": MENS}
        assert kinds.get("audience_action").validate([change]) == [change]
    mixed = {"experiment": TEST, "segment": {"region": ["North", "East"], "age": {"min": 18, "max": 35.5}}}
    assert kinds.get("audience_action").validate([{**mixed, "field": "action", "from": CONTROL, "to": MENS}])
