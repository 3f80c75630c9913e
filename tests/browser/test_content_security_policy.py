"""htmx and Chart.js work under the Content-Security-Policy, and the browser reports no violation.

A marketer opens a proposal inline (htmx), sees its charts drawn, approves it (htmx), filters the History
(htmx) and reads the weekly report's charts, while the page records every `securitypolicyviolation`.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_review import proposal_for
from tests.factories import GuardrailFactory, marketer

PASSWORD = "pw-for-tests-1"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations (an init script runs before the page's own, outside its policy)."""
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    yield page, console
    assert [line for line in console if "Content Security Policy" in line] == []


def violations(page) -> list[str]:
    return page.evaluate("window.cspViolations")


def display_of(page, selector: str) -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).display")


def test_htmx_and_the_charts_work_under_the_policy(watched, live_server, transactional_db, screenshot):
    page, _ = watched
    GuardrailFactory(name="Max daily move", kind="max_budget_change_pct", params={"pct": 30}, severity="block")
    proposal = proposal_for("Search – Brand", priority=900)
    marketer(username="maya", first_name="Maya", last_name="Lind")

    response = page.goto(f"{live_server.url}/login/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    log_in(page, live_server, "maya", PASSWORD)

    row = page.locator(f"#proposal-{proposal.pk}")
    row.get_by_role("link", name="Raise Search – Brand’s daily budget by $20.00").click()
    detail = page.locator(f"#detail-{proposal.pk}")
    expect(detail.locator('canvas[data-chart="curve"][data-drawn]')).to_have_count(1)
    row.get_by_role("button", name="Approve", exact=True).click()
    expect(row).to_contain_text("Approved as proposed by Maya Lind")
    assert violations(page) == []

    page.goto(f"{live_server.url}/history/")
    listed = page.locator(f"#proposal-{proposal.pk}")
    expect(listed).to_be_visible()
    page.locator("#id_decision").select_option(label="Rejected")  # htmx redraws the results
    expect(listed).to_have_count(0)
    page.locator("#id_decision").select_option(label="Approved as proposed")
    expect(listed).to_be_visible()
    assert display_of(page, ".history-summary") == "flex"  # the page's styles moved to waypoint.css still apply
    screenshot(page, "history-under-csp")
    assert violations(page) == []

    page.goto(f"{live_server.url}/reports/")
    assert display_of(page, ".tiles") == "grid"
    for chart in ("chart-trend", "chart-decisions", "chart-rates"):
        expect(page.locator(f"#{chart}")).to_be_visible()
        assert page.evaluate(f"Boolean(Chart.getChart(document.getElementById('{chart}')))"), chart
    screenshot(page, "reports-under-csp")
    assert violations(page) == []
