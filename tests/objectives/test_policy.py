"""Policy as code: validating, exporting, importing and fingerprinting the objective and guardrails."""

import copy
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from decisions.models import AuditEvent
from objectives import services
from objectives.guardrails import Rule
from objectives.models import Guardrail, GuardrailVersion, Objective
from objectives.policy import (
    Policy,
    PolicyError,
    export_policy,
    import_policy,
    parse_policy,
    plan_import,
    policy_version,
    validate_policy,
)
from objectives.selectors import active_rules
from tests.factories import guardrail_admin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.json"


def document(*guardrails, objective=None) -> dict:
    return {
        "objective": objective if objective is not None else {"metric": "pipeline_value"},
        "guardrails": list(guardrails),
    }


def pct_rule(name="Display moves", pct=20, **overrides) -> dict:
    rule = {
        "name": name,
        "kind": "max_budget_change_pct",
        "scope": {"channel": "display"},
        "severity": "block",
        "params": {"pct": pct},
    }
    rule.update(overrides)
    return rule


def errors_of(data) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        validate_policy(data)
    return caught.value.errors


def do_import(data, **kwargs):
    return import_policy(policy=validate_policy(data), reason=kwargs.pop("reason", "test"), **kwargs)


def state() -> tuple:
    """Everything an import could touch."""
    return (
        export_policy(),
        GuardrailVersion.objects.count(),
        AuditEvent.objects.count(),
        Objective.objects.count(),
        sorted(Guardrail.objects.values_list("name", "is_active", "version")),
    )


# --- validation (pure: no database) --------------------------------------------------


def test_it_accepts_the_issue_example():
    policy = validate_policy(document(pct_rule()))
    assert policy.objective == {"metric": "pipeline_value", "weights": {}, "horizon_days": 7}
    assert policy.guardrails == [pct_rule()]


def test_scope_and_severity_default_to_all_and_block():
    policy = validate_policy(document({"name": "n", "kind": "cooldown", "params": {"days": 3}}))
    assert (policy.guardrails[0]["scope"], policy.guardrails[0]["severity"]) == ({}, "block")


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("max_budget_change_pct", {"pct": 120}, "guardrails[0].params.pct: must be a number between 0 and 100"),
        ("max_budget_change_pct", {"pct": "20%"}, "guardrails[0].params.pct: must be a number between 0 and 100"),
        ("max_budget_change_pct", {}, "guardrails[0].params.pct: required"),
        ("budget_bounds", {"min": 100, "max": 50}, "guardrails[0].params.max: must be at least min (100)"),
        ("budget_bounds", {"min": -5, "max": 50}, "guardrails[0].params.min: must be a number of at least 0"),
        ("total_budget_cap", {"amount": "lots"}, "guardrails[0].params.amount: must be a number of at least 0"),
        ("total_budget_cap", {"cap": 10}, "guardrails[0].params.cap: unknown key; total_budget_cap takes amount"),
        ("protected_campaigns", {"tag": ""}, "guardrails[0].params.tag: must be a non-empty text"),
        ("forbidden_audiences", {"segments": []}, "guardrails[0].params.segments: must name at least one"),
        (
            "forbidden_audiences",
            {"segments": "minors"},
            "guardrails[0].params.segments: must be a list of non-empty texts",
        ),
        (
            "brand_voice",
            {"banned_phrases": [], "required_phrases": []},
            "guardrails[0].params.banned_phrases: give at least one banned or required phrase",
        ),
        (
            "brand_voice",
            {"required_phrases": "Acme"},
            "guardrails[0].params.required_phrases: must be a list of non-empty texts",
        ),
        ("cooldown", {"days": 0}, "guardrails[0].params.days: must be a whole number of at least 1"),
        ("cooldown", {"days": 1.5}, "guardrails[0].params.days: must be a whole number of at least 1"),
        (
            "min_evidence",
            {"days": -1, "conversions": 5},
            "guardrails[0].params.days: must be a whole number of at least 0",
        ),
        ("min_evidence", {"days": 7}, "guardrails[0].params.conversions: required"),
        ("min_evidence", [7, 5], "guardrails[0].params: must be an object"),
    ],
)
def test_it_places_every_kinds_bad_params(kind, params, expected):
    assert expected in errors_of(document({"name": "n", "kind": kind, "params": params}))


def test_it_counts_the_place_of_the_bad_guardrail():
    data = document(pct_rule("a"), pct_rule("b"), pct_rule("c", pct=250))
    assert errors_of(data) == ["guardrails[2].params.pct: must be a number between 0 and 100"]


def test_it_lists_the_known_kinds_for_an_unknown_one():
    (error,) = errors_of(document(pct_rule(kind="max_budget")))
    assert error.startswith('guardrails[0].kind: unknown kind "max_budget"; expected one of max_budget_change_pct, ')
    assert error.endswith("cooldown, min_evidence, protected_workflows, contact_cap")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"country": "NL"}, "guardrails[0].scope.country: unknown key; expected one of channel, tag, campaign"),
        (
            {"channel": "search", "tag": "brand"},
            "guardrails[0].scope: must name one of channel, tag or campaign, not 2 (channel, tag)",
        ),
        ({"campaign": ""}, "guardrails[0].scope.campaign: must be a non-empty text"),
        ("display", "guardrails[0].scope: must be an object"),
    ],
)
def test_it_places_a_bad_scope(scope, expected):
    (error,) = errors_of(document(pct_rule(scope=scope)))
    assert error.startswith(expected)


def test_it_refuses_an_unknown_severity():
    assert errors_of(document(pct_rule(severity="error"))) == [
        'guardrails[0].severity: unknown severity "error"; expected block or warn'
    ]


def test_it_refuses_duplicate_names_and_says_where_the_first_is():
    errors = errors_of(document(pct_rule("Same"), pct_rule("Other"), pct_rule("Same", pct=10)))
    assert errors == ['guardrails[2].name: duplicate name "Same" (also guardrails[0])']


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], 'top level: must be a JSON object with "objective" and "guardrails", not a list'),
        ("policy", 'top level: must be a JSON object with "objective" and "guardrails", not a text'),
        ({"guardrails": []}, "objective: required"),
        ({"objective": None}, "guardrails: required"),
        ({"objective": None, "guardrails": [], "version": 2}, "version: unknown key; expected objective, guardrails"),
        ({"objective": None, "guardrails": {}}, "guardrails: must be a list of guardrail objects, not an object"),
        (
            {"objective": None, "guardrails": ["x"]},
            "guardrails[0]: must be an object with name, kind, params, not a text",
        ),
        ({"objective": "clicks", "guardrails": []}, "objective: must be an object"),
        ({"objective": {"weights": {}}, "guardrails": []}, "objective.metric: required"),
        ({"objective": {"metric": "roas"}, "guardrails": []}, 'objective.metric: unknown metric "roas"'),
        ({"objective": {"metric": "leads", "goal": 1}, "guardrails": []}, "objective.goal: unknown key"),
        (
            {"objective": {"metric": "leads", "weights": {"likes": 1}}, "guardrails": []},
            "objective.weights.likes: unknown",
        ),
        ({"objective": {"metric": "leads", "horizon_days": "7"}, "guardrails": []}, "objective.horizon_days: must be"),
    ],
)
def test_it_places_structural_mistakes(data, expected):
    assert any(error.startswith(expected) for error in errors_of(data)), errors_of(data)


def test_it_names_unknown_and_missing_guardrail_keys():
    errors = errors_of(document({"name": "n", "kind": "cooldown", "parameters": {"days": 3}}))
    assert errors == [
        "guardrails[0].parameters: unknown key; expected name, kind, scope, severity, params",
        "guardrails[0].params: required",
    ]


def test_it_reports_every_problem_at_once():
    data = document(pct_rule("a", pct=-1), pct_rule("b", severity="loud"), objective={"metric": "roas"})
    assert len(errors_of(data)) == 3


def test_it_gives_line_and_column_for_malformed_json():
    with pytest.raises(PolicyError) as caught:
        parse_policy('{\n  "objective": null,\n  "guardrails": [,]\n}')
    assert caught.value.errors == ["line 3, column 18: not valid JSON (Expecting value)"]


def test_it_refuses_a_key_written_twice():
    with pytest.raises(PolicyError) as caught:
        parse_policy(
            '{"objective": null, "guardrails": [{"name": "n", "kind": "cooldown", "params": {"days": 3, "days": 9}}]}'
        )
    assert caught.value.errors == ['duplicate key "days" in one object (JSON would keep only the last)']


def test_a_null_objective_is_allowed():
    assert validate_policy({"objective": None, "guardrails": []}).objective is None


def test_it_warns_about_a_vanity_objective_without_refusing_it():
    policy = validate_policy(document(objective={"metric": "clicks"}))
    assert policy.warnings and policy.warnings[0].startswith("objective.metric: Clicks is reported by the ad platforms")
    assert validate_policy(document()).warnings == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(["name", "kind", "scope", "severity", "params", "metric", "pct", "channel", "x"])
guardrail_like = st.dictionaries(field_names, json_values | st.sampled_from(["cooldown", "block", "n"]), max_size=6)


@given(
    objective=json_values | st.dictionaries(field_names, json_values, max_size=4),
    guardrails=json_values | st.lists(guardrail_like, max_size=4),
)
def test_any_json_is_either_a_policy_or_a_list_of_placed_errors(objective, guardrails):
    try:
        policy = validate_policy({"objective": objective, "guardrails": guardrails})
    except PolicyError as error:
        assert error.errors
        assert all(isinstance(e, str) and ": " in e for e in error.errors)
    else:
        assert isinstance(policy.guardrails, list)


# --- importing -------------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_creates_guardrails_and_the_objective():
    admin = guardrail_admin()
    plan = do_import(document(pct_rule("a"), pct_rule("b")), actor=admin, reason="first policy")

    assert (plan.created, plan.objective_changed) == (["a", "b"], True)
    assert sorted(Guardrail.objects.values_list("name", flat=True)) == ["a", "b"]
    assert set(GuardrailVersion.objects.values_list("reason", "changed_by")) == {("first policy", admin.pk)}
    assert Objective.objects.get(is_active=True).metric == "pipeline_value"
    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == [
        "guardrail.created",
        "guardrail.created",
        "objective.changed",
    ]


@pytest.mark.django_db
def test_an_import_updates_by_name_and_deactivates_what_the_file_leaves_out():
    do_import(document(pct_rule("keep"), pct_rule("change"), pct_rule("drop")))
    plan = do_import(document(pct_rule("keep"), pct_rule("change", pct=35), pct_rule("new")), reason="second")

    assert (plan.created, plan.updated, plan.deactivated, plan.unchanged) == (["new"], ["change"], ["drop"], ["keep"])
    rows = {g.name: g for g in Guardrail.objects.all()}
    assert (rows["keep"].version, rows["change"].version, rows["drop"].version) == (1, 2, 2)
    assert rows["change"].params == {"pct": 35}
    assert rows["drop"].is_active is False  # kept, never deleted
    assert GuardrailVersion.objects.get(guardrail=rows["drop"], version=2).reason == "second"
    event = AuditEvent.objects.get(action="guardrail.updated")
    assert (event.machine_payload["params"], event.human_payload["params"]) == ({"pct": 20}, {"pct": 35})
    assert AuditEvent.objects.filter(action="guardrail.deactivated", guardrail=rows["drop"]).count() == 1


@pytest.mark.django_db
def test_an_import_switches_a_deactivated_guardrail_back_on():
    do_import(document(pct_rule("a")))
    do_import(document())
    plan = do_import(document(pct_rule("a")))
    assert plan.updated == ["a"]
    guardrail = Guardrail.objects.get(name="a")
    assert (guardrail.is_active, guardrail.version) == (True, 3)


@pytest.mark.django_db
def test_an_import_replaces_the_objective_and_keeps_the_old_one_as_history():
    do_import(document(objective={"metric": "leads"}))
    do_import(document(objective={"metric": "closed_revenue", "horizon_days": 14}))
    assert list(Objective.objects.order_by("id").values_list("metric", "is_active")) == [
        ("leads", False),
        ("closed_revenue", True),
    ]


@pytest.mark.django_db
def test_a_null_objective_in_the_file_leaves_none_active():
    do_import(document())
    plan = do_import({"objective": None, "guardrails": []})
    assert plan.objective_changed
    assert not Objective.objects.filter(is_active=True).exists()


@pytest.mark.django_db
def test_importing_the_export_changes_nothing():
    do_import(json.loads(EXAMPLE.read_text()))
    before = state()
    exported = json.loads(json.dumps(export_policy()))

    plan = do_import(exported)

    assert not plan.changes_anything
    assert state() == before


@pytest.mark.django_db
def test_the_example_policy_imports_cleanly_with_every_kind():
    policy = parse_policy(EXAMPLE.read_text())
    assert policy.warnings == []
    do_import(json.loads(EXAMPLE.read_text()))
    kinds = set(Guardrail.objects.filter(is_active=True).values_list("kind", flat=True))
    assert kinds == {
        "max_budget_change_pct",
        "budget_bounds",
        "total_budget_cap",
        "monthly_budget",
        "protected_campaigns",
        "forbidden_audiences",
        "brand_voice",
        "cooldown",
        "min_evidence",
        "protected_workflows",
        "contact_cap",
    }


@pytest.mark.django_db
def test_a_failure_midway_rolls_back_every_earlier_change():
    do_import(document(pct_rule("a")))
    before = state()
    # Skips validation on purpose: the second guardrail only fails inside the
    # transaction, after the first change has been written.
    policy = Policy(
        objective={"metric": "leads", "weights": {}, "horizon_days": 7},
        guardrails=[pct_rule("b"), pct_rule("c", pct=500)],
    )
    with pytest.raises(ValidationError):
        import_policy(policy=policy, reason="bad")
    assert state() == before


@pytest.mark.django_db
def test_planning_writes_nothing():
    do_import(document(pct_rule("a")))
    before = state()
    plan = plan_import(validate_policy(document(pct_rule("a", pct=5), pct_rule("b"))))
    assert (plan.updated, plan.created) == (["a"], ["b"])
    assert state() == before


@pytest.mark.django_db
def test_active_rules_hand_the_active_guardrails_to_the_pure_checks():
    do_import(document(pct_rule("b"), pct_rule("a", severity="warn"), pct_rule("gone")))
    do_import(document(pct_rule("b"), pct_rule("a", severity="warn")))
    assert active_rules() == [
        Rule(name="a", kind="max_budget_change_pct", scope={"channel": "display"}, severity="warn", params={"pct": 20}),
        Rule(
            name="b", kind="max_budget_change_pct", scope={"channel": "display"}, severity="block", params={"pct": 20}
        ),
    ]


# --- fingerprint -------------------------------------------------------------------


@pytest.mark.django_db
def test_policy_version_is_short_stable_and_follows_the_rules():
    do_import(document(pct_rule("a")))
    first = policy_version()
    assert len(first) == 12
    assert policy_version() == first

    do_import(document(pct_rule("a", pct=30)))
    changed = policy_version()
    assert changed != first

    do_import(document(pct_rule("a", pct=30), objective={"metric": "leads"}))
    assert policy_version() != changed


@pytest.mark.django_db
def test_policy_version_ignores_how_a_number_is_written_and_inactive_guardrails():
    do_import(document(pct_rule("a")))
    first = policy_version()
    services.guardrail_create(name="z", kind="cooldown", params={"days": 3})
    services.guardrail_deactivate(guardrail=Guardrail.objects.get(name="z"))
    assert policy_version() == first

    same = copy.deepcopy(pct_rule("a"))
    same["params"]["pct"] = 20.0
    Guardrail.objects.filter(name="a").update(params=same["params"])
    assert policy_version() == first
