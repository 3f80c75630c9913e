"""Proposal kinds and the campaign fields they move: one spec each, unknown fields refused everywhere."""

import pytest

from decisions.engine import acceptance
from decisions.models import Campaign, Proposal
from decisions.review import autoapproval, kinds
from objectives.guardrails import fields
from objectives.models import AutoApprovalPolicy

BUDGET_UP = {"campaign": "C1", "field": "daily_budget", "from": 100.0, "to": 120.0}
PAUSE = {"campaign": "C1", "field": "status", "from": "active", "to": "paused"}
AUDIENCE = {"campaign": "C1", "field": "audience", "from": "prospects", "to": "lookalikes"}
BID = {"campaign": "C1", "field": "bid_cap", "from": 1.0, "to": 1.1}


def test_the_model_choices_are_the_registered_kinds():
    assert Proposal._meta.get_field("kind").choices == kinds.choices()
    assert [name for name, _ in kinds.choices()] == [
        "budget_shift",
        "budget_change",
        "pause",
        "resume",
        "reclaim",
        "channel_shift",
        "spend_test",
        "retire_workflow",
        "audience_action",
    ]


def test_each_kind_moves_one_registered_field():
    assert {spec.name: spec.field for spec in kinds.REGISTRY.values()} == {
        "budget_shift": "daily_budget",
        "budget_change": "daily_budget",
        "pause": "status",
        "resume": "status",
        "reclaim": "daily_budget",
        "channel_shift": "daily_budget",
        "spend_test": "daily_budget",
        "retire_workflow": "status",
        "audience_action": "action",
    }
    assert {spec.name: spec.target for spec in kinds.REGISTRY.values() if spec.target != "campaign"} == {
        "retire_workflow": "workflow",
        "audience_action": "audience",
    }
    assert kinds.lever_of("pause") == "status"


def test_an_audience_action_names_its_test_and_segment():
    send = {"experiment": "Spring", "segment": {"age": {"min": 23, "max": None}}, "field": "action"}
    send |= {"from": "no_email", "to": "mens"}
    assert fields.target_of(send) == "audience"
    assert kinds.move_pct(send) == 100.0
    assert kinds.get("audience_action").validate([send]) == [send]
    with pytest.raises(kinds.InvalidChange, match="must name an audience"):
        kinds.get("audience_action").validate([PAUSE])
    with pytest.raises(kinds.InvalidChange):
        kinds.get("audience_action").validate([{**send, "to": ""}])


def test_the_status_choices_are_the_campaign_model_s():
    assert fields.get("status").choices == tuple(Campaign.Status.values)


def test_a_workflow_s_status_is_its_own_field():
    retire = {"workflow_id": "wf-1", "platform": "hubspot", "field": "status", "from": "enabled", "to": "retired"}
    assert fields.of(retire).choices == ("enabled", "retired")
    assert kinds.move_pct(retire) == -100.0
    with pytest.raises(kinds.InvalidChange):
        kinds.get("retire_workflow").validate([{**retire, "to": "paused"}])
    with pytest.raises(kinds.InvalidChange, match="must name a workflow"):
        kinds.get("retire_workflow").validate([PAUSE])
    with pytest.raises(kinds.InvalidChange):
        kinds.get("pause").validate([{**retire, "to": "paused"}])


def test_an_unknown_kind_is_refused():
    with pytest.raises(kinds.UnknownKind, match="unknown proposal kind 'bid_change'"):
        kinds.get("bid_change")


@pytest.mark.parametrize(
    ("change", "pct"),
    [(BUDGET_UP, 20.0), (PAUSE, -100.0), ({**PAUSE, "from": "paused", "to": "active"}, 100.0), (AUDIENCE, 100.0)],
)
def test_every_field_measures_its_own_moves(change, pct):
    assert kinds.move_pct(change) == pct
    assert acceptance.move_pct(change) == pct


def test_an_unknown_field_is_never_read_as_no_move():
    with pytest.raises(fields.UnknownField, match="unknown field 'bid_cap'"):
        kinds.move_pct(BID)
    with pytest.raises(fields.UnknownField):
        acceptance.change_pct([BID])
    with pytest.raises(fields.UnknownField):
        kinds.get("budget_change").validate([BID])


def test_auto_approval_refuses_a_change_it_cannot_measure():
    policy = AutoApprovalPolicy(is_enabled=True, max_change_pct=25, max_p_loss=0.2, kinds=["budget_change"])
    reason = autoapproval.why_not(
        policy=policy, kind="budget_change", channels={""}, changes=[BID], p_loss=0.0, verdicts=[]
    )
    assert reason.startswith("cannot measure the move: unknown field 'bid_cap'")


def test_a_kind_refuses_changes_to_another_field_and_values_its_field_cannot_take():
    shift = kinds.get("budget_shift")
    assert shift.validate([BUDGET_UP]) == [BUDGET_UP]
    with pytest.raises(kinds.InvalidChange, match="moves daily_budget, not status"):
        shift.validate([PAUSE])
    with pytest.raises(kinds.InvalidChange, match="Daily budget must be zero or more"):
        shift.validate([{**BUDGET_UP, "to": -5}])
    with pytest.raises(kinds.InvalidChange, match="Status must be one of active, paused"):
        kinds.get("pause").validate([{**PAUSE, "to": "deleted"}])


def test_targets_are_cleaned_by_their_field():
    assert kinds.clean_target(BUDGET_UP, "120.456") == 120.46
    assert kinds.clean_target(AUDIENCE, "  returning ") == "returning"
    with pytest.raises(kinds.InvalidChange, match="Audience must be a non-empty text"):
        kinds.clean_target(AUDIENCE, "  ")


def test_the_inverse_swaps_from_and_to():
    assert kinds.inverse([BUDGET_UP, PAUSE]) == [
        {**BUDGET_UP, "from": 120.0, "to": 100.0},
        {**PAUSE, "from": "paused", "to": "active"},
    ]


@pytest.mark.parametrize(
    ("kind", "lines", "words"),
    [
        ("pause", [{"name": "Brand search", "delta": None}], "Pause Brand search"),
        ("resume", [{"name": "Brand search", "delta": None}], "Resume Brand search"),
        ("budget_change", [{"name": "Video", "delta": -50.0}], "Cut Video’s daily budget by $50.00"),
        (
            "budget_shift",
            [{"name": "Video", "delta": -150.0}, {"name": "Search", "delta": 150.0}],
            "Move $150/day from Video to Search",
        ),
    ],
)
def test_each_kind_words_its_own_headline(kind, lines, words):
    assert kinds.get(kind).headline(lines) == words


def test_registering_a_second_kind_under_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(kinds.KindSpec("pause", "Halt", fields.STATUS, kinds.PAUSE.headline))
