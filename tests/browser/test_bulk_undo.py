"""A marketer bulk-approves what passes, then undoes those approvals as one step, on a laptop and on a phone."""

import pytest
from playwright.sync_api import expect

from decisions.models import Proposal
from tests.browser.conftest import log_in
from tests.browser.test_review import PASSWORD, proposal_for
from tests.factories import GuardrailFactory, marketer


@pytest.fixture(autouse=True)
def patient_expect():
    expect.set_options(timeout=10_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def passing(transactional_db):
    GuardrailFactory(name="Max daily move", kind="max_budget_change_pct", params={"pct": 30}, severity="block")
    return [proposal_for("Search – Brand", priority=900), proposal_for("Search – Generic", priority=100)]


@pytest.mark.parametrize("width", [1440, 390])
def test_a_marketer_bulk_approves_then_undoes_them_in_one_step(browser, live_server, screenshot, passing, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    marketer(username="maya", first_name="Maya", last_name="Lind")
    log_in(page, live_server, "maya", PASSWORD)
    page.goto(f"{live_server.url}/")

    page.get_by_text("Approve all shown that pass every guardrail (2)").click()
    page.get_by_role("button", name="Confirm: approve 2").click()

    result = page.locator("#bulk-result")
    expect(result.get_by_role("heading", name="Bulk approval of 2 proposals")).to_be_visible()
    # The apply ran at commit (tasks run in process here): both changes reached the ledger.
    expect(result.locator(".status-pill.applied")).to_have_count(2)
    screenshot(page, f"bulk-approved-{width}")  # test-artifacts/

    result.get_by_role("button", name="Undo these 2 approvals").click()

    expect(page.get_by_text("Rolled back 2 proposals of that bulk approval.")).to_be_visible()
    expect(result.locator(".status-pill.rolled_back")).to_have_count(2)
    expect(result).to_contain_text("undone by Maya Lind")
    expect(result.get_by_role("button", name="Undo these 2 approvals")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"bulk-undone-{width}")
    assert {p.status for p in Proposal.objects.filter(pk__in=[p.pk for p in passing])} == {"rolled_back"}
    context.close()
