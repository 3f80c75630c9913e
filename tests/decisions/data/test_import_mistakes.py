"""Imports that catch mistakes: a figures-only file creates no campaigns, and implausible rows are named."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from decisions.data import importing
from decisions.models import AuditEvent, Campaign, DailyMetric, ImportRun
from tests.factories import CampaignFactory, DailyMetricFactory, guardrail_admin

pytestmark = pytest.mark.django_db

CRM = b"""date,campaign_id,pipeline_value
2026-01-01,SIM-0001,300.00
2026-01-01,SIM-009,120.00
2026-01-02,SIM-009,130.00
2026-01-01,sim-0010,80.00
2026-01-02,SIM-0001,310.00
"""


@pytest.fixture
def known():
    return [
        CampaignFactory(external_id="SIM-0001", name="Search – Brand"),
        CampaignFactory(external_id="SIM-0009", name="Display – Retargeting"),
        CampaignFactory(external_id="SIM-0010", name="Social – Prospecting"),
    ]


def run_import(data: bytes, **kwargs) -> importing.ImportOutcome:
    return importing.import_performance(stream=io.BytesIO(data), filename=kwargs.pop("filename", "crm.csv"), **kwargs)


# --- figures-only files ---------------------------------------------------------------------------


def test_a_figures_only_file_never_creates_campaigns_for_ids_it_does_not_know(known):
    outcome = run_import(CRM)
    assert outcome.ok
    assert (outcome.rows_written, outcome.rows_skipped, outcome.campaigns_created) == (2, 3, 0)
    assert outcome.unmatched == ["SIM-009", "sim-0010"]
    assert Campaign.objects.count() == 3
    assert DailyMetric.objects.filter(campaign__external_id="SIM-0001").count() == 2


def test_the_unmatched_ids_are_listed_first_with_their_close_matches(known):
    warnings = run_import(CRM).warnings
    assert warnings[0].startswith("3 rows skipped: 2 campaign ids match no campaign")
    assert warnings[1] == (
        "SIM-009: matches no campaign, skipped (2 rows, lines 3–4); did you mean SIM-0009 (Display – Retargeting)?"
    )
    assert (
        warnings[2] == "sim-0010: matches no campaign, skipped (line 5); did you mean SIM-0010 (Social – Prospecting)?"
    )
    assert importing.skipped_summary(warnings) == warnings[0]


def test_asked_to_it_creates_campaigns_for_the_unknown_ids(known):
    outcome = run_import(CRM, create_campaigns=True)
    assert (outcome.rows_written, outcome.rows_skipped, outcome.campaigns_created) == (5, 0, 2)
    assert Campaign.objects.filter(external_id__in=["SIM-009", "sim-0010"]).count() == 2


def test_a_file_describing_campaigns_still_creates_them():
    outcome = run_import(b"date,campaign_id,channel,spend\n2026-01-01,NEW-1,search,10.00\n")
    assert (outcome.campaigns_created, outcome.rows_skipped) == (1, 0)
    assert Campaign.objects.get().channel == "search"


def test_a_dry_run_reports_the_same_skips_and_writes_nothing(known):
    outcome = run_import(CRM, dry_run=True)
    assert (outcome.rows_written, outcome.rows_skipped) == (2, 3)
    assert not DailyMetric.objects.exists()


def test_the_audit_event_counts_the_skipped_rows_and_names_the_ids(known):
    run_import(CRM)
    payload = AuditEvent.objects.get(action="data.imported").human_payload
    assert (payload["rows"], payload["rows_skipped"], payload["unmatched"]) == (2, 3, ["SIM-009", "sim-0010"])


def test_the_command_skips_unknown_ids_unless_told_to_create_them(known, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_bytes(CRM)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_performance", str(path), stdout=out, stderr=err)
    assert "wrote 2 daily rows, 0 new campaigns, skipped 3 rows of 2 unknown campaign ids" in out.getvalue()
    assert "warning: SIM-009: matches no campaign" in err.getvalue()
    call_command("import_performance", str(path), "--create-campaigns", stdout=out, stderr=err)
    assert Campaign.objects.count() == 5


def test_the_upload_page_skips_unknown_ids_unless_the_box_is_ticked(client, known):
    client.force_login(guardrail_admin())
    page = client.get(reverse("decisions:import")).content.decode()
    assert 'name="create_campaigns"' in page
    client.post(reverse("decisions:import"), {"file": SimpleUploadedFile("crm.csv", CRM, content_type="text/csv")})
    run = ImportRun.objects.get()
    shown = client.get(reverse("decisions:import-run", args=[run.pk])).content.decode()
    assert "3 rows skipped: 2 campaign ids match no campaign" in shown
    assert "did you mean SIM-0009 (Display – Retargeting)?" in shown
    ticked = {"file": SimpleUploadedFile("crm.csv", CRM, content_type="text/csv"), "create_campaigns": "on"}
    client.post(reverse("decisions:import"), ticked)
    assert Campaign.objects.count() == 5


# --- implausible rows -----------------------------------------------------------------------------------


def test_spend_far_above_the_daily_budget_is_named_by_line():
    CampaignFactory(external_id="SIM-0020", daily_budget=Decimal("360.09"))
    data = b"date,campaign_id,spend\n" + b"".join(
        f"2026-01-{day:02d},SIM-0020,{'1295.89' if day == 13 else '350.00'}\n".encode() for day in range(1, 16)
    )
    outcome = run_import(data)
    flagged = [w for w in outcome.warnings if "daily budget" in w]
    assert len(flagged) == 1
    assert flagged[0].startswith("line 14: spend ") and "is 3.6× the daily budget " in flagged[0]
    assert DailyMetric.objects.count() == 15  # warned about, still imported


def test_the_files_own_budget_column_is_the_days_budget():
    data = b"date,campaign_id,channel,daily_budget,spend\n2026-01-01,N1,search,100,250\n2026-01-02,N1,search,300,250\n"
    flagged = [w for w in run_import(data).warnings if "daily budget" in w]
    assert len(flagged) == 1 and flagged[0].startswith("line 2: spend ")


def test_a_day_ten_times_the_campaigns_median_in_the_file_is_named():
    rows = [f"2026-02-{day:02d},SIM-0030,search,{'5200' if day == 20 else '500'}" for day in range(1, 29)]
    data = ("date,campaign_id,channel,pipeline_value\n" + "\n".join(rows) + "\n").encode()
    flagged = [w for w in run_import(data).warnings if "median day" in w]
    assert len(flagged) == 1
    assert flagged[0].startswith("line 21: pipeline_value ") and "is 10.4× the campaign's median day" in flagged[0]


def test_a_single_crm_row_is_judged_against_the_campaigns_history():
    campaign = CampaignFactory(external_id="SIM-0040")
    for day in range(1, 31):
        DailyMetricFactory(campaign=campaign, date=dt.date(2026, 1, day), pipeline_value=Decimal("400.00"))
    outcome = run_import(b"date,campaign_id,pipeline_value\n2026-02-01,SIM-0040,9000.00\n2026-02-02,SIM-0040,450\n")
    flagged = [w for w in outcome.warnings if "median day" in w]
    assert len(flagged) == 1 and flagged[0].startswith("line 2: pipeline_value ")


def test_too_few_days_are_not_judged_and_a_zero_median_calls_nothing_unusual():
    short = b"date,campaign_id,channel,leads\n2026-01-01,N1,x,1\n2026-01-02,N1,x,50\n"
    assert not [w for w in run_import(short).warnings if "median" in w]
    zeros = "\n".join(f"2026-03-{d:02d},N2,x,{'40' if d == 9 else '0'}" for d in range(1, 21))
    assert not [w for w in run_import(f"date,campaign_id,channel,leads\n{zeros}\n".encode()).warnings if "median" in w]


def test_the_implausible_rows_are_listed_in_line_order():
    rows = [f"2026-04-{day:02d},N3,search,{'9999' if day in (3, 25) else '100'}" for day in range(1, 29)]
    data = ("date,campaign_id,channel,clicks\n" + "\n".join(rows) + "\n").encode()
    flagged = [w for w in run_import(data).warnings if "median day" in w]
    assert [w.split(":")[0] for w in flagged] == ["line 4", "line 26"]
