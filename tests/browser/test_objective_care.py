"""An admin changes the objective with care (a vanity metric is confirmed, the queue flags it, an earlier objective
is restored), previews a policy import that says what changes, and reads the change log in words."""

import json
import re

from playwright.sync_api import expect

from objectives.services import guardrail_create, objective_set
from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, ProposalFactory, guardrail_admin

WIDTHS = (1440, 390)


def shoot(page, screenshot, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_vanity_objective_is_confirmed_flagged_and_restored_away(page, live_server, screenshot):
    admin = guardrail_admin(username="ada")
    objective_set(metric="pipeline_value", actor=admin, reason="Pipeline is what sales sees")
    log_in(page, live_server, "ada", "pw-for-tests-1")

    page.goto(f"{live_server.url}/objectives/")
    page.get_by_role("radio", name="Clicks").check()
    page.get_by_label("Reason").fill("Awareness push for the launch")
    page.get_by_role("button", name="Save objective").click()
    confirm = page.get_by_role("form", name="Optimise Clicks? It is a vanity metric")
    expect(confirm).to_contain_text("Clicks reward curiosity, not buyers")
    shoot(page, screenshot, "objective-vanity-confirm")
    confirm.get_by_role("button", name="Yes, optimise Clicks").click()
    expect(page.get_by_role("status")).to_contain_text("The engine now optimises Clicks, 7-day horizon.")
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Run #\d+ started\. No proposals were pending\."))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    banner = page.get_by_role("note", name="Vanity objective")
    expect(banner).to_contain_text("The engine optimises Clicks")
    shoot(page, screenshot, "queue-vanity-banner")

    page.goto(f"{live_server.url}/objectives/")
    earlier = page.get_by_role("row", name=re.compile("Pipeline value, 7-day horizon"))
    expect(earlier).to_contain_text("Pipeline is what sales sees")
    current = page.get_by_role("row", name=re.compile("Clicks, 7-day horizon"))
    expect(current).to_contain_text("Awareness push for the launch")
    expect(current).to_contain_text("current")
    shoot(page, screenshot, "objective-history")
    earlier.get_by_label("Why restore Pipeline value, 7-day horizon").fill("Launch over: back to pipeline")
    earlier.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Restored: the engine optimises Pipeline value, 7-day horizon again."
    )
    expect(page.get_by_role("row", name=re.compile("Launch over: back to pipeline"))).to_contain_text("current")

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("note", name="Vanity objective")).to_have_count(0)


def test_a_policy_import_preview_says_what_changes_and_history_says_it_in_words(page, live_server, screenshot):
    admin = guardrail_admin(username="ada")
    objective_set(metric="pipeline_value", actor=admin, reason="start")
    guardrail_create(name="Display cap", kind="max_budget_change_pct", params={"pct": 30}, actor=admin, reason="go")
    guardrail_create(name="Cool", kind="cooldown", params={"days": 7}, actor=admin, reason="go")
    campaign = CampaignFactory(name="Display Retargeting", channel="display")
    ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 128.0}],
    )
    policy = {
        "objective": {"metric": "closed_revenue", "horizon_days": 14},
        "guardrails": [
            {"name": "Display cap", "kind": "max_budget_change_pct", "severity": "warn", "params": {"pct": 25}},
            {"name": "Display cap", "kind": "cooldown", "params": {"days": 0}},
        ],
    }
    log_in(page, live_server, "ada", "pw-for-tests-1")
    page.goto(f"{live_server.url}/policy/import/")
    page.get_by_label("…or paste it").fill(json.dumps(policy))
    page.get_by_label("Reason").fill("Quarterly policy review")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("Guardrail “Display cap” (2nd in the file) — guardrails[1]")

    policy["guardrails"].pop()
    page.get_by_label("…or paste it").fill(json.dumps(policy))
    page.get_by_label("Reason").fill("Quarterly policy review")
    page.get_by_role("button", name="Preview").click()
    plan = page.get_by_role("table", name="What the import changes")
    expect(plan.get_by_role("row", name=re.compile("Objective"))).to_contain_text("horizon 7 → 14 days")
    display = plan.get_by_role("row", name=re.compile("Guardrail “Display cap”"))
    expect(display).to_contain_text("pct: 30 → 25")
    expect(display).to_contain_text("severity: block → warn")
    expect(plan.get_by_role("row", name=re.compile("Guardrail “Cool”"))).to_contain_text("Switched off")
    expect(page.locator(".backtest-summary")).to_contain_text(
        "The imported policy would have blocked 0 and warned on 1 of the last 30 days' 1 proposals"
    )
    shoot(page, screenshot, "policy-import-preview")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("objective changed.")
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Run #\d+ started\."))

    page.goto(f"{live_server.url}/history/")
    log = page.locator("table.change-log")
    expect(log).to_contain_text("Guardrail “Display cap”: severity block → warn, pct 30 → 25")
    expect(log).to_contain_text("Guardrail “Cool” switched off")
    expect(log).to_contain_text("Objective: Pipeline value → Closed revenue, horizon 7 → 14 days")
    expect(log).to_contain_text("Quarterly policy review")
    page.locator("#change-log").scroll_into_view_if_needed()
    shoot(page, screenshot, "history-change-log")
