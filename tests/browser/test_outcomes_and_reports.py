"""Outcomes in plain sight, one set of numbers, auto-approval you can see, and a report a leader can use — in
Chromium, under the site's Content-Security-Policy, at 1440 px and on a 390 px phone. Screenshots land in
test-artifacts/ (outcomes-*.png, report-*.png, auto-approval-*.png, campaign-*.png).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from decisions import audit
from decisions.delivery import outbox as applying
from decisions.models import Application, GenerationRun, Outcome, Proposal
from decisions.review import transitions as reviewing
from tests.browser.conftest import log_in
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS
from tests.decisions.review.test_autoapproval import small_change
from tests.factories import (
    CampaignFactory,
    DailyMetricFactory,
    GenerationRunFactory,
    GuardrailFactory,
    ProposalFactory,
    guardrail_admin,
    marketer,
    viewer,
)

PASSWORD = "pw-for-tests-1"
WIDE = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def open_page(browser):
    """A page at a given width that records CSP violations; none may happen."""
    contexts = []

    def make(viewport=WIDE):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.add_init_script(RECORD_VIOLATIONS)
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            assert page.evaluate("window.cspViolations || []") == []
        context.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def a_measured_week():
    """Ten days of figures, an applied change measured below its interval, a rejection, a warning approved."""
    maya = marketer(username="maya")
    search = CampaignFactory(external_id="C-search", name="Search – Brand", channel="search")
    display = CampaignFactory(external_id="C-display", name="Display – Retargeting", channel="display")
    today = timezone.localdate()
    for campaign in (search, display):
        for day in range(10):
            DailyMetricFactory(campaign=campaign, date=today - dt.timedelta(days=10 - day))
    applied = ProposalFactory(
        campaign=search, changes=[{"campaign": "C-search", "field": "daily_budget", "from": 100.0, "to": 120.0}]
    )
    rejected = ProposalFactory(
        campaign=display, changes=[{"campaign": "C-display", "field": "daily_budget", "from": 100.0, "to": 130.0}]
    )
    for proposal in (applied, rejected):
        audit.record(action="proposal.created", label="engine", proposal=proposal)
    reviewing.proposal_approve(proposal=applied, actor=maya)
    applying.application_apply(application_id=Application.objects.get(proposal=applied).pk)
    reviewing.proposal_reject(proposal=rejected, actor=maya, reason_code="strategy", note="Brand week")
    window = {
        "days": 14,
        "window_start": today - dt.timedelta(days=14),
        "window_end": today,
        "metric": "pipeline_value",
    }
    interval = {"expected_low": 300.0, "expected_mean": 700.0, "expected_high": 1100.0}
    Outcome.objects.create(proposal=applied, realised=-513.0, verdict="below", **interval, **window)
    Outcome.objects.create(proposal=rejected, machine_estimate=929.0, human_estimate=0.0, **interval, **window)
    GuardrailFactory(name="Display cap", severity="warn", params={"pct": 10}, scope={"channel": "display"})
    warned = ProposalFactory(
        campaign=display, changes=[{"campaign": "C-display", "field": "daily_budget", "from": 100.0, "to": 125.0}]
    )
    audit.record(action="proposal.created", label="engine", proposal=warned)
    reviewing.proposal_approve(proposal=warned, actor=maya, confirm_warnings=True)
    waiting = ProposalFactory(campaign=search)  # still pending
    audit.record(action="proposal.created", label="engine", proposal=waiting)
    viewer(username="lee")
    return {"applied": applied, "rejected": rejected, "warned": warned, "search": search}


def test_outcomes_show_on_history_the_proposal_and_the_campaign_page(
    open_page, live_server, transactional_db, screenshot
):
    world = a_measured_week()
    page = open_page()
    log_in(page, live_server, "lee", PASSWORD)

    page.goto(f"{live_server.url}/history/")
    row = page.locator(f"#proposal-{world['applied'].pk}")
    expect(row.locator(".badge.verdict-below")).to_have_text("below")
    expect(row).to_contain_text("−$513/week")
    summary = page.locator("#history-counts")
    expect(summary).to_contain_text("3 proposals out of the queue")
    expect(summary).to_contain_text("of the 3 decisions overridden")
    expect(summary).to_contain_text("still pending")
    page.locator(f"#proposal-{world['applied'].pk} + tr.timeline-row summary").click()
    expect(
        page.locator(f"#proposal-{world['applied'].pk} + tr.timeline-row .timeline-event.is-outcome")
    ).to_contain_text("Outcome: −$513/week realised, below its interval")
    screenshot(page, "outcomes-history")

    page.locator("select#id_channel").select_option("display")
    expect(page.locator(f"#proposal-{world['applied'].pk}")).to_have_count(0)
    expect(page.locator(f"#proposal-{world['rejected'].pk}")).to_be_visible()
    assert "channel=display" in page.url

    page.goto(f"{live_server.url}{reverse('decisions:proposal', args=[world['applied'].pk])}")
    card = page.locator('section[aria-labelledby="outcome-title"]')
    expect(card).to_contain_text("below its interval (worse than expected) (+$300 to +$1,100")
    expect(card).to_contain_text("One 14-day outcome is noisy")
    screenshot(page, "outcomes-proposal")

    page.goto(f"{live_server.url}/data/")
    page.get_by_role("link", name="Search – Brand").click()
    expect(page.get_by_role("heading", name=re.compile("Search – Brand"))).to_be_visible()
    expect(page.locator("#campaign-canvas")).to_be_visible()
    # The chart's scripts run at the end of the body, after the canvas is already visible.
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('campaign-canvas')) !== undefined")
    changes = page.get_by_role("table").filter(has_text="Change to this campaign")
    expect(changes.locator(f"#proposal-{world['applied'].pk}")).to_contain_text("$100 → $120")
    screenshot(page, "campaign-page")

    phone = open_page(PHONE)
    log_in(phone, live_server, "lee", PASSWORD)
    for path in ("/history/", f"/campaigns/{world['search'].external_id}/"):
        phone.goto(f"{live_server.url}{path}")
        assert no_sideways_scroll(phone), path
    screenshot(phone, "campaign-page-phone")


def test_a_leader_reads_the_report_downloads_its_csv_and_prints_it(
    open_page, live_server, transactional_db, screenshot
):
    world = a_measured_week()
    page = open_page()
    log_in(page, live_server, "lee", PASSWORD)
    page.goto(f"{live_server.url}/reports/")

    tiles = page.get_by_role("region", name="The week in numbers, against last week")
    expect(tiles.locator('[data-tile="decisions"]')).to_contain_text("+3 vs last week (was 0)")
    expect(tiles.locator('[data-tile="override_rate"]')).to_contain_text("too few to read as a rate")
    adds_up = page.locator('section[aria-labelledby="adds-up"]')
    expect(adds_up).to_contain_text(
        "are now, whenever that happened: 3 decided + 0 expired unreviewed + 0 superseded by a newer proposal "
        "+ 1 still pending"
    )
    money = page.locator('section[aria-labelledby="money"]')
    expect(money).to_contain_text("+$929/week")
    why = page.locator('section[aria-labelledby="why"]')
    expect(why.locator("tr", has_text=f"#{world['warned'].pk}")).to_contain_text("Warning confirmed (Display cap")
    expect(why.locator("tr", has_text=f"#{world['rejected'].pk}")).to_contain_text("Rejected: Strategy — Brand week")
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # reports.js shows it
    screenshot(page, "report-page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV (one row per decision)").click()
    with open(download.value.path(), encoding="utf-8") as downloaded:
        lines = downloaded.read().splitlines()
    assert lines[0].startswith("week,proposal_id,proposal_url,decided_at,decision")
    assert len(lines) == 1 + 3

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("#subscription")).to_be_hidden()
    screenshot(page, "report-print")
    page.emulate_media(media="screen")

    phone = open_page(PHONE)
    log_in(phone, live_server, "lee", PASSWORD)
    phone.goto(f"{live_server.url}/reports/")
    screenshot(phone, "report-page-phone")


def test_an_admin_previews_then_turns_auto_approval_on_and_sees_what_it_approved(
    open_page, live_server, transactional_db, screenshot
):
    run = GenerationRunFactory(status=GenerationRun.Status.SUCCEEDED)
    small = small_change(CampaignFactory(name="Search – Generic"), pct=4, expected_mean=300.0, run=run)
    big = small_change(CampaignFactory(name="Display – Prospecting"), pct=30)
    guardrail_admin(username="ada")
    page = open_page()
    log_in(page, live_server, "ada", PASSWORD)
    page.goto(f"{live_server.url}/auto-approval/")

    page.get_by_label("Let the policy approve qualifying proposals").check()
    page.get_by_label("Largest budget move").fill("5")
    page.get_by_label("Highest P(loss)").fill("0.05")
    page.get_by_label("Budget change").check()
    page.get_by_label("Reason for this change (required)").fill("Pilot on small moves")
    page.get_by_role("button", name=re.compile("Save policy")).click()
    preview = page.locator('section[aria-labelledby="preview-title"]')
    expect(preview).to_contain_text("With these limits it would approve 1 of the 2 pending proposals, worth +$300/week")
    expect(preview).to_contain_text("Over the last 30 days it would have approved 1 of the 2 proposals")
    screenshot(page, "auto-approval-preview")

    preview.get_by_role("button", name="Confirm: turn on with these limits").click()
    expect(page.get_by_role("status")).to_contain_text("it now considers the pending proposals too")
    recent = page.locator('section[aria-labelledby="recent-title"]')
    expect(recent.get_by_role("link", name=f"#{small.pk}")).to_be_visible()
    expect(recent).to_contain_text("policy v2")
    assert Proposal.objects.get(pk=big.pk).status == Proposal.Status.PENDING
    screenshot(page, "auto-approval-on")

    page.goto(f"{live_server.url}/runs/")
    expect(page.get_by_role("row", name=re.compile(f"#{run.pk}"))).to_contain_text("1")
    page.goto(f"{live_server.url}/history/?reviewer=policy")
    expect(page.locator(f"#proposal-{small.pk}")).to_contain_text("policy v2")
