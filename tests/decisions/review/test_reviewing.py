import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from decisions import audit
from decisions.models import Application, AuditEvent, Campaign, Proposal, Review
from decisions.review import transitions as reviewing
from tests.factories import (
    CampaignFactory,
    GuardrailFactory,
    ProposalFactory,
    UserFactory,
    guardrail_admin,
    marketer,
    viewer,
)

pytestmark = pytest.mark.django_db


def actions(proposal: Proposal) -> list[str]:
    return list(AuditEvent.objects.filter(proposal=proposal).order_by("id").values_list("action", flat=True))


def budget_limit(pct: float, severity: str = "block", **kwargs):
    return GuardrailFactory(kind="max_budget_change_pct", params={"pct": pct}, severity=severity, **kwargs)


def budget_of(proposal: Proposal) -> Decimal:
    return Campaign.objects.get(pk=proposal.campaign_id).daily_budget


# --- approve ---------------------------------------------------------------


def test_a_marketer_approves_a_pending_proposal_and_it_is_recorded():
    proposal, actor = ProposalFactory(), marketer(first_name="Maya", last_name="Lind")
    review = reviewing.proposal_approve(proposal=proposal, actor=actor)

    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert proposal.decided_at is not None
    assert review.decision == Review.Decision.APPROVED
    assert review.final_changes == proposal.changes
    assert review.reviewer_label == f"Maya Lind ({actor.username})"
    event = AuditEvent.objects.get(proposal=proposal)
    assert (event.action, event.actor_id) == ("proposal.approved", actor.pk)
    assert event.machine_payload["changes"] == proposal.changes
    assert event.human_payload["final_changes"] == proposal.changes


def test_approval_writes_the_outbox_row_in_the_same_transaction():
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    assert application.status == Application.Status.PENDING
    assert application.direction == Application.Direction.APPLY
    assert application.changes == proposal.changes
    assert application.connector == "ledger"


def test_the_apply_runs_after_commit_and_the_ledger_moves_the_budget(django_capture_on_commit_callbacks):
    proposal = ProposalFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
        assert budget_of(proposal) == Decimal("100.00")  # nothing is applied before commit

    assert len(callbacks) == 1
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    assert budget_of(proposal) == Decimal("120.00")
    assert actions(proposal) == ["proposal.approved", "application.succeeded"]


def test_it_refuses_a_second_decision_and_names_the_first_reviewer():
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(first_name="Ana", last_name="Ruiz"))
    stale = Proposal.objects.get(pk=proposal.pk)
    stale.status = Proposal.Status.PENDING  # what a second reviewer's page still shows

    with pytest.raises(reviewing.AlreadyDecided) as refused:
        reviewing.proposal_approve(proposal=stale, actor=marketer())
    assert str(refused.value).startswith("Already approved by Ana Ruiz (")
    assert " at " in str(refused.value)
    assert refused.value.by.startswith("Ana Ruiz")
    assert Review.objects.filter(proposal=proposal).count() == 1
    assert actions(proposal) == ["proposal.approved"]


def test_it_refuses_to_reject_an_approved_proposal():
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    with pytest.raises(reviewing.AlreadyDecided, match="Already approved"):
        reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="timing")
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED


@pytest.mark.parametrize("status", [Proposal.Status.EXPIRED, Proposal.Status.SUPERSEDED])
def test_it_refuses_to_decide_an_expired_or_superseded_proposal(status):
    proposal = ProposalFactory(status=status)
    with pytest.raises(reviewing.NotDecidable, match=str(status)):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    with pytest.raises(reviewing.NotDecidable):
        reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="timing")
    assert not Review.objects.exists()
    assert Proposal.objects.get(pk=proposal.pk).status == status


def test_a_proposal_past_its_expiry_cannot_be_decided_before_the_sweep_runs():
    proposal = ProposalFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(reviewing.NotDecidable, match="expired"):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("make_actor", [viewer, UserFactory], ids=["viewer", "no-role"])
def test_only_reviewers_may_decide(make_actor):
    proposal, actor = ProposalFactory(), make_actor()
    with pytest.raises(PermissionDenied):
        reviewing.proposal_approve(proposal=proposal, actor=actor)
    with pytest.raises(PermissionDenied):
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=actor, final_changes=proposal.changes)
    with pytest.raises(PermissionDenied):
        reviewing.proposal_reject(proposal=proposal, actor=actor, reason_code="brand")
    with pytest.raises(PermissionDenied):
        reviewing.proposals_bulk_approve(proposals=[proposal], actor=actor)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    assert not AuditEvent.objects.exists()


# --- guardrails at decision time ------------------------------------------------


def test_verdicts_are_recomputed_from_todays_guardrails_not_the_stored_ones():
    proposal = ProposalFactory(guardrail_verdicts=[])  # generated when no guardrail existed
    budget_limit(10, name="Ten percent")
    (verdict,) = reviewing.current_verdicts(proposal)
    assert (verdict.name, verdict.passed, verdict.severity) == ("Ten percent", False, "block")


def test_verdicts_measure_the_move_from_the_current_budget():
    campaign = CampaignFactory(daily_budget=Decimal("80.00"))  # someone cut it since the proposal
    proposal = ProposalFactory(campaign=campaign)  # 100 → 120 as the engine saw it
    budget_limit(30)
    (verdict,) = reviewing.current_verdicts(proposal)
    assert not verdict.passed  # 80 → 120 is +50 %
    assert "50%" in verdict.message


def test_inactive_guardrails_are_not_checked():
    proposal = ProposalFactory()
    budget_limit(10, is_active=False)
    assert reviewing.current_verdicts(proposal) == []


def test_a_marketer_cannot_approve_over_a_block():
    proposal = ProposalFactory()
    budget_limit(10)
    with pytest.raises(PermissionDenied, match="guardrail admin"):
        reviewing.proposal_approve(proposal=proposal, actor=marketer(), override_reason="I know better")
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    assert not AuditEvent.objects.exists()


def test_a_guardrail_admin_must_write_a_reason_to_override_a_block():
    proposal = ProposalFactory()
    budget_limit(10)
    with pytest.raises(reviewing.OverrideReasonRequired) as refused:
        reviewing.proposal_approve(proposal=proposal, actor=guardrail_admin(), override_reason="   ")
    assert [v.kind for v in refused.value.verdicts] == ["max_budget_change_pct"]
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_a_guardrail_admin_overrides_a_block_with_a_reason_and_it_is_logged():
    proposal, admin = ProposalFactory(), guardrail_admin()
    budget_limit(10, name="Ten percent")
    review = reviewing.proposal_approve(proposal=proposal, actor=admin, override_reason="Launch week, agreed with CMO")

    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED
    assert review.note == "Launch week, agreed with CMO"
    assert actions(proposal) == ["proposal.approved", "proposal.override_block"]
    override = AuditEvent.objects.get(action="proposal.override_block")
    assert override.actor_id == admin.pk
    assert override.reason == "Launch week, agreed with CMO"
    assert override.machine_payload["verdicts"][0]["name"] == "Ten percent"


def test_a_warning_needs_a_confirmation():
    proposal = ProposalFactory()
    budget_limit(10, severity="warn")
    with pytest.raises(reviewing.ConfirmationRequired):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING

    reviewing.proposal_approve(proposal=proposal, actor=marketer(), confirm_warnings=True)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED
    assert actions(proposal) == ["proposal.approved", "proposal.override_warn"]


def test_a_late_reviewer_hears_already_decided_before_any_guardrail_prompt():
    proposal = ProposalFactory()
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="brand")
    budget_limit(10, severity="warn")
    with pytest.raises(reviewing.AlreadyDecided, match="Already rejected"):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())


# --- edit and approve ---------------------------------------------------------------


def edited(proposal: Proposal, to) -> list[dict]:
    return [{**proposal.changes[0], "to": to}]


def test_editing_approves_with_the_humans_values_and_keeps_the_machines():
    proposal, actor = ProposalFactory(), marketer()
    review = reviewing.proposal_edit_and_approve(
        proposal=proposal, actor=actor, final_changes=edited(proposal, 110), note="Finance caps us this month"
    )

    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert proposal.changes[0]["to"] == 120.0
    assert review.decision == Review.Decision.EDITED
    assert review.final_changes[0]["to"] == 110.0
    assert review.note == "Finance caps us this month"
    assert Application.objects.get(proposal=proposal).changes[0]["to"] == 110.0
    event = AuditEvent.objects.get(proposal=proposal)
    assert event.action == "proposal.edited"
    assert event.machine_payload["changes"][0]["to"] == 120.0
    assert event.human_payload["final_changes"][0]["to"] == 110.0
    assert event.reason == "Finance caps us this month"


def test_an_edit_is_checked_against_the_guardrails_with_its_own_values():
    proposal = ProposalFactory()  # +20 %
    budget_limit(10)
    reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=edited(proposal, "108.5"))
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPROVED
    assert actions(proposal) == ["proposal.edited"]

    worse = ProposalFactory()
    with pytest.raises(PermissionDenied):
        reviewing.proposal_edit_and_approve(proposal=worse, actor=marketer(), final_changes=edited(worse, 150))


def test_saving_the_machines_own_values_is_a_plain_approval():
    proposal = ProposalFactory()
    review = reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=proposal.changes)
    assert review.decision == Review.Decision.APPROVED
    assert actions(proposal) == ["proposal.approved"]


@pytest.mark.parametrize(
    "final_changes",
    [
        [],
        [{"campaign": "NOPE", "field": "daily_budget", "to": 110}],
        [{"campaign": None, "field": "status", "to": "paused"}],
        "110",
    ],
    ids=["empty", "other-campaign", "other-field", "not-a-list"],
)
def test_it_refuses_edits_outside_the_proposal(final_changes):
    proposal = ProposalFactory()
    with pytest.raises(reviewing.InvalidDecision):
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=final_changes)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


@pytest.mark.parametrize("to", [-5, "lots", float("nan"), None])
def test_it_refuses_an_unusable_budget(to):
    proposal = ProposalFactory()
    with pytest.raises(reviewing.InvalidDecision):
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=edited(proposal, to))
    assert not Review.objects.exists()


# --- reject -----------------------------------------------------------------------


def test_rejecting_needs_a_reason_code_and_keeps_the_note():
    proposal, actor = ProposalFactory(), marketer()
    review = reviewing.proposal_reject(proposal=proposal, actor=actor, reason_code="brand", note=" Off-brand timing ")

    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.REJECTED
    assert (review.decision, review.reason_code, review.note) == ("rejected", "brand", "Off-brand timing")
    assert not Application.objects.exists()
    event = AuditEvent.objects.get(proposal=proposal)
    assert (event.action, event.reason, event.human_payload["reason_code"]) == (
        "proposal.rejected",
        "Off-brand timing",
        "brand",
    )


@pytest.mark.parametrize("reason_code", ["", "because", None])
def test_it_refuses_a_rejection_without_a_known_reason(reason_code):
    proposal = ProposalFactory()
    with pytest.raises(reviewing.InvalidDecision):
        reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code=reason_code)
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


# --- bulk -------------------------------------------------------------------------


def test_bulk_approval_takes_only_those_passing_every_guardrail():
    clean, warned, blocked, decided = (ProposalFactory() for _ in range(4))
    budget_limit(10, severity="warn", scope={"campaign": warned.campaign.external_id})
    budget_limit(10, severity="block", scope={"campaign": blocked.campaign.external_id})
    reviewing.proposal_reject(proposal=decided, actor=marketer(), reason_code="timing")
    decided.status = Proposal.Status.PENDING  # the page was rendered before that rejection

    result = reviewing.proposals_bulk_approve(proposals=[clean, warned, blocked, decided], actor=marketer())

    assert result == reviewing.BulkResult(approved=1, held_by_guardrails=2, already_decided=1)
    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert statuses[clean.pk] == Proposal.Status.APPROVED
    assert statuses[warned.pk] == statuses[blocked.pk] == Proposal.Status.PENDING
    assert statuses[decided.pk] == Proposal.Status.REJECTED
    assert AuditEvent.objects.get(proposal=clean).human_payload["bulk"] is True


# --- expire and supersede -----------------------------------------------------------


def test_due_proposals_expire_with_one_system_event_each():
    now = timezone.now()
    due = [ProposalFactory(expires_at=now - dt.timedelta(hours=h)) for h in (1, 2)]
    later = ProposalFactory(expires_at=now + dt.timedelta(hours=1))
    decided = ProposalFactory(expires_at=now - dt.timedelta(hours=1), status=Proposal.Status.REJECTED)

    assert reviewing.proposal_expire_due(now=now) == 2

    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert [statuses[p.pk] for p in due] == [Proposal.Status.EXPIRED] * 2
    assert statuses[later.pk] == Proposal.Status.PENDING
    assert statuses[decided.pk] == Proposal.Status.REJECTED
    events = AuditEvent.objects.filter(action="proposal.expired")
    assert sorted(e.proposal_id for e in events) == sorted(p.pk for p in due)
    assert {(e.actor_id, e.actor_label) for e in events} == {(None, "system")}
    assert reviewing.proposal_expire_due(now=now) == 0


def test_a_newer_proposal_supersedes_a_pending_one():
    old = ProposalFactory()
    new = ProposalFactory(campaign=old.campaign)
    reviewing.proposal_supersede(proposal=old, by=new)

    assert Proposal.objects.get(pk=old.pk).status == Proposal.Status.SUPERSEDED
    event = AuditEvent.objects.get(proposal=old)
    assert (event.action, event.machine_payload["superseded_by"], event.actor_label) == (
        "proposal.superseded",
        new.pk,
        "system",
    )


def test_a_decided_proposal_is_not_superseded():
    old = ProposalFactory()
    reviewing.proposal_approve(proposal=old, actor=marketer())
    with pytest.raises(reviewing.AlreadyDecided):
        reviewing.proposal_supersede(proposal=old, by=ProposalFactory(campaign=old.campaign))
    assert Proposal.objects.get(pk=old.pk).status == Proposal.Status.APPROVED


# --- rollback -----------------------------------------------------------------------


def applied_proposal(capture) -> Proposal:
    proposal = ProposalFactory()
    with capture(execute=True):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    return proposal


def test_rolling_back_applies_the_inverse_through_the_outbox(django_capture_on_commit_callbacks):
    proposal, actor = applied_proposal(django_capture_on_commit_callbacks), marketer()
    assert budget_of(proposal) == Decimal("120.00")

    with django_capture_on_commit_callbacks(execute=True):
        application = reviewing.proposal_rollback(proposal=proposal, actor=actor, reason="Pipeline dropped")

    assert application.direction == Application.Direction.ROLLBACK
    assert application.changes[0]["from"] == 120.0 and application.changes[0]["to"] == 100.0
    assert Application.objects.get(pk=application.pk).status == Application.Status.SUCCEEDED
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.ROLLED_BACK
    assert budget_of(proposal) == Decimal("100.00")
    event = AuditEvent.objects.get(action="proposal.rolled_back")
    assert (event.actor_id, event.reason) == (actor.pk, "Pipeline dropped")
    assert actions(proposal)[-2:] == ["proposal.rolled_back", "application.succeeded"]


def test_only_an_applied_proposal_can_be_rolled_back(django_capture_on_commit_callbacks):
    approved = ProposalFactory()
    reviewing.proposal_approve(proposal=approved, actor=marketer())  # not applied: callbacks not run
    with pytest.raises(reviewing.InvalidTransition, match="approved"):
        reviewing.proposal_rollback(proposal=approved, actor=marketer(), reason="oops")

    rolled = applied_proposal(django_capture_on_commit_callbacks)
    reviewing.proposal_rollback(proposal=rolled, actor=marketer(), reason="once")
    with pytest.raises(reviewing.InvalidTransition, match="rolled_back"):
        reviewing.proposal_rollback(proposal=rolled, actor=marketer(), reason="twice")
    assert Application.objects.filter(proposal=rolled, direction="rollback").count() == 1


def test_a_rollback_needs_a_reviewer_and_a_reason(django_capture_on_commit_callbacks):
    proposal = applied_proposal(django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        reviewing.proposal_rollback(proposal=proposal, actor=viewer(), reason="no")
    with pytest.raises(reviewing.InvalidDecision):
        reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason=" ")
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED
    assert "proposal.rolled_back" not in actions(proposal)


def test_every_transition_keeps_the_audit_chain_intact(django_capture_on_commit_callbacks):
    applied = applied_proposal(django_capture_on_commit_callbacks)
    reviewing.proposal_rollback(proposal=applied, actor=marketer(), reason="test")
    reviewing.proposal_reject(proposal=ProposalFactory(), actor=marketer(), reason_code="other")
    reviewing.proposal_expire_due(now=timezone.now() + dt.timedelta(days=1))
    assert AuditEvent.objects.count() >= 4
    assert audit.verify_chain() is None
