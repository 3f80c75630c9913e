"""One home per guardrail kind: its class. Everything else that lists kinds is held to the registry here.

Model choices and form fields are read from the classes; the docs, the demo
seed and the example policy are written by hand, so they are checked.
"""

import json
import re
from pathlib import Path

import pytest

from decisions.demo.seed import starter_guardrails
from decisions.engine.simulator import make_world
from objectives import guardrails
from objectives.forms import GuardrailForm, param_field_name
from objectives.models import Guardrail, GuardrailVersion
from objectives.policy import parse_policy
from objectives.services import validate_guardrail

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "policy.md"
EXAMPLE = ROOT / "examples" / "policy.json"

# What admins have always seen; a kind class may not rename them by accident.
LABELS = {
    "max_budget_change_pct": ("Max budget change %", ["Largest move, % of the daily budget"]),
    "budget_bounds": ("Budget bounds", ["Lowest daily budget", "Highest daily budget"]),
    "total_budget_cap": ("Total budget cap", ["Cap on the sum of daily budgets"]),
    "monthly_budget": ("Monthly budget", ["Spend allowed in a calendar month"]),
    "protected_campaigns": ("Protected campaigns", ["Tag of the protected campaigns"]),
    "forbidden_audiences": (
        "Forbidden audiences",
        [
            "Forbidden audience segments",
            "Attributes no test audience may use",
            "Attribute every audience member must reach",
            "Its minimum",
        ],
    ),
    "brand_voice": ("Brand voice", ["Banned phrases", "Required phrases"]),
    "cooldown": ("Cooldown", ["Days between applied changes to one campaign"]),
    "min_evidence": ("Minimum evidence", ["Days of data with spend, at least", "Conversions, at least"]),
    "protected_workflows": ("Protected workflows", ["Tag of the protected workflows"]),
    "contact_cap": ("Contact cap", ["Actions a customer may get a week, at most"]),
}


def registry_choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in guardrails.REGISTRY]


def test_every_kind_keeps_its_labels():
    assert {kind.name: (kind.label, [p.label for p in kind.params]) for kind in guardrails.REGISTRY} == LABELS


@pytest.mark.parametrize("model", [Guardrail, GuardrailVersion])
def test_model_choices_are_the_registry(model):
    assert list(model._meta.get_field("kind").choices) == registry_choices()


def test_the_form_offers_every_kind_with_its_own_parameter_fields():
    assert list(GuardrailForm().fields["kind"].choices) == registry_choices()
    for kind in guardrails.REGISTRY:
        form = GuardrailForm(kind=kind.name)
        shown = [(field.name, field.label, field.field.required) for field in form.param_fields()]
        expected = [(param_field_name(p.key), p.label, not p.optional) for p in kind.params]
        assert shown == expected, kind.name


def _documented_kinds() -> dict[str, str]:
    """kind → its params cell, from the "| kind | params | meaning |" table of docs/policy.md."""
    lines = DOCS.read_text().splitlines()
    start = lines.index("| kind | params | meaning |") + 2
    rows = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        kind, params, _meaning = (cell.strip() for cell in line.strip("|").split("|"))
        rows[kind.strip("`")] = params
    return rows


def _documented_judging() -> list[str]:
    """Every kind named in the "| kind | judges changes to |" table."""
    lines = DOCS.read_text().splitlines()
    start = lines.index("| kind | judges changes to |") + 2
    named = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        named += re.findall(r"`(\w+)`", line.strip("|").split("|")[0])
    return named


def test_the_docs_describe_every_kind_and_each_of_its_params():
    documented = _documented_kinds()
    assert list(documented) == list(guardrails.KINDS)
    for kind in guardrails.REGISTRY:
        for param in kind.params:
            assert f"`{param.key}`" in documented[kind.name], f"{kind.name}.{param.key} is not documented"
    assert sorted(_documented_judging()) == sorted(guardrails.KINDS)


def test_the_demo_seeds_a_valid_guardrail_of_every_kind():
    seeded = starter_guardrails(make_world(n_campaigns=6, seed=3))
    assert {spec["kind"] for spec in seeded} == set(guardrails.KINDS)
    for spec in seeded:
        validate_guardrail(
            name=spec["name"],
            kind=spec["kind"],
            scope=spec.get("scope", {}),
            severity=spec["severity"],
            params=spec["params"],
        )


def test_the_example_policy_validates_and_uses_every_kind():
    policy = parse_policy(EXAMPLE.read_text())
    assert {guardrail["kind"] for guardrail in policy.guardrails} == set(guardrails.KINDS)
    assert len(policy.guardrails) == len(json.loads(EXAMPLE.read_text())["guardrails"])
