import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from objectives.models import Guardrail
from objectives.services import guardrail_create
from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, ProposalFactory, guardrail_admin, marketer

PASSING = {"name": "Max move", "kind": "max_budget_change_pct", "severity": "block", "passed": True, "message": "ok"}


def _pending(campaign, to: float):
    return ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
        guardrail_verdicts=[PASSING],
    )


def test_an_admin_tightens_a_guardrail_after_a_backtest_and_a_marketer_sees_it_in_the_queue(
    page, live_server, screenshot
):
    guardrail_create(name="Max move", kind="max_budget_change_pct", params={"pct": 30}, reason="launch")
    quiet = guardrail_create(name="Weekend cooldown", kind="cooldown", params={"days": 2}, reason="launch")
    Guardrail.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - dt.timedelta(days=120))
    big = _pending(CampaignFactory(name="Search Brand"), 120)
    _pending(CampaignFactory(name="Search Generic"), 105)
    guardrail_admin(username="ada")
    marketer(username="mo")

    log_in(page, live_server, "ada", "pw-for-tests-1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Guardrails").click()
    expect(page.get_by_role("heading", name="Candidates to retire")).to_be_visible()
    retire = page.get_by_role("region", name="Candidates to retire")
    expect(retire.get_by_role("link", name="Weekend cooldown")).to_be_visible()
    expect(retire.get_by_role("link", name="Max move")).to_have_count(0)  # too young to judge
    screenshot(page, "guardrails-page")

    page.get_by_role("row", name=re.compile("Max move")).get_by_role("link", name="Edit").click()
    page.get_by_label("Largest move, % of the daily budget").fill("10")
    page.get_by_role("button", name="Run backtest").click()
    backtest = page.locator("#backtest")
    expect(backtest).to_contain_text(
        "This version would have blocked 1 and warned on 0 of the last 30 days' 2 proposals"
    )
    affected = backtest.get_by_role("table", name="Proposals this version affects")
    expect(affected.get_by_role("link", name=f"#{big.pk}")).to_be_visible()
    expect(affected).to_contain_text("Budget moves 20% (limit 10%)")
    screenshot(page, "guardrail-edit-backtest")

    page.get_by_label("Reason").fill("Q4: smaller steps until the new forecast lands")
    page.get_by_role("button", name="Save version 2").click()
    expect(page.get_by_role("status")).to_contain_text("Saved version 2 of “Max move”")
    history = page.get_by_role("table", name="Version history")
    expect(history).to_contain_text("pct: 30 → 10")
    expect(history).to_contain_text("Q4: smaller steps")
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "mo", "pw-for-tests-1")
    row = page.locator(f"#proposal-{big.pk}")
    # Saving re-checked the pending proposals: the queue's badge already shows the new block.
    expect(row.locator("td.guards")).to_contain_text("block")
    row.get_by_role("link", name=re.compile("Search Brand")).click()
    detail = page.locator(f"#detail-{big.pk}")
    expect(detail).to_contain_text("Guardrails now")
    expect(detail).to_contain_text("Max move: Budget moves 20% (limit 10%)")
    screenshot(page, "queue-after-guardrail-edit")


def test_the_new_guardrail_form_switches_its_fields_with_the_kind(page, live_server):
    guardrail_admin(username="ada")
    log_in(page, live_server, "ada", "pw-for-tests-1")
    page.goto(f"{live_server.url}/guardrails/new/")
    page.get_by_label("Name").fill("No hype")
    expect(page.get_by_label("Largest move, % of the daily budget")).to_be_visible()
    page.get_by_label("Kind").select_option("brand_voice")
    expect(page.get_by_label("Banned phrases")).to_be_visible()
    expect(page.get_by_label("Largest move, % of the daily budget")).to_have_count(0)
    page.get_by_label("Banned phrases").fill("guaranteed\nbest ever")
    page.get_by_label("Reason").fill("Legal asked for it")
    page.get_by_role("button", name="Create guardrail").click()
    expect(page.get_by_role("status")).to_contain_text("Guardrail “No hype” created")
    created = Guardrail.objects.get(name="No hype")
    assert (created.kind, created.params) == (
        "brand_voice",
        {"banned_phrases": ["guaranteed", "best ever"], "required_phrases": []},
    )
