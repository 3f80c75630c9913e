"""The report page, its week picker, and opting in or out of the weekly email."""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from decisions.models import ReportSubscription
from decisions.reports import weekly as reports
from tests.decisions.reports.test_reports import script_week
from tests.factories import UserFactory, marketer, viewer

pytestmark = pytest.mark.django_db
URL = reverse("decisions:reports")
SUBSCRIBE = reverse("decisions:report-subscription")


@pytest.fixture
def reader(client) -> User:
    user = viewer()
    client.force_login(user)
    return user


def test_the_page_shows_the_weeks_figures_and_chart_data(client, reader):
    scripted = script_week()
    response = client.get(URL, {"week": scripted.week})
    assert response.status_code == 200
    html = response.content.decode()
    assert "75%" in html  # the override rate, 6 of 8 decisions
    assert "Board approved the launch budget" in html
    assert "chart-4.6.1.umd.js" in html
    charts = json.loads(html.split('id="report-charts" type="application/json">')[1].split("</script>")[0])
    assert [row["week"] for row in charts["trend"]][-1] == scripted.week
    assert charts["decisions"]["Edited"] == 2


def test_the_week_picker_links_to_the_previous_and_next_week(client, reader):
    response = client.get(URL, {"week": "2026-W01"})
    html = response.content.decode()
    assert 'href="?week=2025-W52"' in html and 'href="?week=2026-W02"' in html
    assert 'value="2026-W01"' in html


def test_without_a_week_it_shows_the_current_one(client, reader):
    response = client.get(URL)
    assert response.context["week"] == reports.iso_week()
    assert response.context["in_progress"] is True


def test_it_refuses_a_week_that_does_not_exist(client, reader):
    response = client.get(URL, {"week": "2026-W60"})
    assert response.status_code == 400
    assert "does not exist" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_any_role_can_opt_itself_in_and_out(client, reader):
    response = client.post(SUBSCRIBE, {"subscribe": "1", "week": "2026-W47"})
    assert response.status_code == 302 and response["Location"].endswith("?week=2026-W47")
    assert ReportSubscription.objects.filter(user=reader).exists()
    client.post(SUBSCRIBE, {"subscribe": "0"})
    assert not ReportSubscription.objects.filter(user=reader).exists()


def test_opting_in_twice_keeps_one_subscription(client, reader):
    client.post(SUBSCRIBE, {"subscribe": "1"})
    client.post(SUBSCRIBE, {"subscribe": "1"})
    assert ReportSubscription.objects.filter(user=reader).count() == 1


def test_opting_out_leaves_other_peoples_subscriptions_alone(client, reader):
    other = marketer()
    ReportSubscription.objects.create(user=other)
    client.post(SUBSCRIBE, {"subscribe": "0"})
    assert ReportSubscription.objects.filter(user=other).exists()


def test_htmx_gets_the_subscription_partial(client, reader):
    response = client.post(SUBSCRIBE, {"subscribe": "1"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="subscription"')
    assert "Stop the weekly email" in html


def test_subscribing_refuses_get_with_405(client, reader):
    assert client.get(SUBSCRIBE).status_code == 405


def test_a_user_without_a_role_may_not_subscribe(client):
    user = UserFactory()
    client.force_login(user)
    assert client.post(SUBSCRIBE, {"subscribe": "1"}).status_code == 403
    assert not ReportSubscription.objects.exists()
