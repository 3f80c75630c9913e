"""Objective and guardrail writes: each one versioned and audited, in one transaction."""

import pytest
from django.core.exceptions import ValidationError

from decisions.audit import verify_chain
from decisions.models import AuditEvent
from objectives import services
from objectives.models import Guardrail, GuardrailVersion, ImmutableRowError, Objective
from tests.factories import GuardrailFactory, ObjectiveFactory, guardrail_admin

pytestmark = pytest.mark.django_db


def create(**overrides) -> Guardrail:
    values = {"name": "Display moves", "kind": "max_budget_change_pct", "params": {"pct": 20}}
    values.update(overrides)
    return services.guardrail_create(**values)


def test_it_creates_a_guardrail_with_its_first_version_and_an_audit_event():
    admin = guardrail_admin(first_name="Ada", last_name="Admin")
    guardrail = create(scope={"channel": "display"}, severity="warn", actor=admin, reason="new display policy")

    version = GuardrailVersion.objects.get(guardrail=guardrail)
    assert (version.version, version.is_active, version.scope, version.severity) == (
        1,
        True,
        {"channel": "display"},
        "warn",
    )
    assert version.changed_by == admin
    assert version.changed_by_label == f"Ada Admin ({admin.username})"
    assert version.reason == "new display policy"
    event = AuditEvent.objects.get(action="guardrail.created")
    assert event.guardrail_id == guardrail.pk
    assert event.actor_id == admin.pk
    assert event.machine_payload == {}
    assert event.human_payload["params"] == {"pct": 20}
    assert event.reason == "new display policy"


def test_it_refuses_an_invalid_guardrail_and_writes_nothing():
    with pytest.raises(ValidationError) as caught:
        create(kind="cooldown", params={"days": 0}, scope={"channel": "search", "tag": "x"}, severity="stop")
    assert set(caught.value.message_dict) == {"params", "scope", "severity"}
    assert caught.value.message_dict["params"] == ["days: must be a whole number of at least 1"]
    assert not Guardrail.objects.exists()
    assert not AuditEvent.objects.exists()


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValidationError) as caught:
        create(kind="max_budget")
    assert caught.value.message_dict["kind"][0].startswith('unknown kind "max_budget"')


def test_an_update_writes_the_next_version_with_who_and_why():
    guardrail = create()
    admin = guardrail_admin()
    updated = services.guardrail_update(guardrail=guardrail, params={"pct": 30}, actor=admin, reason="Q4 push")

    assert updated.version == 2
    assert Guardrail.objects.get(pk=guardrail.pk).params == {"pct": 30}
    latest = GuardrailVersion.objects.get(guardrail=guardrail, version=2)
    assert (latest.params, latest.changed_by, latest.reason) == ({"pct": 30}, admin, "Q4 push")
    event = AuditEvent.objects.get(action="guardrail.updated")
    assert event.machine_payload["params"] == {"pct": 20}
    assert event.machine_payload["version"] == 1
    assert event.human_payload["params"] == {"pct": 30}
    assert event.human_payload["version"] == 2


def test_an_update_that_changes_nothing_writes_no_version():
    guardrail = create()
    services.guardrail_update(guardrail=guardrail, params={"pct": 20.0}, severity="block")
    assert GuardrailVersion.objects.filter(guardrail=guardrail).count() == 1
    assert not AuditEvent.objects.filter(action="guardrail.updated").exists()


def test_an_update_is_validated_against_the_whole_guardrail():
    guardrail = create()
    with pytest.raises(ValidationError):
        services.guardrail_update(guardrail=guardrail, kind="budget_bounds")  # pct is not a bounds param
    assert Guardrail.objects.get(pk=guardrail.pk).kind == "max_budget_change_pct"


def test_an_update_refuses_fields_that_are_not_editable():
    with pytest.raises(TypeError, match="version"):
        services.guardrail_update(guardrail=create(), version=9)


def test_it_deactivates_without_deleting_and_only_once():
    guardrail = create()
    services.guardrail_deactivate(guardrail=guardrail, reason="retired")
    services.guardrail_deactivate(guardrail=guardrail, reason="again")

    guardrail.refresh_from_db()
    assert (guardrail.is_active, guardrail.version) == (False, 2)
    assert list(GuardrailVersion.objects.filter(guardrail=guardrail).values_list("version", "is_active")) == [
        (2, False),
        (1, True),
    ]
    assert AuditEvent.objects.filter(action="guardrail.deactivated").count() == 1


def test_an_update_can_switch_a_guardrail_back_on():
    guardrail = services.guardrail_deactivate(guardrail=create())
    services.guardrail_update(guardrail=guardrail, is_active=True)
    guardrail.refresh_from_db()
    assert (guardrail.is_active, guardrail.version) == (True, 3)


def test_it_versions_a_guardrail_that_was_created_without_history():
    guardrail = GuardrailFactory(version=1)
    services.guardrail_update(guardrail=guardrail, severity="warn")
    assert GuardrailVersion.objects.get(guardrail=guardrail).version == 2


def test_versions_are_append_only():
    version = GuardrailVersion.objects.get(guardrail=create())
    with pytest.raises(ImmutableRowError):
        version.save()
    with pytest.raises(ImmutableRowError):
        version.delete()


def test_objective_set_makes_the_new_objective_the_only_active_one():
    old = ObjectiveFactory(metric="clicks")
    admin = guardrail_admin()
    new = services.objective_set(metric="closed_revenue", weights={"pipeline_value": 0.2}, actor=admin, reason="CFO")

    old.refresh_from_db()
    assert not old.is_active
    assert list(Objective.objects.filter(is_active=True)) == [new]
    assert new.created_by == admin
    event = AuditEvent.objects.get(action="objective.changed")
    assert event.machine_payload == {"metric": "clicks", "weights": {}, "horizon_days": 7}
    assert event.human_payload == {"metric": "closed_revenue", "weights": {"pipeline_value": 0.2}, "horizon_days": 7}
    assert event.reason == "CFO"


def test_objective_set_reuses_an_identical_active_objective():
    first = services.objective_set(metric="pipeline_value")
    again = services.objective_set(metric="pipeline_value", weights={}, horizon_days=7)
    assert again.pk == first.pk
    assert Objective.objects.count() == 1
    assert AuditEvent.objects.filter(action="objective.changed").count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"metric": "roas"}, "metric"),
        ({"metric": "leads", "weights": {"likes": 1}}, "weights"),
        ({"metric": "leads", "weights": {"clicks": -1}}, "weights"),
        ({"metric": "leads", "horizon_days": 0}, "horizon_days"),
    ],
)
def test_objective_set_refuses_invalid_values(values, field):
    with pytest.raises(ValidationError) as caught:
        services.objective_set(**values)
    assert field in caught.value.message_dict
    assert not Objective.objects.exists()


def test_objective_clear_leaves_none_active_and_says_so_in_the_log():
    services.objective_set(metric="leads")
    services.objective_clear(reason="pause optimisation")
    services.objective_clear(reason="twice")
    assert not Objective.objects.filter(is_active=True).exists()
    event = AuditEvent.objects.filter(action="objective.changed").last()
    assert (event.machine_payload["metric"], event.human_payload) == ("leads", {})
    assert AuditEvent.objects.filter(action="objective.changed").count() == 2


def test_every_change_keeps_the_audit_chain_intact():
    guardrail = create()
    services.guardrail_update(guardrail=guardrail, params={"pct": 10})
    services.guardrail_deactivate(guardrail=guardrail)
    services.objective_set(metric="pipeline_value")
    assert AuditEvent.objects.count() == 4
    assert verify_chain() is None
