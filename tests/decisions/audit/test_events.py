"""The event builders: one per event, fixed payload keys, and only registered actions written by a day's work."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from decisions import access as roles
from decisions.audit import events
from decisions.audit.actions import Action
from decisions.data import importing
from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from objectives import services as objective_services
from tests.factories import GenerationRunFactory, ProposalFactory, UserFactory, guardrail_admin, marketer

pytestmark = pytest.mark.django_db

PROPOSED_KEYS = {"kind", "changes", "expected", "p_loss"}


def small(proposal_fields: dict | None = None) -> Proposal:
    """A 5% budget move: passes a 10% cap."""
    proposal = ProposalFactory(**(proposal_fields or {}))
    proposal.changes = [{**proposal.changes[0], "to": 105.0}]
    proposal.save(update_fields=["changes"])
    return proposal


def written() -> set[str]:
    return set(AuditEvent.objects.values_list("action", flat=True))


def test_a_day_of_work_writes_only_registered_actions():
    admin, reviewer = guardrail_admin(), marketer()
    roles.role_grant(user=UserFactory(), role=roles.MARKETER, actor=admin)
    cap = objective_services.guardrail_create(
        name="Cap", kind="max_budget_change_pct", params={"pct": 10}, severity="warn", actor=admin, reason="Small"
    )
    objective_services.objective_set(metric="pipeline_value", actor=admin, reason="Pipeline first")
    objective_services.objective_clear(actor=admin, reason="Rethinking")
    policy = objective_services.auto_approval_update(
        actor=admin, reason="Pilot", is_enabled=True, kinds=[kinds.BUDGET_CHANGE.name]
    )

    reviewing.proposal_approve(proposal=ProposalFactory(), actor=reviewer, confirm_warnings=True)
    edited = ProposalFactory()
    reviewing.proposal_edit_and_approve(
        proposal=edited, actor=reviewer, final_changes=[{**edited.changes[0], "to": 105}]
    )
    reviewing.proposal_reject(proposal=ProposalFactory(), actor=reviewer, reason_code="timing")
    reviewing.proposal_supersede(proposal=ProposalFactory(), by=ProposalFactory())
    ProposalFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    reviewing.proposal_expire_due()
    reviewing.proposal_approve_by_policy(proposal=small(), policy=policy, verdicts=[])

    objective_services.guardrail_update(guardrail=cap, severity="block", actor=admin, reason="Stricter")
    overridden = ProposalFactory()
    reviewing.proposal_approve(proposal=overridden, actor=admin, override_reason="Launch week")
    applying.application_apply(application_id=Application.objects.get(proposal=overridden).pk)
    reviewing.proposal_rollback(proposal=overridden, actor=reviewer, reason="Sales pushed back")

    stuck = small()
    reviewing.proposal_approve(proposal=stuck, actor=reviewer)
    Application.objects.filter(proposal=stuck).update(connector="carrier-pigeon")
    failed = applying.application_apply(application_id=Application.objects.get(proposal=stuck).pk)
    applying.application_retry(application=failed, actor=reviewer)

    objective_services.guardrail_deactivate(guardrail=cap, actor=admin, reason="Season over")
    objective_services.auto_approval_update(actor=admin, reason="Pause", is_enabled=False)
    importing.import_performance(stream=io.BytesIO(b"date,campaign_id,spend\n2026-01-05,N1,10.00\n"), filename="d.csv")

    registered = {action.value for action in Action}
    assert written() <= registered
    # The flow reaches most of the registry; the rest (engine runs, learning, the demo) is checked by
    # test_actions' scan of the code.
    assert len(written()) >= 20, sorted(registered - written())


def test_every_proposal_event_carries_what_the_machine_proposed_in_one_shape():
    created = events.proposal_created(ProposalFactory())
    rejected = ProposalFactory()
    reviewing.proposal_reject(proposal=rejected, actor=marketer(), reason_code="timing")
    expired = events.proposal_expired(ProposalFactory())
    for event in (created, AuditEvent.objects.get(proposal=rejected), expired):
        assert set(event.machine_payload) == PROPOSED_KEYS
    assert created.machine_payload["expected"] == {
        "metric": "pipeline_value",
        "per": "week",
        "mean": 700.0,
        "low": 300.0,
        "high": 1100.0,
    }


def test_a_recorded_action_is_a_plain_string_as_on_reload():
    event = events.proposal_created(ProposalFactory())
    assert type(event.action) is str and event.action == "proposal.created"
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash


def test_an_approval_over_a_warning_needs_no_written_reason():
    proposal = ProposalFactory()
    args = {"actor": marketer(), "verdicts": [], "final_changes": proposal.changes, "reason": "Launch"}
    warn = events.proposal_approved_over_guardrails(proposal, severity="warn", **args)
    block = events.proposal_approved_over_guardrails(proposal, severity="block", **args)
    assert (warn.action, warn.reason) == (Action.PROPOSAL_OVERRIDE_WARN, "")
    assert (block.action, block.reason) == (Action.PROPOSAL_OVERRIDE_BLOCK, "Launch")


def test_switching_auto_approval_off_is_a_stop_and_anything_else_a_change():
    on, off = {"is_enabled": True}, {"is_enabled": False}
    assert events.auto_approval_changed(before=on, after=off, actor=None, reason="r").action == "auto_approval.stopped"
    assert events.auto_approval_changed(before=off, after=on, actor=None, reason="r").action == "auto_approval.changed"
    assert events.auto_approval_changed(before=on, after=on, actor=None, reason="r").action == "auto_approval.changed"


def test_a_finished_run_is_logged_as_succeeded_or_failed():
    run = GenerationRunFactory()
    ok = events.generation_finished(run, succeeded=True, counts={"proposals": 2}, errors=[])
    failed = events.generation_finished(run, succeeded=False, counts={}, errors=[{"error": "x"}] * 30)
    assert (ok.action, failed.action) == ("generation.succeeded", "generation.failed")
    assert len(failed.machine_payload["errors"]) == 20 and ok.actor_label == "engine"
