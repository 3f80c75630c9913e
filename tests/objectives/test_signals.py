"""policy_changed: announced once a policy change commits, once per change; a policy import is one change."""

import pytest
from django.db import transaction

from objectives import services
from objectives.policy import import_policy, validate_policy
from objectives.signals import policy_changed
from tests.factories import guardrail_admin

pytestmark = pytest.mark.django_db

MAX_MOVE = {"name": "Max move", "kind": "max_budget_change_pct", "params": {"pct": 30}}


@pytest.fixture
def heard():
    """What listeners were told, one (actor, objective_changed) pair per announcement."""
    announcements = []

    def listen(sender, *, actor, objective_changed, **kwargs):
        announcements.append((actor, objective_changed))

    policy_changed.connect(listen)
    yield announcements
    policy_changed.disconnect(listen)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block, then its on-commit callbacks, as the end of a real transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_change_is_announced_only_once_it_commits(heard, django_capture_on_commit_callbacks):
    admin = guardrail_admin()
    with django_capture_on_commit_callbacks() as callbacks:
        services.guardrail_create(**MAX_MOVE, actor=admin, reason="start")
    assert heard == []
    for callback in callbacks:
        callback()
    assert heard == [(admin, False)]


def test_a_change_that_rolls_back_is_never_announced(heard, committed):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        services.guardrail_create(**MAX_MOVE, reason="start")
        raise RuntimeError("the rest of the request failed")
    assert heard == []


def test_every_guardrail_change_is_announced_and_a_no_op_is_not(heard, committed):
    with committed():
        guardrail = services.guardrail_create(**MAX_MOVE, reason="start")
    with committed():
        guardrail = services.guardrail_update(guardrail=guardrail, params={"pct": 10}, reason="tighter")
    with committed():
        services.guardrail_update(guardrail=guardrail, params={"pct": 10}, reason="same again")
    with committed():
        services.guardrail_deactivate(guardrail=guardrail, reason="off")
    assert heard == [(None, False)] * 3


def test_an_objective_change_says_so_and_setting_the_same_one_says_nothing(heard, committed):
    with committed():
        services.objective_set(metric="pipeline_value", reason="first")
    with committed():
        services.objective_set(metric="pipeline_value", reason="same")
    with committed():
        services.objective_clear(reason="none for now")
    with committed():
        services.objective_clear(reason="still none")
    assert heard == [(None, True), (None, True)]


def test_an_auto_approval_change_is_announced(heard, committed):
    admin = guardrail_admin()
    with committed():
        services.auto_approval_update(actor=admin, reason="try it", is_enabled=True)
    with committed():
        services.auto_approval_update(actor=admin, reason="unchanged", is_enabled=True)
    assert heard == [(admin, False)]


def test_a_policy_import_is_announced_once_whatever_it_changes(heard, committed):
    services.guardrail_create(**MAX_MOVE, reason="start")
    document = validate_policy(
        {
            "objective": {"metric": "closed_revenue"},
            "guardrails": [
                {"name": "Cooldown", "kind": "cooldown", "params": {"days": 3}},
                {"name": "Evidence", "kind": "min_evidence", "params": {"days": 28, "conversions": 5}},
            ],
        }
    )
    admin = guardrail_admin()
    with committed():
        import_policy(policy=document, actor=admin, reason="policy review")
    assert heard == [(admin, True)]


def test_an_import_that_leaves_the_objective_says_so(heard, committed):
    services.objective_set(metric="closed_revenue", reason="start")
    document = validate_policy({"objective": {"metric": "closed_revenue"}, "guardrails": [MAX_MOVE]})
    with committed():
        import_policy(policy=document, reason="add a guardrail")
    with committed():
        import_policy(policy=document, reason="again: nothing to change")
    assert heard == [(None, False)]


def test_an_import_that_fails_midway_is_not_announced(heard, committed, monkeypatch):
    document = validate_policy({"objective": {"metric": "closed_revenue"}, "guardrails": [MAX_MOVE]})

    def refuse(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "objective_set", refuse)
    with committed(), pytest.raises(RuntimeError):
        import_policy(policy=document, reason="r")
    assert heard == []
