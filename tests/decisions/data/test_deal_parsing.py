"""The deals parser alone: formats told by the header, the exports' dates and amounts, bad rows by line."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import override_settings

from decisions.data import deals
from tests.decisions.data import deal_files


def read(content: bytes, **options) -> tuple[list[deals.DealRow], deals.DealFile]:
    source = deals.DealFile(io.BytesIO(content), **options)
    return list(source.rows()), source


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-03-04", dt.date(2026, 3, 4)),
        ("2026-03-04 10:22", dt.date(2026, 3, 4)),
        ("2026-03-04T23:30:00Z", dt.date(2026, 3, 4)),  # UTC is Waypoint's zone in the tests' settings
        ("2026-03-04T23:30:00-08:00", dt.date(2026, 3, 5)),  # the day in Waypoint's zone, not the writer's
        ("03/04/2026", dt.date(2026, 3, 4)),
        ("3/4/2026 7:05 PM", dt.date(2026, 3, 4)),
        ("03/04/2026 19:05:00 UTC", dt.date(2026, 3, 4)),
    ],
)
@override_settings(TIME_ZONE="UTC")
def test_it_reads_the_dates_the_exports_write(text, day):
    assert deals.parse_day(text) == day


@pytest.mark.parametrize("text", ["04.03.2026", "2026-13-01", "13/45/2026", "yesterday"])
def test_it_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError, match="not a date"):
        deals.parse_day(text)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("$1,234.50", "1234.50"), ("USD 1,234.5", "1234.50"), ("1,234 €", "1234.00"), ("£ 12", "12.00"), ("", None)],
)
def test_it_reads_amounts_with_currency_symbols_and_thousands_separators(text, amount):
    assert deals.parse_amount(text) == (None if amount is None else Decimal(amount))


@pytest.mark.parametrize("text", ["1.234,56", "-$5", "12 apples"])
def test_it_refuses_amounts_it_cannot_read_for_sure(text):
    with pytest.raises(ValueError):
        deals.parse_amount(text)


def test_it_tells_the_formats_apart_by_their_headers():
    def detect(header):
        return deals.detect_format([deals.normalise_header(name) for name in header])

    assert detect(deal_files.HUBSPOT_HEADER) == deals.HUBSPOT
    assert detect(deal_files.SALESFORCE_HEADER) == deals.SALESFORCE
    assert detect(deal_files.GENERIC_HEADER) == deals.GENERIC
    assert detect(["date", "campaign_id", "pipeline_value"]) == ""


def test_a_hubspot_row_becomes_a_deal_with_its_campaign_reference_and_stage_probability():
    rows, source = read(
        deal_files.hubspot(
            [
                {
                    "id": "101",
                    "stage": "Contract Sent",
                    "amount": "$5,000",
                    "created": "2026-02-01 09:00",
                    "utm": "spring_webinar",
                },
                {
                    "id": "102",
                    "stage": "Closed Won",
                    "amount": "1200",
                    "created": "2026-02-02",
                    "closed": "2026-02-20",
                    "drill2": "Brand",
                },
            ]
        )
    )
    assert source.problems == [] and source.format == deals.HUBSPOT
    first, second = rows
    assert (first.deal_id, first.amount, first.won, first.probability, first.campaign_ref) == (
        "101",
        Decimal("5000.00"),
        False,
        Decimal("0.9000"),
        "spring_webinar",
    )
    assert (second.won, second.closed, second.probability, second.campaign_ref) == (
        True,
        dt.date(2026, 2, 20),
        Decimal("1.0000"),
        "Brand",
    )


def test_a_formatted_salesforce_report_is_read_past_its_totals_and_footer():
    rows, source = read(
        deal_files.salesforce(
            [
                {
                    "id": "006A",
                    "stage": "Closed Won",
                    "amount": "$2,500.00",
                    "probability": "100",
                    "created": "01/15/2026",
                    "closed": "02/01/2026",
                    "campaign": "Spring webinar - EMEA",
                    "won": "1",
                    "closed_flag": "1",
                },
                {
                    "id": "006B",
                    "stage": "Negotiation/Review",
                    "amount": "800",
                    "probability": "90",
                    "created": "01/20/2026",
                    "closed": "12/31/2026",
                },
            ],
            formatted=True,
        )
    )
    assert source.problems == [] and source.format == deals.SALESFORCE
    assert [(r.deal_id, r.won, r.probability) for r in rows] == [
        ("006A", True, Decimal("1.0000")),
        ("006B", False, Decimal("0.9000")),
    ]
    assert rows[1].closed == dt.date(2026, 12, 31)  # an open deal's expected close date may lie ahead


def test_every_bad_row_is_reported_with_its_line():
    _, source = read(
        deal_files.generic(
            [
                ["D1", "100", "Open", "2026-01-05", "", "false", "C1"],
                ["", "100", "Open", "2026-01-05", "", "", "C1"],
                ["D3", "ten", "Open", "2026-01-05", "", "", "C1"],
                ["D4", "100", "Won", "2026-01-05", "", "true", "C1"],
                ["D5", "100", "Open", "31/01/2026", "", "maybe", "C1"],
                ["D6", "100", "Open", "2999-01-01", "", "", "C1"],
            ]
        )
    )
    assert [str(problem) for problem in source.problems] == [
        "line 3: deal_id: : required",
        "line 4: amount: ten: not a number",
        "line 5: close_date: : required for a won deal",
        "line 6: created_date: 31/01/2026: not a date (expected YYYY-MM-DD or MM/DD/YYYY, with or without a time)",
        "line 6: won: maybe: expected true or false",
        f"line 7: created_date: 2999-01-01: after tomorrow ({(dt.date.today() + dt.timedelta(days=1)).isoformat()}): "
        "figures are for days that have happened",
    ]


def test_a_file_that_is_no_deals_export_is_refused_at_its_header():
    _, source = read(b"date,campaign_id,pipeline_value\n2026-01-01,C1,10\n")
    assert len(source.problems) == 1 and "not a deals export" in source.problems[0].reason


def test_a_missing_campaign_column_is_named_and_can_be_chosen():
    content = deal_files.as_csv(
        ["Record ID", "Deal Stage", "Amount", "Create Date", "Close Date", "Campaign (custom)"],
        [["1", "Qualified To Buy", "10", "2026-01-01", "", "Spring"]],
    )
    _, source = read(content)
    assert "name one with --campaign-column" in source.problems[0].reason
    rows, source = read(content, campaign_column="Campaign (custom)")
    assert source.problems == [] and rows[0].campaign_ref == "Spring"


@override_settings(WAYPOINT_DEAL_PIPELINE_WEIGHTED=True)
def test_stage_probabilities_come_from_the_file_then_the_stage_table_then_settings():
    rows, source = read(
        deal_files.hubspot(
            [
                {"id": "1", "stage": "qualifiedtobuy", "amount": "10", "created": "2026-01-01"},
                {"id": "2", "stage": "Demo booked", "amount": "10", "created": "2026-01-01"},
            ]
        ),
        stage_probabilities={"demobooked": 0.3},
    )
    assert [row.probability for row in rows] == [Decimal("0.4000"), Decimal("0.3000")]
    assert source.unknown_stages == {}
