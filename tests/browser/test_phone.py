"""Waypoint on a phone (390 px wide): no page scrolls sideways, for a marketer or a guardrail admin; queue rows are
cards with Approve, Edit and Reject on screen; the menu collapses behind a button that works without JavaScript,
its links light on the dark bar. Screenshots of every page land in test-artifacts/ (phone-*.png).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.colours import COLOUR_AND_BACKGROUND, contrast
from tests.browser.conftest import log_in
from tests.browser.demo import PASSWORDS, demo_world, pending_proposal, site_pages

PHONE = {"width": 390, "height": 844}
READABLE = 4.5  # WCAG AA contrast for normal text


@pytest.fixture
def world(transactional_db):
    demo_world()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_without_javascript(browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("username", ["marketer", "admin"])
def test_no_page_scrolls_sideways_on_a_phone(phone, live_server, world, username, screenshot):
    log_in(phone, live_server, username, PASSWORDS[username])
    widths = {}
    for name, path in site_pages(username).items():
        response = phone.goto(f"{live_server.url}{path}")
        assert response.ok, (name, response.status)
        phone.wait_for_load_state("networkidle")  # the guardrail form's backtest and the charts arrive by htmx
        widths[name] = page_width(phone)
        screenshot(phone, f"phone-{username}-{name}")
    assert widths == dict.fromkeys(widths, PHONE["width"])


def test_a_queue_row_is_a_card_with_its_decision_buttons_on_screen(phone, live_server, world, screenshot):
    log_in(phone, live_server, "marketer", PASSWORDS["marketer"])
    row = phone.locator(f"#proposal-{pending_proposal().pk}")
    for name in ("Approve", "Edit", "Reject"):
        box = row.get_by_role("button", name=name, exact=True).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    assert row.evaluate("row => getComputedStyle(row).display") == "block"  # a card, not a table row
    expect(row.locator("td.impact")).to_have_attribute("data-label", "Expected impact / week")

    row.get_by_role("link", name=re.compile(".")).first.click()  # its details: curves, platform view, timeline
    expect(row.locator("canvas[data-drawn]").first).to_be_visible()
    assert page_width(phone) == PHONE["width"]
    row.get_by_role("button", name="Edit", exact=True).click()
    expect(row.get_by_role("button", name="Save and approve")).to_be_visible()
    assert page_width(phone) == PHONE["width"]
    screenshot(phone, "phone-queue-card-editing")


def test_the_menu_opens_without_javascript_and_its_links_are_readable(
    phone_without_javascript, live_server, world, screenshot
):
    page = phone_without_javascript
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()  # collapsed behind the menu button
    page.locator("summary", has_text="Menu").click()
    expect(nav).to_be_visible()
    links = nav.get_by_role("link")
    expect(links).to_have_text(
        [
            "Queue",
            "History",
            "Guardrails",
            "Objectives",
            "Reports",
            "Runs",
            "Pacing",
            "Mix",
            "Workflows",
            "Experiments",
            "Data",
            "Auto-approval",
        ]
    )
    for link in links.all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        foreground, background = link.evaluate(COLOUR_AND_BACKGROUND)
        assert contrast(foreground, background) >= READABLE, (link.text_content(), foreground, background)
    screenshot(page, "phone-menu-open")
    links.filter(has_text="Runs").click()
    page.wait_for_url(f"{live_server.url}/runs/")
    assert page_width(page) == PHONE["width"]


def test_a_history_card_names_each_cell(phone, live_server, world, screenshot):
    """As cards the column headers are hidden: a lone "—" or "nobody" needs its label (Outcome, Decided …)."""
    log_in(phone, live_server, "marketer", PASSWORDS["marketer"])
    phone.goto(f"{live_server.url}/history/")
    labels = phone.locator(".history-table tbody").first.locator("td[data-label]")
    shown = labels.evaluate_all("cells => cells.map(cell => getComputedStyle(cell, '::before').content)")
    assert shown == ['"Decision"', '"Outcome"', '"Decided"', '"Reason"', '"Overrides"']
    screenshot(phone, "phone-history-labelled")


def test_the_reports_override_list_keeps_its_changes_readable(phone, live_server, world, screenshot):
    """The list of overrides scrolls in its box on a phone; its "What changed" column stays readable."""
    log_in(phone, live_server, "marketer", PASSWORDS["marketer"])
    phone.goto(f"{live_server.url}/reports/")
    cell = phone.locator(".why-list td.what-changed").first
    expect(cell).to_contain_text("→")
    assert cell.evaluate("cell => cell.getBoundingClientRect().width") >= 250
    assert page_width(phone) == PHONE["width"]
    screenshot(phone, "phone-report-overrides")
