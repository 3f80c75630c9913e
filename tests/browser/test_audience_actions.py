"""An audience action in Chromium: a marketer narrows the audience with the live re-estimate, approves, and downloads
the customer list the ledger published; a viewer reads the proposal but gets neither buttons nor the list.
Screenshots land in test-artifacts/ (audience-*.png)."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import audiences
from decisions.models import AudienceList, Proposal
from tests.browser.conftest import log_in
from tests.decisions.experiments.audience_support import MENS, audience_proposal, make_test, simulated_customers
from tests.factories import marketer, viewer

PASSWORD = "a-long-browser-password"
SEGMENT = {"age": {"min": 25, "max": 60}, "region": ["North", "South"]}


@pytest.fixture
def proposal(transactional_db) -> Proposal:
    make_test(simulated_customers(1500, seed=3, uplift_in=3.0))
    return audience_proposal(SEGMENT)


def _user(factory, username):
    user = factory(username=username)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.parametrize("width", [1440, 390])
def test_a_marketer_narrows_approves_and_downloads_the_list(browser, live_server, proposal, screenshot, width):
    _user(marketer, "maya")
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "maya", PASSWORD)
    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    row = page.locator(f"#proposal-{proposal.pk}")
    expect(row).to_contain_text("Send Mens e-mail to")

    row.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_label("Audience: age from (at least)").fill("30")
    page.get_by_label("Audience: age to (under)").fill("50")
    expect(page.get_by_text("Re-estimated from the test's customers")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"audience-edit-{width}")
    page.get_by_role("button", name="Save and approve").click()
    expect(row).to_contain_text("Edited and approved")

    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    expect(page.get_by_role("heading", name="Customer list")).to_be_visible()
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(downloaded.value.path()).read_text())))
    published = AudienceList.objects.get(proposal=proposal)
    narrowed = {"age": {"min": 30, "max": 50}, "region": ["North", "South"]}
    assert published.segment == audiences.canonical(narrowed)
    assert [r["customer_id"] for r in rows] == audiences.members(published.experiment, narrowed)[0]
    assert {r["action"] for r in rows} == {MENS} and len(rows) > 100
    screenshot(page, f"audience-applied-{width}")
    context.close()


def test_a_viewer_reads_the_proposal_without_buttons_or_the_list(page, live_server, proposal, screenshot):
    _user(viewer, "vic")
    log_in(page, live_server, "vic", PASSWORD)
    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    expect(page.locator(f"#proposal-{proposal.pk}")).to_contain_text("Send Mens e-mail to")
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    screenshot(page, "audience-viewer")
