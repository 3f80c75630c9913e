"""The experiment page in Chromium: a marketer on a phone renames an action and the page says its new name; a viewer
reads the audiences but has nothing to save. Screenshots land in test-artifacts/ (experiment-*.png)."""

import io

import pytest
from playwright.sync_api import expect

from decisions.data import experiments
from decisions.engine import uplift
from decisions.experiments import analysing
from tests.browser.conftest import log_in
from tests.decisions.experiments.files import simulated_csv
from tests.factories import marketer, viewer

PASSWORD = "a-long-browser-password"


@pytest.fixture
def experiment(transactional_db):
    outcome = experiments.import_experiment(
        stream=io.BytesIO(simulated_csv(n=1200, seed=5)), filename="t.csv", name="Spring test", control="No e-mail"
    )
    settings = uplift.Settings(bootstrap=50, min_leaf_customers=100)
    return analysing.experiment_analyse(experiment_id=outcome.experiment_id, settings=settings)


def _user(factory, username):
    user = factory(username=username)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_a_marketer_on_a_phone_renames_an_action(browser, live_server, experiment, screenshot):
    _user(marketer, "maya")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server, "maya", PASSWORD)
    page.goto(f"{live_server.url}/experiments/{experiment.pk}/")
    expect(page.get_by_role("heading", name="Audiences")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    form = page.locator("form.action-form").filter(has_text="Discount 20%")
    form.get_by_label("Name").fill("Come-back discount")
    form.get_by_label("Subject line (optional)").fill("20% off, this week only")
    form.get_by_role("button", name="Save Discount 20%").click()
    expect(page.get_by_text("Saved the action Come-back discount.")).to_be_visible()
    expect(page.get_by_role("cell", name="Come-back discount").first).to_be_visible()
    screenshot(page, "experiment-phone-marketer")
    context.close()


def test_a_viewer_reads_the_audiences_and_cannot_edit(page, live_server, experiment, screenshot):
    _user(viewer, "vic")
    log_in(page, live_server, "vic", PASSWORD)
    page.goto(f"{live_server.url}/experiments/")
    page.get_by_role("link", name="Spring test").click()
    expect(page.get_by_role("heading", name="Randomisation check")).to_be_visible()
    expect(page.locator("article.audience").first).to_be_visible()
    expect(page.get_by_role("button", name="Save Discount 20%")).to_have_count(0)
    screenshot(page, "experiment-viewer")
