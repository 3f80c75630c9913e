from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, DailyMetricFactory, viewer


def test_a_viewer_logs_in_and_finds_the_data_page(page, live_server, screenshot):
    campaign = CampaignFactory(name="LinkedIn ABM", channel="linkedin")
    DailyMetricFactory(campaign=campaign)
    viewer(username="vic")
    log_in(page, live_server, "vic", "pw-for-tests-1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.wait_for_url(f"{live_server.url}/data/")
    assert page.get_by_role("cell", name="LinkedIn ABM C").is_visible()
    screenshot(page, "data-page")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/login/")
