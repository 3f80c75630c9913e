"""A connector per platform: a change on two platforms is two outbox rows, applied, failed, retried and rolled
back platform by platform."""

import hashlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import parse_platform_connectors
from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, Campaign, Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, ProposalFactory, marketer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def shift_across_platforms() -> tuple[Proposal, Campaign, Campaign]:
    """Budget moves from a Google Ads campaign to a Meta one: one decision, two platforms."""
    google, meta = CampaignFactory(platform="google_ads"), CampaignFactory(platform="meta")
    changes = [
        {"campaign": google.external_id, "field": "daily_budget", "from": 100.0, "to": 80.0},
        {"campaign": meta.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0},
    ]
    proposal = ProposalFactory(kind=kinds.BUDGET_SHIFT.name, campaign=google, changes=changes)
    return proposal, google, meta


def rows(proposal: Proposal, direction: str = "apply") -> list[Application]:
    return list(Application.objects.filter(proposal=proposal, direction=direction).order_by("id"))


def budget(campaign: Campaign) -> Decimal:
    return Campaign.objects.get(pk=campaign.pk).daily_budget


def status(proposal: Proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).status


# --- which connector, which rows ------------------------------------------------------------------


def test_a_change_on_two_platforms_becomes_one_row_per_platform_with_its_own_connector(settings):
    settings.WAYPOINT_CONNECTOR = "ledger"
    settings.WAYPOINT_CONNECTORS = {"meta": "webhook"}
    proposal, google, meta = shift_across_platforms()

    reviewing.proposal_approve(proposal=proposal, actor=marketer())

    google_row, meta_row = rows(proposal)
    assert (google_row.platform, google_row.connector) == ("google_ads", "ledger")
    assert (meta_row.platform, meta_row.connector) == ("meta", "webhook")
    assert [c["campaign"] for c in google_row.changes] == [google.external_id]
    assert [c["campaign"] for c in meta_row.changes] == [meta.external_id]
    assert google_row.idempotency_key == applying.application_key(proposal, "apply", "google_ads")
    assert meta_row.idempotency_key == applying.application_key(proposal, "apply", "meta")
    assert applying.application_key(proposal, "apply") not in {google_row.idempotency_key, meta_row.idempotency_key}


def test_a_single_platform_change_keeps_the_key_it_always_had(settings):
    settings.WAYPOINT_CONNECTORS = {"google_ads": "ledger"}
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())

    (row,) = rows(proposal)
    # The derivation rows already in flight were written with: adding platforms must not change it.
    assert row.idempotency_key == hashlib.sha256(f"waypoint:{proposal.idempotency_key}:apply".encode()).hexdigest()
    assert row.platform == "google_ads"


def test_a_platform_the_setting_does_not_name_uses_the_default_connector(settings):
    settings.WAYPOINT_CONNECTOR = "webhook"
    settings.WAYPOINT_CONNECTORS = {"meta": "ledger"}
    proposal, _, _ = shift_across_platforms()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert [(r.platform, r.connector) for r in rows(proposal)] == [("google_ads", "webhook"), ("meta", "ledger")]


def test_an_unknown_connector_for_a_platform_stops_the_approval_with_a_clear_message(settings):
    settings.WAYPOINT_CONNECTORS = {"google_ads": "carrier-pigeon"}
    proposal = ProposalFactory()

    with pytest.raises(ImproperlyConfigured) as refused:
        reviewing.proposal_approve(proposal=proposal, actor=marketer())

    message = str(refused.value)
    assert "WAYPOINT_CONNECTORS" in message and "google_ads" in message and "carrier-pigeon" in message
    assert "ledger, webhook" in message
    assert not Application.objects.filter(proposal=proposal).exists()
    assert status(proposal) == Proposal.Status.PENDING


def test_an_unknown_default_connector_names_its_setting(settings):
    settings.WAYPOINT_CONNECTOR = "fax"
    settings.WAYPOINT_CONNECTORS = {}
    with pytest.raises(ImproperlyConfigured, match='WAYPOINT_CONNECTOR names connector "fax"'):
        reviewing.proposal_approve(proposal=ProposalFactory(), actor=marketer())


# --- the setting ------------------------------------------------------------------------------------


def test_the_setting_reads_platform_connector_pairs():
    assert parse_platform_connectors("") == {}
    assert parse_platform_connectors(" google_ads=webhook, meta = ledger ,") == {
        "google_ads": "webhook",
        "meta": "ledger",
    }


@pytest.mark.parametrize("value", ["google_ads", "=webhook", "meta=", "google_ads:webhook"])
def test_a_malformed_entry_is_refused_with_the_entry_and_an_example(value):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_platform_connectors(f"meta=webhook,{value}")
    assert f'"{value}" is not platform=connector' in str(refused.value)
    assert "google_ads=webhook,meta=webhook" in str(refused.value)


def test_a_platform_named_twice_with_different_connectors_is_refused():
    with pytest.raises(ImproperlyConfigured, match='platform "meta" twice'):
        parse_platform_connectors("meta=webhook,meta=ledger")


@pytest.mark.slow
def test_a_malformed_setting_stops_startup():
    environment = {**os.environ, "WAYPOINT_CONNECTORS": "google_ads", "DJANGO_SETTINGS_MODULE": "config.settings"}
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert 'WAYPOINT_CONNECTORS: "google_ads" is not platform=connector' in started.stderr


# --- applied, failed, retried, rolled back per platform -----------------------------------------------


def test_the_proposal_is_applied_only_when_every_platform_has_its_change():
    proposal, google, meta = shift_across_platforms()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    google_row, meta_row = rows(proposal)

    applying.application_apply(application_id=google_row.pk)
    assert (budget(google), budget(meta)) == (Decimal("80.00"), Decimal("100.00"))
    assert status(proposal) == Proposal.Status.APPROVED

    applying.application_apply(application_id=meta_row.pk)
    assert budget(meta) == Decimal("120.00")
    assert status(proposal) == Proposal.Status.APPLIED
    events = AuditEvent.objects.filter(action="application.succeeded").order_by("id")
    assert [e.machine_payload["platform"] for e in events] == ["google_ads", "meta"]


def test_one_platform_giving_up_fails_the_proposal_and_retrying_that_row_completes_it(
    receiver, settings, django_capture_on_commit_callbacks
):
    server = receiver([422])
    settings.WAYPOINT_CONNECTOR = "ledger"
    settings.WAYPOINT_CONNECTORS = {"meta": "webhook"}
    proposal, google, _ = shift_across_platforms()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    google_row, meta_row = rows(proposal)

    applying.application_apply(application_id=meta_row.pk)
    assert status(proposal) == Proposal.Status.FAILED
    failed = AuditEvent.objects.get(action="application.failed")
    assert (failed.machine_payload["platform"], failed.machine_payload["connector"]) == ("meta", "webhook")

    # The other platform still gets its change, but cannot make a failed proposal applied.
    applying.application_apply(application_id=google_row.pk)
    assert budget(google) == Decimal("80.00")
    assert status(proposal) == Proposal.Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        applying.application_retry(application=meta_row, actor=marketer())

    assert Application.objects.get(pk=meta_row.pk).status == Application.Status.SUCCEEDED
    assert Application.objects.get(pk=google_row.pk).attempts == 1  # the retry touched only its own row
    assert status(proposal) == Proposal.Status.APPLIED
    assert server.applied == {meta_row.idempotency_key: 1}


def test_retrying_one_row_leaves_the_proposal_failed_while_another_platform_is_failed(receiver, settings):
    receiver([422, 422, 422])
    settings.WAYPOINT_CONNECTOR = "webhook"
    proposal, _, _ = shift_across_platforms()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    first, second = rows(proposal)
    for row in (first, second):
        applying.application_apply(application_id=row.pk)
    assert status(proposal) == Proposal.Status.FAILED

    applying.application_retry(application=first, actor=marketer())

    assert Application.objects.get(pk=first.pk).status == Application.Status.PENDING
    assert status(proposal) == Proposal.Status.FAILED


def test_a_rollback_sends_the_inverse_of_each_platform_row_through_its_connector(
    receiver, settings, django_capture_on_commit_callbacks
):
    server = receiver([])
    settings.WAYPOINT_CONNECTOR = "ledger"
    settings.WAYPOINT_CONNECTORS = {"meta": "webhook"}
    proposal, google, meta = shift_across_platforms()
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert status(proposal) == Proposal.Status.APPLIED
    # Sending the rollback is up to each row's connector, not today's setting.
    settings.WAYPOINT_CONNECTORS = {}

    with django_capture_on_commit_callbacks(execute=True):
        first = reviewing.proposal_rollback(proposal=Proposal.objects.get(pk=proposal.pk), actor=marketer(), reason="x")

    google_back, meta_back = rows(proposal, "rollback")
    assert first.pk == google_back.pk
    assert [(r.platform, r.connector, r.status) for r in (google_back, meta_back)] == [
        ("google_ads", "ledger", Application.Status.SUCCEEDED),
        ("meta", "webhook", Application.Status.SUCCEEDED),
    ]
    assert google_back.changes == [{"campaign": google.external_id, "field": "daily_budget", "from": 80.0, "to": 100.0}]
    assert meta_back.changes == [{"campaign": meta.external_id, "field": "daily_budget", "from": 120.0, "to": 100.0}]
    assert budget(google) == Decimal("100.00")
    assert meta_back.idempotency_key == applying.application_key(proposal, "rollback", "meta")
    assert [r["body"]["direction"] for r in server.requests] == ["apply", "rollback"]
    assert server.requests[1]["body"]["changes"] == meta_back.changes
    keys = {r.idempotency_key for r in Application.objects.filter(proposal=proposal)}
    assert len(keys) == 4
    assert status(proposal) == Proposal.Status.ROLLED_BACK
    rolled_back = AuditEvent.objects.get(action="proposal.rolled_back")
    assert len(rolled_back.machine_payload["applied_changes"]) == 2
