"""The deals page, the deals upload and the alias table: happy path, wrong state, 403, 405, audit."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from decisions.audit.actions import REGISTRY, Action
from decisions.data.deal_figures import import_deals
from decisions.models import AuditEvent, CampaignAlias, DailyMetric, DailyTotal, Deal, ImportRun
from tests.decisions.data import deal_files
from tests.factories import CampaignFactory, guardrail_admin, marketer, viewer

DEALS = reverse("decisions:deals")
UPLOAD = reverse("decisions:deals-import")
ADD = reverse("decisions:alias-add")


def export() -> bytes:
    return deal_files.generic(
        [
            ["D1", "1000", "Won", "2026-01-05", "2026-01-20", "true", "9001"],
            ["D2", "500", "Open", "2026-01-05", "", "", "Spring webinar - EMEA"],
            ["D3", "250", "Open", "2026-01-06", "", "", "spring_webinar_emea"],
            ["D4", "100", "Open", "2026-01-06", "", "", ""],
        ]
    )


@pytest.fixture
def campaign(db):
    return CampaignFactory(external_id="9001", name="Spring Webinar EMEA")


def upload(client, content: bytes, **fields):
    return client.post(UPLOAD, {"file": SimpleUploadedFile("deals.csv", content, "text/csv"), **fields})


def test_an_admin_uploads_deals_and_sees_the_match_rate(client, campaign):
    client.force_login(guardrail_admin())
    response = upload(client, export())
    run = ImportRun.objects.get(kind="deals")
    assert response.status_code == 302 and response["Location"] == reverse("decisions:deal-import-run", args=[run.pk])
    assert Deal.objects.count() == 4 and AuditEvent.objects.filter(action="deals.imported").count() == 1
    page = client.get(DEALS).content.decode()
    assert "Attribution coverage: <strong>54%</strong>" in page  # 1,000 of 1,850
    assert "Spring webinar - EMEA" in page and "same utm_campaign" in page
    assert "— none —" in page  # the deal without a campaign is listed, not dropped
    assert "Upserted 4 deals" in client.get(response["Location"]).content.decode()


def test_an_upload_with_a_bad_row_fails_and_writes_nothing(client, campaign):
    client.force_login(guardrail_admin())
    response = upload(client, deal_files.generic([["D1", "abc", "Open", "2026-01-05", "", "", "9001"]]))
    run = ImportRun.objects.get(kind="deals")
    assert run.status == "failed" and run.errors == ["line 2: amount: abc: not a number"]
    assert Deal.objects.count() == 0 and not AuditEvent.objects.filter(action="deals.imported").exists()
    assert "Nothing was written" in client.get(response["Location"]).content.decode()


def test_an_upload_can_name_the_campaign_column(client, campaign):
    client.force_login(guardrail_admin())
    content = deal_files.as_csv(
        ["Record ID", "Deal Stage", "Amount", "Create Date", "Close Date", "Campaign (custom)"],
        [["1", "Qualified To Buy", "10", "2026-01-01", "", "9001"]],
    )
    upload(client, content, campaign_column="Campaign (custom)")
    assert Deal.objects.get().campaign == campaign


def test_an_upload_without_a_file_is_refused(client, campaign):
    client.force_login(guardrail_admin())
    assert client.post(UPLOAD).status_code == 400


@override_settings(IMPORT_INLINE_MAX_BYTES=10)
def test_a_large_upload_goes_through_the_background_task(
    client, campaign, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(guardrail_admin())
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, export())
    run = ImportRun.objects.get(kind="deals")
    assert run.status == "succeeded" and run.stored_path and Deal.objects.count() == 4


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_marketers_and_viewers_may_read_but_not_write(client, campaign, make_user):
    client.force_login(make_user())
    page = client.get(DEALS)
    assert page.status_code == 200 and "Import deals" not in page.content.decode()
    assert upload(client, export()).status_code == 403
    assert client.post(ADD, {"reference": "x", "campaign": campaign.pk}).status_code == 403
    alias = CampaignAlias.objects.create(reference="x", reference_key="x", campaign=campaign)
    assert client.post(reverse("decisions:alias-remove", args=[alias.pk])).status_code == 403
    assert Deal.objects.count() == 0 and CampaignAlias.objects.count() == 1


def test_writes_take_post_only(client, campaign):
    client.force_login(guardrail_admin())
    assert client.get(UPLOAD).status_code == 405
    assert client.get(ADD).status_code == 405
    assert client.get(reverse("decisions:alias-remove", args=[1])).status_code == 405
    assert client.post(DEALS).status_code == 405


def test_an_alias_credits_its_deals_to_the_campaign_and_is_audited(client, campaign):
    admin = guardrail_admin()
    client.force_login(admin)
    upload(client, export())
    response = client.post(ADD, {"reference": "Spring webinar - EMEA", "campaign": campaign.pk})
    assert response.status_code == 302
    deal = Deal.objects.get(deal_id="D2")
    assert (deal.campaign, deal.matched_by) == (campaign, "alias")
    row = DailyMetric.objects.get(campaign=campaign, date=dt.date(2026, 1, 5))
    assert row.pipeline_value == Decimal("1500.00")
    assert not DailyTotal.objects.filter(date=dt.date(2026, 1, 5)).exists()  # nothing unattributed that day now
    event = AuditEvent.objects.get(action="campaign_alias.added")
    assert (event.actor, event.human_payload["reference"], event.machine_payload["deals"]) == (
        admin,
        "Spring webinar - EMEA",
        1,
    )
    summary, details = REGISTRY[Action.CAMPAIGN_ALIAS_ADDED].describe(event)
    assert (summary, details) == (
        "Campaign alias added: “Spring webinar - EMEA” → Spring Webinar EMEA (9001)",
        ["1 stored deal now matched"],
    )
    # A later export naming it the same way matches through the alias at once.
    upload(client, deal_files.generic([["D9", "10", "Open", "2026-01-07", "", "", "spring webinar - emea"]]))
    assert Deal.objects.get(deal_id="D9").matched_by == "alias"


def test_an_alias_that_exists_or_is_not_needed_is_refused(client, campaign):
    client.force_login(guardrail_admin())
    assert client.post(ADD, {"reference": "Spring", "campaign": campaign.pk}).status_code == 302
    assert client.post(ADD, {"reference": " spring ", "campaign": campaign.pk}).status_code == 409
    assert client.post(ADD, {"reference": "9001", "campaign": campaign.pk}).status_code == 409
    assert client.post(ADD, {"reference": "  ", "campaign": campaign.pk}).status_code == 422
    assert client.post(ADD, {"reference": "Other", "campaign": ""}).status_code == 422
    assert CampaignAlias.objects.count() == 1 and AuditEvent.objects.filter(action="campaign_alias.added").count() == 1


def test_removing_an_alias_unmatches_its_deals_and_is_audited_once(client, campaign):
    client.force_login(guardrail_admin())
    upload(client, export())
    client.post(ADD, {"reference": "Spring webinar - EMEA", "campaign": campaign.pk})
    alias = CampaignAlias.objects.get()
    remove = reverse("decisions:alias-remove", args=[alias.pk])
    assert client.post(remove).status_code == 302
    assert Deal.objects.get(deal_id="D2").campaign is None
    assert DailyMetric.objects.get(campaign=campaign, date=dt.date(2026, 1, 5)).pipeline_value == Decimal("1000.00")
    assert DailyTotal.objects.get(date=dt.date(2026, 1, 5)).pipeline_value == Decimal("500.00")
    assert client.post(remove).status_code == 409  # already removed
    assert AuditEvent.objects.filter(action="campaign_alias.removed").count() == 1


def test_unmatched_deals_are_paged(client, campaign):
    client.force_login(viewer())
    rows = [[f"D{n}", "10", "Open", "2026-01-05", "", "", ""] for n in range(60)]
    import_deals(stream=io.BytesIO(deal_files.generic(rows)), filename="many.csv")
    first = client.get(DEALS).content.decode()
    assert "60 deals" in first and "Page 1 of 2" in first
    second = client.get(DEALS, {"page": 2}, headers={"HX-Request": "true"})
    assert second.status_code == 200 and "Page 2 of 2" in second.content.decode()
    assert "<h1>" not in second.content.decode()


def test_the_stuck_work_sweep_queues_a_deals_import_again_with_the_deals_task(db):
    from decisions.sweeping import _task_of

    run = ImportRun.objects.create(filename="deals.csv", kind="deals")
    task, args = _task_of(run)
    assert (task.name, args) == ("decisions.tasks.import_deals_file", (run.pk,))
