"""The Pacing page and budget use on a proposal, in Chromium at desktop and phone widths: the demo's monthly
budgets each get a drawn course, the proposal page says how much of its budget each campaign spends, and
neither page scrolls sideways on a phone. Screenshots land in test-artifacts/ (pacing-*.png)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.demo import PASSWORDS, demo_world, pending_proposal

WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def world(transactional_db):
    demo_world()


@pytest.mark.parametrize("size", WIDTHS)
def test_the_pacing_page_draws_each_monthly_budgets_course(browser, live_server, world, size, screenshot):
    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    if size == "desktop":
        page.get_by_role("link", name="Pacing", exact=True).click()  # from the main menu
    else:
        page.goto(f"{live_server.url}/pacing/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Pacing", exact=True)).to_be_visible()
    charts = page.locator("canvas[data-pacing-chart]")
    assert charts.count() == 1  # the demo's monthly budget
    # Chart.js sized and drew each canvas (a canvas it never touched keeps its 300 × 150 default).
    assert page.evaluate("[...document.querySelectorAll('canvas[data-pacing-chart]')].every(c => Chart.getChart(c))")
    assert page.locator("table.pacing tbody tr").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") == WIDTHS[size]["width"]
    assert errors == []
    screenshot(page, f"pacing-{size}")
    context.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_a_proposal_page_shows_each_campaigns_budget_use(browser, live_server, world, size, screenshot):
    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    proposal = pending_proposal()
    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    page.wait_for_load_state("networkidle")
    section = page.locator("section", has=page.get_by_role("heading", name="Budget use"))
    expect(section).to_be_visible()
    assert section.locator("p.utilization").count() == len({c["campaign"] for c in proposal.changes})
    expect(section.locator(".badge").first).to_have_text(re.compile("Demand-limited|Budget-limited|Limit unknown"))
    assert page.evaluate("document.documentElement.scrollWidth") == WIDTHS[size]["width"]
    screenshot(page, f"pacing-proposal-{size}")
    context.close()
