"""The Django admin cannot change what the services audit: proposals, reviews, outbox rows, audit events,
runs, imports, campaigns, guardrails, objectives and the auto-approval policy are read-only there, so
`verify_audit_log` saying "intact" still means nothing changed behind the log's back. Users, groups and the
beat schedule stay editable."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from decisions import audit
from decisions.models import Application, AuditEvent, Campaign, GenerationRun, ImportRun, Proposal, Review
from objectives.models import AutoApprovalPolicy, Guardrail, GuardrailVersion, Objective
from tests.factories import CampaignFactory, GuardrailFactory, ObjectiveFactory, ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db

READ_ONLY = [
    Campaign,
    Proposal,
    Review,
    Application,
    GenerationRun,
    ImportRun,
    AuditEvent,
    Objective,
    Guardrail,
    GuardrailVersion,
    AutoApprovalPolicy,
]


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def proposal_form(proposal: Proposal, **changes) -> dict:
    form = {
        "run": "",
        "kind": proposal.kind,
        "campaign": proposal.campaign_id,
        "changes": '[{"campaign": "C1", "field": "daily_budget", "from": 100, "to": 120}]',
        "rationale": proposal.rationale,
        "status": proposal.status,
        "idempotency_key": proposal.idempotency_key,
        "p_loss": "0.1",
    }
    return {**form, **changes}


def test_posting_an_approval_to_a_proposal_is_refused_and_nothing_is_written(superuser_client):
    proposal = ProposalFactory()
    events_before = AuditEvent.objects.count()
    response = superuser_client.post(
        admin_url(Proposal, "change", proposal.pk), proposal_form(proposal, status="approved")
    )
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PENDING
    assert not Review.objects.exists() and not Application.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_deleting_a_proposal_is_refused(superuser_client):
    proposal = ProposalFactory()
    response = superuser_client.post(admin_url(Proposal, "delete", proposal.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Proposal.objects.filter(pk=proposal.pk).exists()


def test_the_bulk_delete_action_is_gone(superuser_client):
    proposal = ProposalFactory()
    changelist = superuser_client.get(admin_url(Proposal, "changelist"))
    assert changelist.status_code == 200
    assert b"delete_selected" not in changelist.content
    bulk_delete = {"action": "delete_selected", "_selected_action": [proposal.pk], "post": "yes"}
    superuser_client.post(admin_url(Proposal, "changelist"), bulk_delete)
    assert Proposal.objects.filter(pk=proposal.pk).exists()


def test_editing_a_campaigns_budget_is_refused(superuser_client):
    campaign = CampaignFactory(daily_budget=Decimal("100.00"))
    form = {
        "external_id": campaign.external_id,
        "name": campaign.name,
        "channel": campaign.channel,
        "platform": campaign.platform,
        "audience": campaign.audience,
        "tags": "[]",
        "daily_budget": "5000.00",
        "status": campaign.status,
    }
    response = superuser_client.post(admin_url(Campaign, "change", campaign.pk), form)
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("100.00")


def test_editing_a_guardrail_or_the_objective_is_refused(superuser_client):
    guardrail = GuardrailFactory(params={"pct": 20})
    objective = ObjectiveFactory()
    widened = {"name": guardrail.name, "kind": guardrail.kind, "severity": "warn", "params": '{"pct": 90}'}
    assert superuser_client.post(admin_url(Guardrail, "change", guardrail.pk), widened).status_code == 403
    assert superuser_client.post(admin_url(Objective, "delete", objective.pk), {"post": "yes"}).status_code == 403
    guardrail.refresh_from_db()
    assert (guardrail.severity, guardrail.params) == ("block", {"pct": 20})
    assert Objective.objects.filter(pk=objective.pk).exists()


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda model: model.__name__)
def test_no_read_only_model_can_be_added(superuser_client, model):
    assert superuser_client.get(admin_url(model, "add")).status_code == 403
    assert superuser_client.post(admin_url(model, "add"), {}).status_code == 403


def test_rows_stay_readable_in_the_admin(superuser_client):
    proposal = ProposalFactory()
    event = audit.record(action="test.event", proposal=proposal)
    for model, pk in [(Proposal, proposal.pk), (Campaign, proposal.campaign_id), (AuditEvent, event.pk)]:
        page = superuser_client.get(admin_url(model, "change", pk))
        assert page.status_code == 200
        assert b'name="_save"' not in page.content  # a view page, no save button


def test_verify_audit_log_still_means_nothing_changed(superuser_client, capsys):
    proposal = ProposalFactory()
    audit.record(action="proposal.created", label="engine", proposal=proposal)
    superuser_client.post(admin_url(Proposal, "change", proposal.pk), proposal_form(proposal, status="approved"))
    superuser_client.post(admin_url(Proposal, "delete", proposal.pk), {"post": "yes"})
    call_command("verify_audit_log")
    assert "audit log intact: 1 events" in capsys.readouterr().out
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_users_groups_and_beat_schedules_stay_editable(superuser_client):
    response = superuser_client.post("/admin/auth/group/add/", {"name": "analysts"})
    assert response.status_code == 302
    assert Group.objects.filter(name="analysts").exists()
    task = PeriodicTask.objects.get(task="decisions.audit.checkpoint_audit_log")
    assert superuser_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/auth/user/add/").status_code == 200
