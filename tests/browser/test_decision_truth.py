"""A reviewer edits a budget shift in the browser: the form says, as they type, what their values change and
should bring; once saved, the row, the proposal page and History show their values beside the machine's."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import marketer, shift_with_curves

PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def patient_expect():
    # The live check waits 300 ms before it asks the server; a busy machine needs longer than 5 s at times.
    expect.set_options(timeout=10_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def shift(transactional_db):
    return shift_with_curves()


@pytest.mark.parametrize("width", [1440, 390])
def test_an_edit_is_explained_as_it_is_typed_and_shown_after_it_is_saved(
    browser, live_server, screenshot, shift, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    marketer(username="maya", first_name="Maya", last_name="Lind")
    log_in(page, live_server, "maya", PASSWORD)
    row = page.locator(f"#proposal-{shift.pk}")
    row.get_by_role("button", name="Edit", exact=True).click()

    giver = row.get_by_label("Display – Prospecting: daily budget")
    expect(row.get_by_text("Now $143 · the engine proposes $123")).to_be_visible()
    live = page.locator(f"#verdicts-{shift.pk}")
    expect(live).to_contain_text("Net daily budget change: budget-neutral, as the engine proposed")
    # htmx wires the new panel's inputs as it settles the swap; typing before that would go unheard.
    page.wait_for_function("document.querySelectorAll('.htmx-settling, .htmx-added, .htmx-request').length === 0")
    giver.fill("113")
    expect(live).to_contain_text("Net daily budget change: −$10.00/day (the engine's version: budget-neutral)")
    expect(live).to_contain_text("Re-estimated for your values: +$210/week")
    expect(live).to_contain_text("the engine's version: +$280/week, P(loss) 5%")
    screenshot(page, f"edit-live-estimate-{width}")

    giver.blur()  # on a phone the keyboard is put away before Save is tapped
    row.get_by_role("button", name="Save and approve").click()
    expect(row).to_contain_text("Edited and approved by Maya Lind")
    expect(row).to_contain_text("$143 → $113 (proposed $123)")
    expect(row).to_contain_text("re-estimated for the reviewer's values")
    expect(row.locator(".impact strong")).to_have_text("+$210")
    screenshot(page, f"row-after-edit-{width}")

    page.goto(f"{live_server.url}/proposals/{shift.pk}/")
    expect(page.locator("table.queue")).to_contain_text("(proposed $123)")
    expect(page.locator(".timeline-diff")).to_contain_text("Display – Prospecting")
    screenshot(page, f"proposal-after-edit-{width}")

    page.goto(f"{live_server.url}/history/")
    expect(page.locator(f"#proposal-{shift.pk}")).to_contain_text("Display – Prospecting: $143 → $113 (proposed $123)")
    expect(page.locator(f"#proposal-{shift.pk}")).to_contain_text("Re-estimated for the reviewer's values: +$210/week")
    screenshot(page, f"history-after-edit-{width}")
    context.close()
