"""A guardrail admin edits a guardrail of every kind in the browser: the edit page shows the guardrail's own kind,
a changed parameter is saved as a new version, and the new version is stored (the demo seeds one of each kind).
"""

import pytest
from playwright.sync_api import expect

from decisions.demo.seed import demo_seed
from objectives import guardrails
from objectives.models import Guardrail, GuardrailVersion
from tests.browser.conftest import log_in
from tests.browser.demo import PASSWORDS


def plus_one(shown: str) -> str:
    return str(int(float(shown)) + 1)


# kind: the parameter's form field, and the new value made from the one the page shows. A new kind needs a line.
EDITS = {
    "max_budget_change_pct": ("param_pct", plus_one),
    "budget_bounds": ("param_max", plus_one),
    "total_budget_cap": ("param_amount", plus_one),
    "protected_campaigns": ("param_tag", lambda shown: "retargeting"),
    "forbidden_audiences": ("param_segments", lambda shown: f"{shown}\nin_market"),
    "brand_voice": ("param_banned_phrases", lambda shown: f"{shown}\nno-brainer"),
    "cooldown": ("param_days", lambda shown: "10"),  # the case: 7 days → 10
    "min_evidence": ("param_conversions", plus_one),
    "monthly_budget": ("param_amount", plus_one),
    "protected_workflows": ("param_tag", lambda shown: "legal"),
    "contact_cap": ("param_max_per_week", plus_one),
}


@pytest.fixture
def world(transactional_db):
    demo_seed(n_campaigns=8, days=60)  # the demo's guardrails: one of each kind


def stored(value: str):
    """What the form's text becomes in the version's params: a number, or one phrase per line, or the text."""
    if "\n" in value:
        return [line for line in value.splitlines() if line.strip()]
    try:
        return float(value)
    except ValueError:
        return value


def same(param, expected) -> bool:
    return float(param) == expected if isinstance(expected, float) else param == expected


def test_every_kind_has_an_edit_here():
    assert set(EDITS) == set(guardrails.KINDS)


def test_a_guardrail_admin_edits_a_guardrail_of_every_kind(page, live_server, world, screenshot):
    log_in(page, live_server, "admin", PASSWORDS["admin"])
    by_kind = {guardrail.kind: guardrail for guardrail in Guardrail.objects.all()}
    assert set(by_kind) == set(guardrails.KINDS)
    for kind, (field_name, new_value) in EDITS.items():
        guardrail = by_kind[kind]
        page.goto(f"{live_server.url}/guardrails/{guardrail.pk}/edit/")
        expect(page.locator("select[name=kind]")).to_have_value(kind)  # its own kind, not the first one listed
        expect(page.locator("#kind-params legend")).to_contain_text(guardrails.kind_named(kind).label)
        field = page.locator(f"[name={field_name}]")
        value = new_value(field.input_value())
        field.fill(value)
        page.get_by_label("Reason").fill(f"Browser test: a new {kind} limit")
        page.get_by_role("button", name="Save version 2").click()
        page.wait_for_url(f"{live_server.url}/guardrails/{guardrail.pk}/")
        expect(page.get_by_role("listitem").filter(has_text="Saved version 2")).to_be_visible()
        screenshot(page, f"guardrail-kind-{kind}")

        latest = GuardrailVersion.objects.filter(guardrail=guardrail).order_by("-version").first()
        key = field_name.removeprefix("param_")
        assert (latest.version, latest.kind) == (2, kind)
        assert same(latest.params[key], stored(value)), (kind, latest.params, value)
        assert same(Guardrail.objects.get(pk=guardrail.pk).params[key], stored(value))
