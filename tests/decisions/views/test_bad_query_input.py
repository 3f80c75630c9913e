"""Query input out of range is refused cleanly: a message or a 400, never a 500.

`?date_to=9999-12-31` once overflowed the day-after arithmetic of the History filter, and `?week=0001-W01`
the four weeks before it that the report reads. Dates and weeks must now fall within the window of
decisions/date_window.py: from 1 January of WAYPOINT_EARLIEST_YEAR to the end of next year.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from decisions import date_window
from decisions.reports import weekly as reports
from decisions.review import transitions as reviewing
from tests.factories import ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db

HISTORY = reverse("decisions:history")
CSV = reverse("decisions:history-csv")
REPORTS = reverse("decisions:reports")
IMPLAUSIBLE_DATES = ["9999-12-31", "0001-01-01", "1989-12-31"]


@pytest.fixture
def as_viewer(client):
    client.force_login(viewer())
    return client


@pytest.fixture
def decided():
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    return proposal


def window_message() -> str:
    return f"Pick a date from {date_window.describe()}."


# --- History: the page leaves the filter out and says so; the export refuses ------------------------------


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", IMPLAUSIBLE_DATES)
def test_the_history_page_leaves_out_an_implausible_date_and_says_why(as_viewer, decided, field, value):
    response = as_viewer.get(HISTORY, {field: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Not applied: {field}: {window_message()}" in html
    assert f'id="proposal-{decided.pk}"' in html  # the other filters (none here) still apply


def test_the_history_results_fragment_carries_the_message_for_htmx(as_viewer, decided):
    response = as_viewer.get(HISTORY, {"date_to": "9999-12-31"}, headers={"HX-Request": "true"})
    assert response.status_code == 200  # htmx swaps 2xx answers only
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="history-results"')
    assert f"date_to: {window_message()}" in html


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", IMPLAUSIBLE_DATES + ["last tuesday"])
def test_the_history_export_refuses_a_filter_it_cannot_apply(as_viewer, decided, field, value):
    response = as_viewer.get(CSV, {field: value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith(f"The History export was not made. {field}: ")


def test_dates_at_the_edges_of_the_window_are_accepted(as_viewer, decided):
    edges = {"date_from": date_window.first_day().isoformat(), "date_to": date_window.last_day().isoformat()}
    page = as_viewer.get(HISTORY, edges)
    assert "Not applied" not in page.content.decode()
    assert f'id="proposal-{decided.pk}"' in page.content.decode()
    export = as_viewer.get(CSV, edges)
    assert export.status_code == 200
    assert str(decided.pk) in b"".join(export.streaming_content).decode()


def test_the_earliest_year_is_a_setting(as_viewer, decided, settings):
    settings.WAYPOINT_EARLIEST_YEAR = 1950
    assert as_viewer.get(CSV, {"date_from": "1960-01-01"}).status_code == 200
    assert as_viewer.get(CSV, {"date_from": "1949-12-31"}).status_code == 400


# --- the weekly report ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("0001-W01", "0001-W01 is outside the weeks Waypoint reports on"),
        ("9999-W52", "9999-W52 is outside the weeks Waypoint reports on"),
        ("1989-W52", "1989-W52 is outside the weeks Waypoint reports on"),
        ("2026-W99", "2026-W99 does not exist."),
        ("abc", "Not an ISO week: &#x27;abc&#x27;"),
    ],
)
def test_the_report_page_refuses_a_week_it_cannot_report_with_a_400(as_viewer, week, message):
    response = as_viewer.get(REPORTS, {"week": week})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_first_week_of_the_window_is_reported(as_viewer):
    first = reports.iso_week(date_window.first_day() + dt.timedelta(days=7))
    response = as_viewer.get(REPORTS, {"week": first})
    assert response.status_code == 200


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52"])
def test_the_override_report_command_refuses_a_week_outside_the_window(week):
    with pytest.raises(CommandError, match="outside the weeks Waypoint reports on"):
        call_command("override_report", week=week)


def test_the_trend_starts_at_local_midnight_four_mondays_back_across_a_clock_change(settings):
    """The report's trend window is the week's start minus four weeks of wall-clock time (DST on 2026-03-29)."""
    settings.TIME_ZONE = "Europe/Paris"
    start, _ = reports.week_bounds("2026-W14")
    four_back, _ = reports.week_bounds("2026-W10")
    assert start - dt.timedelta(weeks=reports.TREND_WEEKS) == four_back
    assert timezone.localtime(four_back).hour == 0


@pytest.mark.parametrize("page", ["99999999999999999999", "1000001", "-3", "abc"])
def test_a_queue_page_far_past_the_end_answers_an_empty_page(client, page):
    ProposalFactory()
    client.force_login(marketer())
    response = client.get(reverse("decisions:queue"), {"page": page})
    assert response.status_code == 200
