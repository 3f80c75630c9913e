"""Archiving a campaign created by mistake from the Data page, and restoring it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions.data.campaigns import CampaignStateError, campaign_archive
from decisions.generation import service as generating
from decisions.models import AuditEvent, Campaign
from decisions.review import selectors
from tests.factories import CampaignFactory, DailyMetricFactory, ProposalFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

DATA = reverse("decisions:data")


def archive_url(campaign) -> str:
    return reverse("decisions:campaign-archive", args=[campaign.pk])


def restore_url(campaign) -> str:
    return reverse("decisions:campaign-restore", args=[campaign.pk])


@pytest.fixture
def admin(client):
    client.force_login(guardrail_admin(username="ada"))
    return client


@pytest.fixture
def typo():
    """What a CRM file with a typo used to create: empty, budget 0, no channel."""
    campaign = CampaignFactory(external_id="SIM-009", name="", channel="", daily_budget=0)
    DailyMetricFactory(campaign=campaign, date=dt.date(2026, 1, 1), spend=None, pipeline_value=120)
    return campaign


def test_an_admin_archives_a_campaign_with_a_reason_and_it_leaves_the_list(admin, typo):
    kept = CampaignFactory(name="Search – Brand")
    response = admin.post(archive_url(typo), {"reason": "Created by the CRM import's typo"})
    assert response.status_code == 302 and response["Location"] == DATA
    typo.refresh_from_db()
    assert typo.archived_at is not None
    page = admin.get(DATA)
    assert [c.pk for c in page.context["campaigns"]] == [kept.pk]
    assert [c.pk for c in page.context["archived"]] == [typo.pk]
    assert "SIM-009 archived" in page.content.decode()
    assert 'aria-labelledby="archived-heading"' in page.content.decode()


def test_archiving_is_audited_with_the_reason(admin, typo):
    admin.post(archive_url(typo), {"reason": "Created by the CRM import's typo"})
    event = AuditEvent.objects.get(action="campaign.archived")
    assert event.reason == "Created by the CRM import's typo"
    assert event.human_payload == {"external_id": "SIM-009", "name": "", "channel": ""}
    assert event.machine_payload["days"] == 1


def test_restoring_brings_it_back_and_is_audited(admin, typo):
    admin.post(archive_url(typo), {"reason": "typo"})
    response = admin.post(restore_url(typo), {"reason": "It was a real campaign after all"})
    assert response.status_code == 302
    typo.refresh_from_db()
    assert typo.archived_at is None
    assert AuditEvent.objects.get(action="campaign.restored").reason == "It was a real campaign after all"


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_a_guardrail_admin_archives_or_restores(client, typo, make_user):
    client.force_login(make_user())
    assert client.post(archive_url(typo), {"reason": "x"}).status_code == 403
    Campaign.objects.filter(pk=typo.pk).update(archived_at=timezone.now())
    assert client.post(restore_url(typo), {"reason": "x"}).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="campaign.").exists()


def test_archive_and_restore_take_only_a_post(admin, typo):
    assert admin.get(archive_url(typo)).status_code == 405
    assert admin.get(restore_url(typo)).status_code == 405
    typo.refresh_from_db()
    assert typo.archived_at is None


def test_a_missing_reason_is_refused_and_nothing_changes(admin, typo):
    response = admin.post(archive_url(typo), {"reason": "  "})
    assert response.status_code == 422
    assert "Say why" in response.content.decode()
    typo.refresh_from_db()
    assert typo.archived_at is None
    assert not AuditEvent.objects.exists()


def test_archiving_twice_or_restoring_an_active_campaign_is_refused(admin, typo):
    assert admin.post(restore_url(typo), {"reason": "x"}).status_code == 409
    admin.post(archive_url(typo), {"reason": "typo"})
    response = admin.post(archive_url(typo), {"reason": "again"})
    assert response.status_code == 409
    assert "already archived" in response.content.decode()
    assert AuditEvent.objects.filter(action="campaign.archived").count() == 1


def test_a_campaign_a_pending_proposal_still_changes_is_not_archived(admin):
    donor, receiver = CampaignFactory(external_id="A-1"), CampaignFactory(external_id="A-2")
    shift = ProposalFactory(
        campaign=donor,
        changes=[
            {"campaign": "A-1", "field": "daily_budget", "from": 100.0, "to": 80.0},
            {"campaign": "A-2", "field": "daily_budget", "from": 100.0, "to": 120.0},
        ],
    )
    response = admin.post(archive_url(receiver), {"reason": "mistake"})
    assert response.status_code == 409
    assert f"#{shift.pk}" in response.content.decode()
    with pytest.raises(CampaignStateError):
        campaign_archive(campaign=donor, actor=None, reason="mistake")


def test_an_archived_campaign_is_left_out_of_runs_facts_and_scopes(typo):
    real = CampaignFactory(external_id="SIM-0009", channel="display")
    campaign_archive(campaign=typo, actor=None, reason="typo")
    assert set(selectors.campaign_facts(today=dt.date(2026, 1, 2))) == {"SIM-0009"}
    assert selectors.known_campaigns().external_ids == ["SIM-0009"]
    started = generating.generation_start()
    assert generating.plan_chunks(started.run) == [[real.pk]]


def test_the_data_page_offers_archiving_to_admins_only(client, typo):
    client.force_login(viewer())
    assert "Archive…" not in client.get(DATA).content.decode()
    client.force_login(guardrail_admin())
    assert "Archive…" in client.get(DATA).content.decode()


def test_the_change_log_says_which_campaign_was_archived_in_words(admin, typo):
    admin.post(archive_url(typo), {"reason": "typo"})
    page = admin.get(reverse("decisions:history")).content.decode()
    assert "Campaign SIM-009 archived: left out of runs, guardrail scopes and the Data list" in page
