"""A guardrail admin's mistakes caught in the browser: scope typos, caps broken from day one, CRM ids with typos."""

import re
from decimal import Decimal

from playwright.sync_api import expect

from decisions.models import Campaign
from objectives.models import Guardrail
from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, guardrail_admin

CRM = "date,campaign_id,pipeline_value\n2026-01-01,SIM-0001,300\n2026-01-01,SIM-009,120\n2026-01-02,sim-0010,80\n"


def _campaigns():
    CampaignFactory(external_id="SIM-0001", name="Search – Brand", channel="search", tags=["brand"])
    CampaignFactory(external_id="SIM-0009", name="Display – Retargeting", channel="display")
    CampaignFactory(external_id="SIM-0010", name="Social – Prospecting", channel="social", daily_budget=Decimal("1000"))
    CampaignFactory(
        external_id="SIM-0011", name="Social – Lookalikes", channel="social", daily_budget=Decimal("874.85")
    )
    CampaignFactory(external_id="SIM-0012", name="LinkedIn – ABM", channel="linkedin")


def test_a_scope_typo_is_caught_as_typed_and_a_cap_broken_from_day_one_says_so(page, live_server, screenshot):
    _campaigns()
    guardrail_admin(username="ada")
    log_in(page, live_server, "ada", "pw-for-tests-1")
    page.goto(f"{live_server.url}/guardrails/new/")

    backtest = page.locator("#backtest")
    expect(backtest).to_contain_text("Fill in “Largest move, % of the daily budget”")
    expect(page.get_by_text("This field is required")).to_have_count(0)

    page.get_by_label("Name").fill("Social daily spend cap")
    page.get_by_label("Kind").select_option("total_budget_cap")
    expect(page.get_by_label("Cap on the sum of daily budgets")).to_be_visible()
    page.get_by_label("Applies to").select_option("channel")
    scope = page.get_by_label("Channel, tag or campaign")
    expect(page.locator("#scope-options option[value=social]")).to_have_count(1)
    scope.fill("Socail")
    expect(page.locator("#scope-hint")).to_have_text("channel “Socail” matches no campaign; did you mean social?")
    scope.fill("Social")
    expect(page.locator("#scope-hint")).to_contain_text("Matches 2 campaigns; saved as “social”")
    page.get_by_label("Cap on the sum of daily budgets").fill("1500")
    page.get_by_role("button", name="Run backtest").click()
    expect(backtest).to_contain_text("Channel “social”: matches 2 campaigns.")
    expect(backtest).to_contain_text("This guardrail is already exceeded: the scope's budgets total")
    form_box, backtest_box = page.locator("#guardrail-form").bounding_box(), backtest.bounding_box()
    assert abs(backtest_box["width"] - form_box["width"]) < 2  # full width, below the form
    assert backtest_box["y"] > form_box["y"] + form_box["height"]
    screenshot(page, "guardrail-scope-checked")

    page.get_by_label("Reason").fill("Q4 social ceiling")
    page.get_by_role("button", name="Create guardrail").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("The channel “Social” is saved as “social”")
    expect(status).to_contain_text("“Social daily spend cap” is already exceeded")
    assert Guardrail.objects.get().scope == {"channel": "social"}


def test_a_crm_file_with_typos_creates_nothing_and_a_mistaken_campaign_is_archived(page, live_server, screenshot):
    _campaigns()
    mistake = CampaignFactory(external_id="SIM-09", name="", channel="", daily_budget=0)
    guardrail_admin(username="ada")
    log_in(page, live_server, "ada", "pw-for-tests-1")

    page.goto(f"{live_server.url}/data/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "crm.csv", "mimeType": "text/csv", "buffer": CRM.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    run = page.locator("#run-status")
    expect(run).to_contain_text("2 rows skipped: 2 campaign ids match no campaign")
    expect(run).to_contain_text("SIM-009: matches no campaign, skipped (line 3); did you mean SIM-0009")
    assert not Campaign.objects.filter(external_id__in=["SIM-009", "sim-0010"]).exists()
    screenshot(page, "import-unmatched-ids")

    page.goto(f"{live_server.url}/data/")
    row = page.get_by_role("row", name=re.compile("SIM-09"))
    row.get_by_text("Archive…").click()
    row.get_by_label("Why archive SIM-09?").fill("Created by an old CRM import's typo")
    row.get_by_role("button", name="Archive SIM-09").click()
    expect(page.get_by_role("status")).to_contain_text("SIM-09 archived")
    archived = page.get_by_role("region", name="Archived campaigns")
    expect(archived).to_contain_text("SIM-09")
    screenshot(page, "data-archived")
    archived.get_by_label("Why restore SIM-09?").fill("It was real")
    archived.get_by_role("button", name="Restore SIM-09").click()
    expect(page.get_by_role("status")).to_contain_text("SIM-09 restored")
    mistake.refresh_from_db()
    assert mistake.archived_at is None
