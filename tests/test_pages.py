"""Every page needs a login and renders for every role."""

import pytest
from django.urls import reverse

from decisions import audit
from tests.factories import CampaignFactory, DailyMetricFactory, GuardrailFactory, ObjectiveFactory, viewer

pytestmark = pytest.mark.django_db

PAGES = [
    "decisions:queue",
    "decisions:history",
    "decisions:reports",
    "decisions:data",
    "decisions:experiments",
    "objectives:guardrails",
    "objectives:objectives",
]


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_a_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_for_a_viewer(client, name):
    client.force_login(viewer())
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b'aria-current="page"' in response.content


def test_the_login_page_is_public(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to Waypoint" in response.content


def test_the_data_page_shows_each_campaign_with_its_latest_day(client, django_assert_max_num_queries):
    campaign = CampaignFactory(name="LinkedIn ABM")
    DailyMetricFactory(campaign=campaign, pipeline_value=111)
    DailyMetricFactory(campaign=campaign, pipeline_value=None)
    for _ in range(5):
        DailyMetricFactory()
    client.force_login(viewer())
    # One more than before data health: its newest check (campaign names come from the list already read).
    with django_assert_max_num_queries(9):
        response = client.get(reverse("decisions:data"))
    assert b"LinkedIn ABM" in response.content
    assert b"unknown" in response.content  # the latest pipeline is NULL, shown as unknown, not 0


def test_the_history_page_lists_audit_events(client):
    audit.record(action="role.granted", human_payload={"user": "x"})
    client.force_login(viewer())
    response = client.get(reverse("decisions:history"))
    assert b"role.granted" in response.content


def test_guardrails_and_objective_pages_show_the_policy(client):
    GuardrailFactory(name="Cap daily moves", params={"pct": 20})
    ObjectiveFactory(metric="platform_revenue")
    client.force_login(viewer())
    assert b"Cap daily moves" in client.get(reverse("objectives:guardrails")).content
    assert b"Vanity metric" in client.get(reverse("objectives:objectives")).content


def test_logging_out_needs_a_post(client):
    client.force_login(viewer())
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
