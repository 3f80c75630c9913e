"""`manage.py policy export` and `manage.py policy import FILE.json`, as an operator runs them."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from decisions.models import AuditEvent
from objectives.models import Guardrail, GuardrailVersion, Objective
from objectives.policy import export_policy, policy_version
from tests.factories import guardrail_admin

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.json"

ISSUE_EXAMPLE = {
    "objective": {"metric": "pipeline_value"},
    "guardrails": [
        {
            "name": "Display moves",
            "kind": "max_budget_change_pct",
            "scope": {"channel": "display"},
            "severity": "block",
            "params": {"pct": 20},
        }
    ],
}


def policy(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("policy", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def write(tmp_path, data, name="policy.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def refused(*args) -> str:
    with pytest.raises(CommandError) as caught:
        policy(*args)
    assert caught.value.returncode == 1
    return str(caught.value)


def state() -> tuple:
    return (
        export_policy(),
        GuardrailVersion.objects.count(),
        AuditEvent.objects.count(),
        Objective.objects.count(),
        sorted(Guardrail.objects.values_list("name", "is_active", "version", "params")),
    )


@pytest.fixture
def seeded(tmp_path) -> tuple:
    """The example policy in place, and a snapshot of everything an import could touch."""
    policy("import", str(EXAMPLE))
    return state()


def test_export_prints_the_active_policy_as_json(seeded):
    printed = json.loads(policy("export"))
    assert printed == export_policy()
    assert printed["objective"]["metric"] == "pipeline_value"
    assert len(printed["guardrails"]) == len(json.loads(EXAMPLE.read_text())["guardrails"])


def test_export_on_an_empty_database_prints_an_empty_policy():
    assert json.loads(policy("export")) == {"objective": None, "guardrails": []}


def test_export_can_write_a_file(seeded, tmp_path):
    target = tmp_path / "out.json"
    said = policy("export", "--output", str(target))
    assert json.loads(target.read_text()) == export_policy()
    assert policy_version() in said


def test_import_reports_what_it_changed(tmp_path):
    said = policy("import", write(tmp_path, ISSUE_EXAMPLE))
    assert "1 created, 0 updated, 0 deactivated, 0 unchanged; objective changed" in said
    assert "created     Display moves" in said
    assert Guardrail.objects.get(name="Display moves").params == {"pct": 20}


def test_import_of_the_export_creates_no_new_versions(seeded, tmp_path):
    exported = write(tmp_path, policy("export"), name="exported.json")
    said = policy("import", exported)
    assert "0 created, 0 updated, 0 deactivated, 14 unchanged; objective unchanged" in said
    assert state() == seeded


def test_import_records_the_default_reason_and_the_system_as_actor(tmp_path):
    path = write(tmp_path, ISSUE_EXAMPLE)
    policy("import", path)
    version = GuardrailVersion.objects.get()
    assert version.reason == f"policy import from {path}"
    assert (version.changed_by, version.changed_by_label) == (None, "system")
    assert set(AuditEvent.objects.values_list("actor_label", "reason")) == {("system", f"policy import from {path}")}


def test_import_records_the_given_actor_and_reason(tmp_path):
    admin = guardrail_admin()
    policy("import", write(tmp_path, ISSUE_EXAMPLE), "--actor", admin.username, "--reason", "Q3 planning")
    version = GuardrailVersion.objects.get()
    assert (version.changed_by, version.reason) == (admin, "Q3 planning")
    assert set(AuditEvent.objects.values_list("actor_id", flat=True)) == {admin.pk}


def test_import_refuses_an_unknown_actor_and_changes_nothing(seeded, tmp_path):
    message = refused("import", write(tmp_path, ISSUE_EXAMPLE), "--actor", "nobody")
    assert 'no user named "nobody"' in message
    assert state() == seeded


def test_a_dry_run_says_what_would_change_and_changes_nothing(seeded, tmp_path):
    said = policy("import", write(tmp_path, ISSUE_EXAMPLE), "--dry-run")
    assert "Dry run, nothing changed: 1 created, 0 updated, 14 deactivated" in said
    assert state() == seeded


def test_import_warns_about_a_vanity_objective(tmp_path):
    said = policy("import", write(tmp_path, {"objective": {"metric": "platform_revenue"}, "guardrails": []}))
    assert "warning: objective.metric: Platform-reported revenue (ROAS) is reported by the ad platforms" in said
    assert Objective.objects.get(is_active=True).metric == "platform_revenue"


def bad_params(kind, params) -> dict:
    return {"objective": {"metric": "pipeline_value"}, "guardrails": [{"name": "n", "kind": kind, "params": params}]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bad_params("max_budget_change_pct", {"pct": 101}), "guardrails[0].params.pct: must be a number between 0"),
        (bad_params("budget_bounds", {"min": 9, "max": 1}), "guardrails[0].params.max: must be at least min (9)"),
        (bad_params("total_budget_cap", {"amount": -1}), "guardrails[0].params.amount: must be a number of at least 0"),
        (bad_params("protected_campaigns", {}), "guardrails[0].params.tag: required"),
        (bad_params("forbidden_audiences", {"segments": [""]}), "guardrails[0].params.segments: must be a list"),
        (bad_params("brand_voice", {"tone": "calm"}), "guardrails[0].params.tone: unknown key"),
        (bad_params("cooldown", {"days": "7"}), "guardrails[0].params.days: must be a whole number of at least 1"),
        (bad_params("min_evidence", {"days": 7, "conversions": None}), "guardrails[0].params.conversions: must be"),
        (bad_params("max_budget", {"pct": 20}), 'guardrails[0].kind: unknown kind "max_budget"; expected one of'),
        (
            {**ISSUE_EXAMPLE, "guardrails": [{**ISSUE_EXAMPLE["guardrails"][0], "scope": {"team": "x"}}]},
            "guardrails[0].scope.team: unknown key",
        ),
        (
            {**ISSUE_EXAMPLE, "guardrails": [{**ISSUE_EXAMPLE["guardrails"][0], "severity": "fatal"}]},
            'guardrails[0].severity: unknown severity "fatal"',
        ),
        (
            {**ISSUE_EXAMPLE, "guardrails": ISSUE_EXAMPLE["guardrails"] * 2},
            'guardrails[1].name: duplicate name "Display moves" (also guardrails[0])',
        ),
        ('{"objective": null,\n "guardrails": [}', "line 2, column 17: not valid JSON"),
        ("", "line 1, column 1: not valid JSON"),
        ("[1, 2]", "top level: must be a JSON object"),
        ({"objective": {"metric": "ctr"}, "guardrails": []}, 'objective.metric: unknown metric "ctr"'),
    ],
)
def test_an_invalid_file_says_what_and_where_and_changes_nothing(seeded, tmp_path, content, expected):
    path = write(tmp_path, content)
    message = refused("import", path)
    assert f"{path} is not a valid policy; nothing changed." in message
    assert expected in message
    assert state() == seeded


def test_an_unreadable_file_is_refused(seeded, tmp_path):
    assert "cannot read" in refused("import", str(tmp_path / "missing.json"))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    assert "is not UTF-8 text" in refused("import", str(binary))
    assert state() == seeded


def test_import_needs_a_file():
    with pytest.raises(CommandError):
        policy("import")
