"""The queue by keyboard and screen reader: after Approve, Save, Reject, Cancel or Close focus stays on the row (never
<body>) and base.html's one live region says what happened; the count and the bulk button follow each decision;
the live verdicts update inside their region; the letter keys act only with focus in the list, and can be switched
off for good; Esc closes Edit or Reject even from inside a field.
"""

import re

import pytest
from playwright.sync_api import expect

from decisions.models import Proposal
from tests.browser.conftest import log_in
from tests.browser.test_review import proposal_for
from tests.factories import GuardrailFactory, marketer

PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def patient_expect():
    expect.set_options(timeout=10_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def queue(transactional_db):
    GuardrailFactory(name="Max daily move", kind="max_budget_change_pct", params={"pct": 30}, severity="block")
    proposals = [proposal_for(name, priority=priority) for name, priority in (("Brand", 900), ("Generic", 500))]
    proposals.append(proposal_for("Competitors", priority=100))
    marketer(username="kim", first_name="Kim", last_name="Park")
    return proposals


@pytest.fixture
def reviewer_page(page, live_server, queue):
    log_in(page, live_server, "kim", PASSWORD)
    return page


def row(page, proposal: Proposal):
    return page.locator(f"#proposal-{proposal.pk}")


def press(locator, key: str = "Enter") -> None:
    """Reach a control with the keyboard's focus and press a key on it."""
    locator.focus()
    locator.press(key)


def announcer(page):
    return page.locator("#announcer")


def still_pending(proposal: Proposal) -> bool:
    return Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


# --- focus and the one live region ------------------------------------------------------------------------------


def test_after_approve_focus_stays_on_the_row_and_the_counts_follow(reviewer_page, queue, screenshot):
    page, first = reviewer_page, queue[0]
    expect(page.locator("#queue-count")).to_have_text(re.compile(r"3\s+proposals waiting"))
    expect(page.locator("#bulk-approve summary")).to_have_text("Approve all shown that pass every guardrail (3)")

    press(row(page, first).get_by_role("button", name="Approve", exact=True))
    expect(row(page, first)).to_contain_text("Approved as proposed by Kim Park")
    expect(row(page, first)).to_be_focused()
    expect(announcer(page)).to_have_text(re.compile(r"^Approved: "))
    expect(page.locator("#queue-count")).to_have_text(re.compile(r"2\s+proposals waiting"))
    expect(page.locator("#bulk-approve summary")).to_have_text("Approve all shown that pass every guardrail (2)")
    expect(page.locator("#bulk-approve [name=ids]")).to_have_count(2)
    screenshot(page, "queue-after-approve-by-keyboard")


def test_after_reject_focus_stays_on_the_row(reviewer_page, queue):
    page, target = reviewer_page, queue[1]
    press(row(page, target).get_by_role("button", name="Reject", exact=True))
    first_reason = row(page, target).get_by_role("radio").first
    expect(first_reason).to_be_focused()  # the form that opened, not <body>
    row(page, target).get_by_label("Too risky").check()
    press(row(page, target).get_by_role("button", name="Confirm rejection"))
    expect(row(page, target)).to_contain_text("Rejected by Kim Park")
    expect(row(page, target)).to_be_focused()
    expect(announcer(page)).to_have_text(re.compile(r"^Rejected \(too risky\): "))
    expect(page.locator("#queue-count")).to_have_text(re.compile(r"2\s+proposals waiting"))


def test_after_save_focus_stays_on_the_row_and_the_verdicts_update_in_place(reviewer_page, queue):
    page, target = reviewer_page, queue[2]
    press(row(page, target).get_by_role("button", name="Edit", exact=True))
    budget = row(page, target).get_by_role("spinbutton").first
    expect(budget).to_be_focused()
    verdicts = page.locator(f"#verdicts-{target.pk}")
    expect(verdicts).to_have_attribute("aria-live", "polite")
    verdicts.evaluate("region => { region.dataset.sameRegion = 'yes'; }")
    budget.fill("200")
    expect(verdicts.locator(".badge.block")).to_be_visible()
    budget.fill("110")
    expect(verdicts.locator(".badge.block")).to_have_count(0)
    # The region a screen reader watches is the one that changed: updated inside, never swapped for a new one.
    expect(verdicts).to_have_attribute("data-same-region", "yes")

    press(row(page, target).get_by_role("button", name="Save and approve"))
    expect(row(page, target)).to_contain_text("Edited and approved by Kim Park")
    expect(row(page, target)).to_be_focused()
    expect(announcer(page)).to_have_text(re.compile(r"^Approved with your values: "))


def test_escape_in_a_field_cancels_and_focus_returns_to_the_row(reviewer_page, queue):
    page, target = reviewer_page, queue[0]
    press(row(page, target).get_by_role("button", name="Edit", exact=True))
    budget = row(page, target).get_by_role("spinbutton").first
    expect(budget).to_be_focused()
    budget.press("Escape")
    expect(row(page, target).get_by_role("button", name="Save and approve")).to_have_count(0)
    expect(row(page, target)).to_be_focused()
    expect(announcer(page)).to_have_text("Closed without a decision: the proposal still waits.")

    press(row(page, target).get_by_role("button", name="Reject", exact=True))
    note = row(page, target).get_by_label("Note (optional)")
    note.fill("typing a note")
    note.press("Escape")  # the letters and Esc in a field: Esc still closes
    expect(row(page, target).get_by_role("button", name="Confirm rejection")).to_have_count(0)
    expect(row(page, target)).to_be_focused()
    assert still_pending(target)


def test_closing_the_details_returns_focus_to_their_title(reviewer_page, queue):
    page, target = reviewer_page, queue[0]
    title = row(page, target).locator("[data-detail-toggle]")
    press(title)
    close = page.locator(f"#detail-{target.pk}").get_by_role("button", name="Close")
    press(close)
    expect(page.locator(f"#detail-{target.pk}")).to_be_hidden()
    expect(title).to_be_focused()
    expect(title).to_have_attribute("aria-expanded", "false")
    expect(announcer(page)).to_have_text("Details closed.")


# --- the letter keys: only in the list, and they can be switched off ---------------------------------------------


def test_letters_act_only_with_focus_in_the_queue_list(reviewer_page, queue):
    page, first = reviewer_page, queue[0]
    campaign_filter = page.get_by_label("Campaign")
    campaign_filter.press("a")  # typing in a filter field…
    expect(campaign_filter).to_have_value("a")
    campaign_filter.press("Backspace")  # …and taking it back, so leaving the field filters nothing
    page.get_by_role("heading", name="Review queue").click()  # focus on the page, outside the list
    page.keyboard.press("a")
    page.keyboard.press("r")
    page.wait_for_timeout(500)
    assert still_pending(first)
    expect(row(page, first).get_by_role("button", name="Approve", exact=True)).to_be_visible()

    row(page, first).focus()
    page.keyboard.press("j")
    expect(row(page, queue[1])).to_be_focused()
    page.keyboard.press("a")
    expect(row(page, queue[1])).to_contain_text("Approved as proposed by Kim Park")
    assert still_pending(first)


def test_letters_can_be_switched_off_and_stay_off(reviewer_page, queue, live_server):
    page, first = reviewer_page, queue[0]
    toggle = page.get_by_label("Single-key shortcuts")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    expect(announcer(page)).to_have_text("Single-key shortcuts off.")

    page.reload()
    expect(page.get_by_label("Single-key shortcuts")).not_to_be_checked()  # remembered in this browser
    row(page, first).focus()
    page.keyboard.press("a")
    page.keyboard.press("j")
    page.wait_for_timeout(500)
    assert still_pending(first)
    expect(row(page, first)).to_be_focused()

    page.get_by_role("button", name="Keyboard shortcuts").click()
    help_text = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_text).to_contain_text("only while focus is in the list of proposals")
    expect(help_text).to_contain_text("Switch them off with the Single-key shortcuts box")
    help_text.get_by_role("button", name="Close").click()

    page.get_by_label("Single-key shortcuts").check()
    row(page, first).focus()
    page.keyboard.press("a")
    expect(row(page, first)).to_contain_text("Approved as proposed by Kim Park")
