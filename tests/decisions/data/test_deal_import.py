"""Deals into the database: upserts per (source, deal id), the daily figures derived from them, provenance."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from decisions.audit.actions import REGISTRY, Action
from decisions.data import deal_figures, importing
from decisions.models import AuditEvent, DailyMetric, DailyTotal, Deal, DealFigure, ImportRun
from tests.decisions.data import deal_files
from tests.factories import CampaignFactory, DailyMetricFactory

D = dt.date


def import_bytes(content: bytes, **options) -> deal_figures.DealImportOutcome:
    return deal_figures.import_deals(stream=io.BytesIO(content), filename="deals.csv", **options)


def figures(campaign) -> dict:
    return {
        row.date: (row.pipeline_value, row.closed_revenue)
        for row in DailyMetric.objects.filter(campaign=campaign).order_by("date")
    }


@pytest.fixture
def campaigns(db):
    search = CampaignFactory(external_id="9001", name="Spring Webinar EMEA")
    brand = CampaignFactory(external_id="9002", name="Brand")
    return search, brand


def hubspot_export(stage_102="Contract Sent", amount_102="$2,000.00", closed_102=""):
    return deal_files.hubspot(
        [
            {
                "id": "101",
                "stage": "Closed Won",
                "amount": "$1,000.00",
                "created": "01/05/2026 10:00 AM",
                "closed": "01/20/2026",
                "utm": "9001",
            },
            {
                "id": "102",
                "stage": stage_102,
                "amount": amount_102,
                "created": "2026-01-05T09:00:00Z",
                "closed": closed_102,
                "drill2": "Brand",
            },
            {
                "id": "103",
                "stage": "Qualified To Buy",
                "amount": "500",
                "created": "2026-01-06",
                "drill2": "Spring webinar - EMEA",
            },
            {"id": "104", "stage": "Closed Won", "amount": "300", "created": "2026-01-06", "closed": "2026-01-21"},
        ]
    )


def test_a_hubspot_export_becomes_deals_figures_and_totals(campaigns):
    search, brand = campaigns
    outcome = import_bytes(hubspot_export())
    assert outcome.ok, outcome.problems
    assert (
        outcome.source,
        outcome.deals_created,
        outcome.matched,
        outcome.unmatched_deals,
        outcome.without_campaign,
    ) == (
        "hubspot",
        4,
        2,
        1,
        1,
    )
    assert Deal.objects.get(deal_id="101").matched_by == "id"
    assert Deal.objects.get(deal_id="102").matched_by == "name"
    assert figures(search)[D(2026, 1, 5)] == (Decimal("1000.00"), None)
    assert figures(search)[D(2026, 1, 20)] == (None, Decimal("1000.00"))
    assert figures(brand)[D(2026, 1, 5)] == (Decimal("2000.00"), None)
    # The unmatched deal (103) and the deal without a campaign (104) feed the daily totals, not a campaign.
    totals = {t.date: (t.pipeline_value, t.closed_revenue) for t in DailyTotal.objects.filter(source="deals")}
    assert totals == {D(2026, 1, 6): (Decimal("800.00"), None), D(2026, 1, 21): (None, Decimal("300.00"))}


def test_it_records_a_deals_run_and_one_audit_event(campaigns):
    import_bytes(hubspot_export(), label="command line")
    run = ImportRun.objects.get()
    event = AuditEvent.objects.get(action="deals.imported")
    assert (run.kind, run.status, run.rows_written) == ("deals", "succeeded", 4)
    assert event.human_payload["source"] == "hubspot"
    assert event.machine_payload["matched"] == 2 and event.machine_payload["unmatched"] == 1
    summary, _ = REGISTRY[Action.DEALS_IMPORTED].describe(event)
    assert summary == (
        "Imported CRM deals from deals.csv: 4 deals; 4 new, 0 re-staged; 2 matched, 1 unmatched, 1 without a campaign"
    )


def test_a_later_export_restages_deals_and_the_figures_follow(campaigns):
    search, brand = campaigns
    import_bytes(hubspot_export())
    outcome = import_bytes(hubspot_export(stage_102="Closed Won", amount_102="2,400", closed_102="2026-01-25"))
    assert (outcome.deals_created, outcome.deals_updated, outcome.restaged) == (0, 4, 1)
    assert Deal.objects.count() == 4
    deal = Deal.objects.get(deal_id="102")
    assert (deal.stage, deal.amount, deal.won, deal.close_date) == (
        "Closed Won",
        Decimal("2400.00"),
        True,
        D(2026, 1, 25),
    )
    assert figures(brand)[D(2026, 1, 5)] == (Decimal("2400.00"), None)
    assert figures(brand)[D(2026, 1, 25)] == (None, Decimal("2400.00"))  # after the last create date


def test_a_deal_moved_to_another_campaign_leaves_no_figure_behind(campaigns):
    search, brand = campaigns
    import_bytes(deal_files.generic([["D1", "100", "Open", "2026-01-05", "", "", "9001"]]))
    import_bytes(deal_files.generic([["D1", "100", "Open", "2026-01-05", "", "", "9002"]]))
    assert figures(search)[D(2026, 1, 5)] == (None, None)
    assert figures(brand)[D(2026, 1, 5)] == (Decimal("100.00"), None)


def test_duplicates_within_one_file_keep_the_later_row_and_say_so(campaigns):
    outcome = import_bytes(
        deal_files.generic(
            [
                ["D1", "100", "Open", "2026-01-05", "", "", "9001"],
                ["D2", "50", "Open", "2026-01-05", "", "", "9001"],
                ["D1", "150", "Open", "2026-01-05", "", "", "9001"],
            ]
        )
    )
    assert outcome.duplicates == 1
    assert "line 4: deal D1 again (first on line 2); the later row is used" in outcome.warnings
    assert Deal.objects.get(deal_id="D1").amount == Decimal("150.00")
    assert figures(campaigns[0])[D(2026, 1, 5)] == (Decimal("200.00"), None)


def test_a_bad_row_writes_nothing_at_all(campaigns):
    import_bytes(hubspot_export())
    before = (Deal.objects.count(), DailyMetric.objects.count(), AuditEvent.objects.count(), DealFigure.objects.count())
    outcome = import_bytes(
        deal_files.generic(
            [["D9", "100", "Open", "2026-01-05", "", "", "9001"], ["D10", "-5", "Open", "2026-01-05", "", "", ""]]
        )
    )
    assert not outcome.ok and outcome.problems == ["line 3: amount: -5: must not be negative"]
    after = (Deal.objects.count(), DailyMetric.objects.count(), AuditEvent.objects.count(), DealFigure.objects.count())
    assert after == before and not Deal.objects.filter(deal_id="D9").exists()


def test_a_dry_run_writes_nothing(campaigns):
    outcome = import_bytes(hubspot_export(), dry_run=True)
    assert outcome.ok and outcome.rows_written == 4
    assert (Deal.objects.count(), DailyMetric.objects.count(), ImportRun.objects.count()) == (0, 0, 0)


def test_figures_another_file_supplied_are_kept_and_only_the_deals_own_are_replaced(campaigns):
    search, _ = campaigns
    DailyMetricFactory(campaign=search, date=D(2026, 1, 5), pipeline_value=Decimal("777.00"))
    DailyMetricFactory(campaign=search, date=D(2026, 1, 6), pipeline_value=None)
    outcome = import_bytes(
        deal_files.generic(
            [["D1", "100", "Open", "2026-01-05", "", "", "9001"], ["D2", "40", "Open", "2026-01-06", "", "", "9001"]]
        )
    )
    assert outcome.derived.cells_kept == 1
    assert figures(search)[D(2026, 1, 5)][0] == Decimal("777.00")  # the performance file's figure stays
    assert figures(search)[D(2026, 1, 6)][0] == Decimal("40.00")
    # A performance import then supplies the 6th itself: the next deals import leaves it alone too.
    importing.import_performance(
        stream=io.BytesIO(b"date,campaign_id,pipeline_value\n2026-01-06,9001,55\n"), filename="perf.csv"
    )
    import_bytes(deal_files.generic([["D2", "45", "Open", "2026-01-06", "", "", "9001"]]))
    assert figures(search)[D(2026, 1, 6)][0] == Decimal("55.00")


def test_a_matched_campaigns_day_without_deals_inside_the_span_is_zero_not_unknown(campaigns):
    search, _ = campaigns
    for day in (4, 5, 6, 7):
        DailyMetricFactory(campaign=search, date=D(2026, 1, day), pipeline_value=None)
    import_bytes(
        deal_files.generic(
            [["D1", "100", "Open", "2026-01-05", "", "", "9001"], ["D2", "40", "Open", "2026-01-07", "", "", ""]]
        )
    )
    pipeline = {day: values[0] for day, values in figures(search).items()}
    assert pipeline == {
        D(2026, 1, 4): None,
        D(2026, 1, 5): Decimal("100.00"),
        D(2026, 1, 6): Decimal("0.00"),
        D(2026, 1, 7): Decimal("0.00"),
    }


@override_settings(WAYPOINT_DEAL_PIPELINE_WEIGHTED=True)
def test_weighted_pipeline_counts_each_deal_by_its_chance_to_close(campaigns):
    search, _ = campaigns
    import_bytes(
        deal_files.salesforce(
            [
                {
                    "id": "006A",
                    "stage": "Prospecting",
                    "amount": "1000",
                    "probability": "10",
                    "created": "01/05/2026",
                    "closed": "06/30/2026",
                    "campaign": "9001",
                },
                {
                    "id": "006B",
                    "stage": "Closed Won",
                    "amount": "200",
                    "probability": "100",
                    "created": "01/05/2026",
                    "closed": "01/09/2026",
                    "campaign": "9001",
                    "won": "1",
                    "closed_flag": "1",
                },
            ]
        )
    )
    assert figures(search)[D(2026, 1, 5)] == (Decimal("300.00"), None)
    assert figures(search)[D(2026, 1, 9)] == (None, Decimal("200.00"))


@override_settings(WAYPOINT_DEALS_UNMATCHED_TO_TOTALS=False)
def test_unmatched_deals_can_be_kept_out_of_the_totals(campaigns):
    import_bytes(hubspot_export())
    assert DailyTotal.objects.get(date=D(2026, 1, 6)).pipeline_value == Decimal("300.00")


def test_the_command_reports_what_it_did_and_fails_on_bad_rows(campaigns, tmp_path):
    good = tmp_path / "hubspot.csv"
    good.write_bytes(hubspot_export())
    out, err = io.StringIO(), io.StringIO()
    call_command("import_deals", str(good), stdout=out, stderr=err)
    assert "hubspot.csv (HubSpot deals export): 4 rows read, upserted 4 deals (4 new" in out.getvalue()
    assert "2 matched a campaign, 1 unmatched, 1 without a campaign" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(deal_files.generic([["D1", "x", "Open", "2026-01-05", "", "", ""]]))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_deals", str(bad), stdout=io.StringIO(), stderr=err)
    assert "line 2: amount: x: not a number" in err.getvalue()


def test_the_command_takes_a_campaign_column_and_a_dry_run(campaigns, tmp_path):
    file = tmp_path / "custom.csv"
    file.write_bytes(
        deal_files.as_csv(
            ["Record ID", "Deal Stage", "Amount", "Create Date", "Close Date", "Campaign (custom)"],
            [["1", "Qualified To Buy", "10", "2026-01-01", "", "9001"]],
        )
    )
    out = io.StringIO()
    call_command("import_deals", str(file), "--campaign-column", "Campaign (custom)", "--dry-run", stdout=out)
    assert "1 matched a campaign" in out.getvalue() and "Dry run: nothing was written." in out.getvalue()
    assert Deal.objects.count() == 0
