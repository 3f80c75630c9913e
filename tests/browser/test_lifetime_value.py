"""A guardrail admin imports customer transactions on the Data page and makes lifetime value the objective."""

import re
from pathlib import Path

from playwright.sync_api import expect

from decisions.models import Transaction
from objectives import selectors as objective_selectors
from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, guardrail_admin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transactions.csv"


def test_an_admin_imports_transactions_and_chooses_lifetime_value(page, live_server, screenshot):
    for n in range(1, 6):
        CampaignFactory(external_id=f"SIM-000{n}")
    guardrail_admin(username="ada")
    log_in(page, live_server, "ada", "pw-for-tests-1")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.get_by_label("Import customer transactions").set_input_files(EXAMPLE)
    page.get_by_role("button", name="Import transactions").click()
    expect(
        page.get_by_text(re.compile(r"Lifetime value model \((BG|Pareto)/NBD \+ Gamma-Gamma\) fitted on 150 customers"))
    ).to_be_visible()
    assert Transaction.objects.count() == 384
    screenshot(page, "transactions-import")

    page.get_by_role("link", name="Customer lifetime value as the objective").click()
    expect(page.get_by_role("heading", name="Customer lifetime value")).to_be_visible()
    expect(page.get_by_text("384 transactions of 150 customers")).to_be_visible()
    page.get_by_role("radio", name="Customer lifetime value").check()
    page.get_by_label("Reason").fill("Customers who come back")
    page.get_by_role("button", name="Save objective").click()
    expect(page.get_by_text("The engine optimises Customer lifetime value")).to_be_visible()
    assert objective_selectors.active_objective().metric == "customer_lifetime_value"
