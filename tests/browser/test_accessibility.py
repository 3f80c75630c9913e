"""axe-core 4.14 (WCAG 2.1 A and AA, and best practice) finds nothing moderate, serious or critical on any page,
for a marketer and for a guardrail admin, nor on the login page, nor with a proposal's details and its edit form open.

axe-core is vendored from the npm registry (`npm pack axe-core@4.14`, static/vendor/axe-4.14.1.min.js) for these
tests alone: no template loads it, so users' pages never do. The test adds it to the page under test as a script
from Waypoint's own origin, which the Content-Security-Policy allows.
"""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.colours import contrast
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.demo import PASSWORDS, demo_world, pending_proposal, site_pages

AXE = "/static/vendor/axe-4.14.1.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
NOT_ALLOWED = {"serious", "critical"}
# Every page as it opens: moderate findings too (heading order, unique landmarks, a level-one heading).
NOT_ALLOWED_ON_PAGES = NOT_ALLOWED | {"moderate"}
RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(results => results.violations)"""
# Every id an aria-describedby, aria-labelledby or aria-controls names must exist on the page.
MISSING_IDREFS = """() => {
  const missing = [];
  for (const attribute of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      for (const id of element.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(`${element.tagName.toLowerCase()}[${attribute}=${id}]`);
      }
    }
  }
  return missing;
}"""


@pytest.fixture
def world(transactional_db):
    demo_world()


def findings(page, live_server, name: str, impacts: set[str] = NOT_ALLOWED) -> list[str]:
    """The findings of these impacts on the page as it is now (every finding is kept in test-artifacts/)."""
    page.add_script_tag(url=f"{live_server.url}{AXE}")
    violations = page.evaluate(RUN_AXE, TAGS)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=1))
    found = [
        f"{name}: {v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
        for v in violations
        if v["impact"] in impacts
        for node in v["nodes"]
    ]
    found += [f"{name}: no element with the id in {ref}" for ref in page.evaluate(MISSING_IDREFS)]
    return found


def test_the_login_page_has_no_finding_above_minor(page, live_server, transactional_db):
    page.goto(f"{live_server.url}/login/")
    assert findings(page, live_server, "login", NOT_ALLOWED_ON_PAGES) == []


@pytest.mark.parametrize("username", ["marketer", "admin"])
def test_no_page_has_a_finding_above_minor(page, live_server, world, username):
    log_in(page, live_server, username, PASSWORDS[username])
    found = []
    for name, path in site_pages(username).items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, (name, response.status)
        page.wait_for_load_state("networkidle")  # the backtest and the charts arrive by htmx
        found += findings(page, live_server, f"{username}-{name}", NOT_ALLOWED_ON_PAGES)
    assert found == []


def test_a_proposal_with_its_details_and_edit_form_open_has_no_finding_above_minor(page, live_server, world):
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    row = page.locator(f"#proposal-{pending_proposal().pk}")
    row.locator("[data-detail-toggle]").click()
    expect(row.locator("canvas[data-drawn]").first).to_be_visible()
    row.get_by_role("button", name="Edit", exact=True).click()
    expect(row.get_by_role("button", name="Save and approve")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert findings(page, live_server, "marketer-queue-editing", NOT_ALLOWED_ON_PAGES) == []


# --- what axe does not measure: the focus ring on the dark top bar, and the edges of fields (WCAG 1.4.11) ---

OUTLINE_AND_BAR = (
    "link => [getComputedStyle(link).outlineColor, getComputedStyle(link.closest('.topbar')).backgroundColor]"
)
EDGE_AND_CARD = (
    "field => [getComputedStyle(field).borderTopColor, getComputedStyle(field.closest('.card')).backgroundColor]"
)
NON_TEXT = 3.0


def test_the_top_bars_focus_ring_and_the_fields_edges_can_be_seen(page, live_server, world):
    log_in(page, live_server, "marketer", PASSWORDS["marketer"])
    page.keyboard.press("Tab")  # "Skip to content"
    page.keyboard.press("Tab")  # the brand link, first in the top bar
    focused = page.locator(".topbar a:focus-visible")
    expect(focused).to_have_count(1)
    ring, bar = focused.evaluate(OUTLINE_AND_BAR)
    assert contrast(ring, bar) >= NON_TEXT, (ring, bar)

    field = page.get_by_role("searchbox").or_(page.get_by_label("Campaign")).first
    edge, behind = field.evaluate(EDGE_AND_CARD)
    assert contrast(edge, behind) >= NON_TEXT, (edge, behind)
