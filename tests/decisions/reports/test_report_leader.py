"""What a leader reads in the report: money left on the table, who was right (in units, with the list),
week-over-week change on every tile, small-number caveats, the why of every override, the CSV of the
week's decisions, a printable page, and an email that links to all of it and can be stopped in one click."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core import mail
from django.urls import reverse

from decisions.models import Outcome, Proposal, ReportSubscription
from decisions.reports import email as report_email
from decisions.reports import rows as report_rows
from decisions.reports import weekly as reports
from tests.decisions.reports.test_reports import script_week
from tests.factories import marketer, viewer

pytestmark = pytest.mark.django_db
CSV_URL = reverse("decisions:report-csv")


@pytest.fixture
def scripted():
    return script_week()


@pytest.fixture
def report(scripted) -> dict:
    return reports.weekly_report(scripted.week)


def csv_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- money and who was right ------------------------------------------------------------------------------


def test_money_left_on_the_table_sums_the_machines_versions_of_edits_and_rejections(report):
    # Machine estimates (outcomes): edit 60, edit2 40, reject −30. The reviewers' versions: edit 80 and
    # edit2's expected mean 700 × 25/100 kept = 175 (no human estimate stored), reject 0.
    [row] = report["left_on_table"]["by_metric"]
    assert (row["metric"], row["unit"]) == ("pipeline_value", "USD")
    assert (row["rejected"], row["rejected_machine"]) == (1, -30.0)
    assert (row["edited"], row["edited_machine"]) == (2, 100.0)
    assert row["left"] == pytest.approx((60 - 700 * 0.5) + (40 - 700 * 0.25) + (-30 - 0))
    assert row["left_text"].endswith("/week") and row["left_text"].startswith("−$")
    assert (row["approved"], row["approved_known"], row["approved_realised"]) == (5, 1, 150.0)
    assert report["left_on_table"]["total"]["value"] == row["left"]


def test_who_was_right_lists_each_overridden_proposal_with_its_figures_in_units(report, scripted):
    listed = {r["proposal_id"]: r for r in report["who_was_right"]}
    edit, reject = scripted.proposals["edit"], scripted.proposals["reject"]
    assert set(listed) == {edit.pk, scripted.proposals["edit2"].pk, reject.pk}
    assert listed[edit.pk]["gap"] == 20.0 and listed[edit.pk]["texts"]["gap"] == "+$20.00/week"
    assert listed[reject.pk]["texts"]["machine"] == "−$30.00/week"


def test_the_page_says_who_was_right_in_units_with_totals_and_the_list(client, scripted):
    client.force_login(viewer())
    html = client.get(reverse("decisions:reports"), {"week": scripted.week}).content.decode()
    assert "human − machine +$20.00/week in total, +$6.67/week on average" in html
    assert f'href="{reverse("decisions:proposal", args=[scripted.proposals["edit"].pk])}"' in html
    assert "Money left on the table" in html


# --- tiles, caveats, why -----------------------------------------------------------------------------------


def test_every_tile_says_last_weeks_value_and_the_change(report):
    tiles = {tile["key"]: tile for tile in report["tiles"]}
    assert {"override_rate", "decisions", "created", "reviewed", "time_to_decision", "left_on_table"} <= set(tiles)
    assert all(tile["change_text"] and tile["previous_text"] for tile in report["tiles"])
    # Last week: 2 decisions, 1 override (50%); this week 8 and 6 (75%).
    assert tiles["decisions"]["change_text"] == "+6 vs last week"
    assert tiles["override_rate"]["change_text"] == "+25 pp vs last week"
    assert tiles["override_rate"]["previous_text"] == "50%"


def test_a_rate_on_fewer_than_five_decisions_says_so(report, db):
    by_channel = {row["key"]: row for row in report["override_rate_by"]["channel"]}
    assert by_channel["social"]["few"] and not by_channel["search"]["few"]
    empty_ish = reports.weekly_report(report["previous_week"])
    assert empty_ish["few_decisions"]
    assert "too few to read as a rate" in {t["key"]: t for t in empty_ish["tiles"]}["override_rate"]["caveat"]


def test_an_approval_over_a_warning_shows_the_verdict_it_overrode_as_its_why(report, scripted):
    [warn] = [o for o in report["guardrail_overrides"] if o["severity"] == "warn"]
    # No reason is asked for a warning: the verdict the reviewer confirmed over (re-checked then) stands in.
    assert warn["why"] == "" and warn["why_shown"].startswith("Warning confirmed over: Cap search moves: ")
    assert "20%" in warn["why_shown"]
    overrides = {r["proposal_id"]: r for r in report["overrides"]}
    [why] = overrides[scripted.proposals["warn"].pk]["why"]
    assert why.startswith("Warning confirmed (Cap search moves: ") and "20%" in why
    assert overrides[scripted.proposals["reject"].pk]["why"] == ["Rejected: Strategy — Not before the launch"]
    assert overrides[scripted.proposals["rollback"].pk]["why"] == ["Rolled back: Spend spiked overnight"]
    assert overrides[scripted.proposals["block"].pk]["why"] == ["Over a block: Board approved the launch budget"]


# --- the CSV and the printable page ---------------------------------------------------------------------------


def test_the_csv_has_one_tidy_row_per_decision_of_the_week(client, scripted, report):
    client.force_login(viewer())
    response = client.get(CSV_URL, {"week": scripted.week})
    assert response["Content-Disposition"] == f'attachment; filename="waypoint-report-{scripted.week}.csv"'
    rows = csv_of(response)
    assert list(rows[0]) == report_rows.CSV_COLUMNS
    assert len(rows) == report["counts"]["decisions"] == 8
    edit = next(r for r in rows if r["proposal_id"] == str(scripted.proposals["edit"].pk))
    assert (edit["decision"], edit["overridden"], edit["unit"], edit["channel"]) == ("edited", "yes", "USD", "search")
    assert (edit["machine_estimate"], edit["realised_per_week"]) == ("60.0", "80.0")
    assert edit["proposal_url"].endswith(reverse("decisions:proposal", args=[scripted.proposals["edit"].pk]))
    statuses = {r["decision"] for r in rows}
    assert statuses == {"approved", "edited", "rejected", "auto_approved"}  # no expiry, no supersession


def test_the_csv_refuses_a_bad_week_and_a_post_and_needs_a_login(client):
    assert client.get(CSV_URL).status_code == 302
    client.force_login(viewer())
    assert client.get(CSV_URL, {"week": "2026-W99"}).status_code == 400
    assert client.post(CSV_URL).status_code == 405


def test_the_override_report_command_csv_is_unchanged_in_form(scripted):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("override_report", week=scripted.week, format="csv", stdout=out)
    assert out.getvalue().splitlines()[0] == "week,section,dimension,key,metric,value"


def test_the_page_offers_the_csv_and_a_print_button_and_prints_without_menus(client, scripted):
    client.force_login(viewer())
    html = client.get(reverse("decisions:reports"), {"week": scripted.week}).content.decode()
    assert f'href="{CSV_URL}?week={scripted.week}"' in html
    assert "data-print hidden" in html  # shown by reports.js; without JavaScript the browser's Print works
    with open("static/css/waypoint.css", encoding="utf-8") as css:
        assert "@media print" in css.read()


# --- the email --------------------------------------------------------------------------------------------


def test_the_email_links_to_the_report_and_proposals_shows_units_and_can_be_stopped(settings, scripted):
    settings.WAYPOINT_SITE_URL = "https://waypoint.example.com"
    reader = viewer(username="lead")
    ReportSubscription.objects.create(user=reader)
    report_email.report_send(week=scripted.week)
    [message] = mail.outbox
    html = message.alternatives[0][0]
    proposal_url = "https://waypoint.example.com" + reverse("decisions:proposal", args=[scripted.proposals["edit"].pk])
    assert f"https://waypoint.example.com/reports/?week={scripted.week}" in message.body
    assert proposal_url in html and proposal_url in message.body
    assert "human − machine +$20.00/week in total" in message.body
    assert "-928" not in message.body and "mean human − machine 6" not in message.body
    [unsubscribe] = re.findall(r"https://waypoint\.example\.com/reports/unsubscribe/[^/\s\"]+/", message.body)
    assert unsubscribe in html
    token = unsubscribe.rstrip("/").rsplit("/", 1)[-1]
    assert report_email.user_for_unsubscribe(token) == reader  # the recipient's own link, signed
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_without_a_site_url_the_email_says_where_to_stop_it(settings, scripted):
    settings.WAYPOINT_SITE_URL = ""
    ReportSubscription.objects.create(user=viewer())
    report_email.report_send(week=scripted.week)
    [message] = mail.outbox
    assert "Stop the weekly email" in message.body and "List-Unsubscribe" not in message.extra_headers


def test_the_unsubscribe_link_asks_then_stops_the_email_without_a_login(client):
    reader = viewer()
    ReportSubscription.objects.create(user=reader)
    url = reverse("decisions:report-unsubscribe", args=[report_email.unsubscribe_token(reader)])
    asked = client.get(url)  # a link scanner's GET changes nothing
    assert asked.status_code == 200 and b"Unsubscribe" in asked.content
    assert ReportSubscription.objects.filter(user=reader).exists()
    done = client.post(url)  # one click, as a mail client posts it: no session, no CSRF token
    assert done.status_code == 200 and b"you will no longer get" in done.content
    assert not ReportSubscription.objects.filter(user=reader).exists()


def test_a_forged_unsubscribe_link_changes_nothing(client):
    reader = viewer()
    ReportSubscription.objects.create(user=reader)
    forged = report_email.unsubscribe_token(reader)[:-2] + "xx"
    response = client.post(reverse("decisions:report-unsubscribe", args=[forged]))
    assert response.status_code == 400
    assert ReportSubscription.objects.filter(user=reader).exists()


def test_the_unsubscribe_link_only_answers_get_and_post(client):
    url = reverse("decisions:report-unsubscribe", args=[report_email.unsubscribe_token(viewer())])
    assert client.put(url).status_code == 405


# --- units of a non-money objective --------------------------------------------------------------------------


def test_a_week_of_lead_proposals_counts_leads_not_dollars(client):
    from decisions import audit
    from decisions.review import transitions as reviewing
    from tests.factories import ProposalFactory

    proposal = ProposalFactory(expected_metric="leads", expected_mean=12.0)
    audit.record(action="proposal.created", label="engine", proposal=proposal)
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="timing")
    Outcome.objects.create(
        proposal=proposal,
        metric="leads",
        days=14,
        window_start=proposal.created_at.date(),
        window_end=proposal.created_at.date(),
        expected_low=1,
        expected_mean=12,
        expected_high=20,
        machine_estimate=12.0,
    )
    report = reports.weekly_report(reports.iso_week())
    [row] = report["left_on_table"]["by_metric"]
    assert (row["unit"], row["left_text"]) == ("leads", "+12 leads/week")
    assert Proposal.objects.get(pk=proposal.pk).status == "rejected"


# --- labels, never stored codes --------------------------------------------------------------------------


def test_the_override_badges_and_the_emails_reasons_are_words(client, scripted, report):
    client.force_login(viewer())
    page = client.get(reverse("decisions:reports"), {"week": scripted.week}).content.decode()
    assert ">Rolled back</span>" in page and ">Over a block</span>" in page and ">Over a warning</span>" in page
    assert "Rolled_back" not in page
    _, text, html = report_email.render_email(report)
    for body in (text, html):
        assert "Rejected: strategy" in body and "rejected: strategy" not in body
        assert "Budget change" in body and "budget_change:" not in body
