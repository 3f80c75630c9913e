"""A marketer works the review queue in a real browser; a viewer reads it; two reviewers race for one proposal."""

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from decisions.models import Proposal, Review
from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, DailyMetricFactory, GuardrailFactory, ProposalFactory, marketer, viewer

PASSWORD = "pw-for-tests-1"


def curve(external_id: str, name: str, spend_from: float, spend_to: float) -> dict:
    """A saturating response curve with a widening band, as the engine stores it."""
    spends = [round(i * 300 / 24, 2) for i in range(25)]
    value = [round(9 * s / (s + 110), 2) for s in spends]
    width = [0.4 + 0.01 * s for s in spends]
    return {
        "campaign": external_id,
        "name": name,
        "spend": spends,
        "value": value,
        "low": [round(max(v - w, 0), 2) for v, w in zip(value, width, strict=True)],
        "high": [round(v + w, 2) for v, w in zip(value, width, strict=True)],
        "from": spend_from,
        "to": spend_to,
        "seen": [40.0, 180.0],
        "marginal": 0.031,
        "marginal_interval": [0.02, 0.04],
    }


def proposal_for(name: str, *, priority: float, to: float = 120.0) -> Proposal:
    campaign = CampaignFactory(name=name, channel="search")
    today = timezone.localdate()
    for days_ago in range(35):
        wave = 1 + 0.25 * math.sin(days_ago / 3)
        DailyMetricFactory(
            campaign=campaign,
            date=today - dt.timedelta(days=days_ago),
            spend=Decimal("100.00"),
            pipeline_value=Decimal(str(round(760 * wave, 2))),
            platform_revenue=Decimal(str(round(520 / wave, 2))),
        )
    return ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
        rationale=f"{name} returns $3.10 pipeline per extra dollar at today's spend; the curve is still steep.",
        evidence={"level": 0.8, "curves": [curve(campaign.external_id, name, 100.0, to)]},
        platform_view={
            "summary": f"Platform ROAS agrees: {name} 5.2× vs the portfolio's 3.9×.",
            "disagrees": False,
            "campaigns": [{"campaign": campaign.external_id, "platform_roas": 5.2, "objective_per_spend": 7.6}],
        },
        guardrail_verdicts=[
            {
                "name": "Max daily move",
                "kind": "max_budget_change_pct",
                "severity": "block",
                "passed": True,
                "message": "Moves the budget by 20% (limit 30%).",
            }
        ],
        priority=priority,
        expires_at=timezone.now() + dt.timedelta(hours=70),
    )


@pytest.fixture(autouse=True)
def patient_expect():
    # Live checks wait 300 ms before asking the server; a busy CI machine needs more than 5 s at times.
    expect.set_options(timeout=10_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def queue(transactional_db):
    GuardrailFactory(name="Max daily move", kind="max_budget_change_pct", params={"pct": 30}, severity="block")
    return {
        "approve": proposal_for("Search – Brand", priority=900),
        "edit": proposal_for("Search – Competitors", priority=500),
        "reject": proposal_for("Search – Generic", priority=100),
    }


def row(page, proposal: Proposal):
    return page.locator(f"#proposal-{proposal.pk}")


def test_a_marketer_approves_edits_and_rejects(page, live_server, screenshot, queue):
    marketer(username="maya", first_name="Maya", last_name="Lind")
    log_in(page, live_server, "maya", PASSWORD)
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    screenshot(page, "queue")

    # The details open inline, charts drawn from the stored curve and the last 28 days.
    first = row(page, queue["approve"])
    first.get_by_role("link", name="Raise Search – Brand’s daily budget by $20.00").click()
    detail = page.locator(f"#detail-{queue['approve'].pk}")
    expect(detail.get_by_role("heading", name="Audit timeline")).to_be_visible()
    expect(detail.locator('canvas[data-chart="curve"][data-drawn]')).to_have_count(1)
    expect(detail.locator('canvas[data-chart="trend"][data-drawn]')).to_have_count(1)
    screenshot(page, "proposal-detail")

    first.get_by_role("button", name="Approve", exact=True).click()
    expect(first).to_contain_text("Approved as proposed by Maya Lind")
    expect(first.get_by_role("button", name="Approve", exact=True)).to_have_count(0)

    editing = row(page, queue["edit"])
    editing.get_by_role("button", name="Edit", exact=True).click()
    budget = editing.get_by_label("Search – Competitors: daily budget")
    expect(budget).to_be_focused()  # focused by queue.js once htmx has wired the live check
    budget.fill("200")
    verdicts = page.locator(f"#verdicts-{queue['edit'].pk}")
    expect(verdicts.locator(".badge.block")).to_be_visible()  # shown live, before saving
    expect(verdicts).to_contain_text("only a guardrail admin")
    budget.fill("125")
    expect(verdicts.locator(".badge.block")).to_have_count(0)
    expect(verdicts.locator(".badge.pass")).to_be_visible()
    editing.get_by_role("button", name="Save and approve").click()
    expect(editing).to_contain_text("Edited and approved by Maya Lind")

    rejecting = row(page, queue["reject"])
    rejecting.get_by_role("button", name="Reject", exact=True).click()
    rejecting.get_by_label("Too risky").check()
    rejecting.get_by_label("Note (optional)").fill("Wait for the pricing change")
    rejecting.get_by_role("button", name="Confirm rejection").click()
    expect(rejecting).to_contain_text("Rejected by Maya Lind")

    reviews = {r.proposal_id: r for r in Review.objects.all()}
    assert reviews[queue["approve"].pk].decision == Review.Decision.APPROVED
    assert reviews[queue["edit"].pk].decision == Review.Decision.EDITED
    assert reviews[queue["edit"].pk].final_changes[0]["to"] == 125.0
    assert (reviews[queue["reject"].pk].reason_code, reviews[queue["reject"].pk].note) == (
        "too_risky",
        "Wait for the pricing change",
    )


def test_the_keyboard_moves_and_approves(page, live_server, queue):
    marketer(username="kai")
    log_in(page, live_server, "kai", PASSWORD)
    row(page, queue["approve"]).focus()  # the letters act only with focus in the list of proposals
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(row(page, queue["edit"])).to_contain_text("Approved as proposed by kai")
    assert Proposal.objects.get(pk=queue["approve"].pk).status == Proposal.Status.PENDING


def test_a_viewer_sees_no_decision_buttons(page, live_server, queue):
    viewer(username="vic")
    log_in(page, live_server, "vic", PASSWORD)
    expect(page.locator("tbody.proposal")).to_have_count(3)
    for name in ("Approve", "Edit", "Reject"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)


def test_the_second_of_two_reviewers_sees_who_decided(browser, live_server, queue):
    marketer(username="ann", first_name="Ann", last_name="Lee")
    marketer(username="bob")
    pages = []
    for username in ("ann", "bob"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, live_server, username, PASSWORD)
        pages.append(page)
    ann, bob = pages
    target = queue["approve"]
    row(ann, target).get_by_role("button", name="Approve", exact=True).click()
    expect(row(ann, target)).to_contain_text("Approved as proposed by Ann Lee")

    # Bob's page still shows the buttons from before Ann decided.
    row(bob, target).get_by_role("button", name="Approve", exact=True).click()
    expect(row(bob, target)).to_contain_text("Already approved by Ann Lee (ann) at")
    expect(row(bob, target).get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    assert Review.objects.filter(proposal=target).count() == 1
    for page in pages:
        page.context.close()
