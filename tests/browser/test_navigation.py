"""Findable and honest: Runs and Auto-approval in the menu of every page; while auto-approval is on, the top bar says
so and its kill switch is one click away, on a laptop and on a phone; refused and missing pages keep the site's
navigation; a failed import reads as failed, not as a progress bar at 99%.
"""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from objectives import services as objective_services
from objectives.models import AutoApprovalPolicy
from tests.browser.conftest import log_in
from tests.browser.demo import PASSWORDS, demo_world, failed_import

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(transactional_db):
    demo_world()


@pytest.fixture
def at_width(browser):
    contexts = []

    def open_page(viewport: dict):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def menu(page):
    return page.get_by_role("navigation", name="Main")


def test_runs_and_auto_approval_are_in_the_menu_of_every_page(page, live_server, world):
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    page.goto(f"{live_server.url}/history/")
    menu(page).get_by_role("link", name="Runs").click()
    page.wait_for_url(f"{live_server.url}/runs/")
    expect(menu(page).get_by_role("link", name="Runs")).to_have_attribute("aria-current", "page")
    menu(page).get_by_role("link", name="Auto-approval").click()
    page.wait_for_url(f"{live_server.url}/auto-approval/")
    expect(page.get_by_role("heading", name="Auto-approval", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Auto-approval on")).to_have_count(0)  # off: nothing to announce


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_kill_switch_is_one_click_from_any_page(at_width, live_server, world, viewport, screenshot):
    admin = get_user_model().objects.get(username="admin")
    objective_services.auto_approval_update(actor=admin, reason="small moves only", is_enabled=True)
    page = at_width(viewport)
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    page.goto(f"{live_server.url}/reports/")
    badge = page.get_by_role("link", name="Auto-approval on")
    expect(badge).to_be_visible()  # on a phone too: outside the collapsed menu
    screenshot(page, f"auto-approval-on-badge-{viewport['width']}")
    badge.click()
    page.wait_for_url(f"{live_server.url}/auto-approval/#kill-switch")
    stop = page.get_by_role("button", name="Turn auto-approval off now")
    expect(stop).to_be_in_viewport()
    stop.click()
    expect(page.get_by_text("Auto-approval is off. Every proposal now waits for a person.")).to_be_visible()
    expect(page.get_by_role("link", name="Auto-approval on")).to_have_count(0)
    assert AutoApprovalPolicy.objects.get().is_enabled is False


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_refused_and_missing_pages_keep_the_navigation(at_width, live_server, world, viewport, screenshot):
    page = at_width(viewport)
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])

    response = page.goto(f"{live_server.url}/guardrails/new/")  # a guardrail admin's page
    assert response.status == 403
    expect(page.get_by_role("heading", name="You cannot do this with your role")).to_be_visible()
    expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"  # styled
    screenshot(page, f"error-403-{viewport['width']}")

    response = page.goto(f"{live_server.url}/proposals/999999/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="There is nothing at this address")).to_be_visible()
    screenshot(page, f"error-404-{viewport['width']}")
    if viewport is PHONE:
        page.locator("summary", has_text="Menu").click()
    menu(page).get_by_role("link", name="Queue").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]


def test_a_failed_import_reads_as_failed(page, live_server, world, screenshot):
    log_in(page, live_server, "admin", PASSWORDS["admin"])
    page.goto(f"{live_server.url}/data/imports/{failed_import().pk}/")
    status = page.locator("#run-status")
    expect(status).to_contain_text("Import failed")
    expect(status).to_contain_text("Nothing was written.")
    expect(status.get_by_role("progressbar")).to_have_count(0)  # not a bar stuck short of the end
    expect(status.get_by_role("listitem").first).to_contain_text("line 2")
    screenshot(page, "import-failed")
