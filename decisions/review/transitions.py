"""Proposal transitions: approve, edit and approve, reject, bulk approve, expire, supersede, roll back.

Each service is one transaction guarded by a conditional UPDATE on the
proposal's status, so two reviewers can never both decide one proposal (on
SQLite, where SELECT … FOR UPDATE is ignored, as well as on PostgreSQL), and
each writes its audit events in that same transaction.

The events are written by `decisions.audit.events` (one function each); their
actions, and which of them are overrides, are registered in
`decisions.audit.actions`. An approval over a guardrail writes the decision
event (approved or edited) and then one override event per severity it overrode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from decisions import access as roles
from decisions import audit, spend_tests, targets
from decisions.audit import events
from decisions.delivery import outbox as applying
from decisions.experiments.facts import audience_facts
from decisions.models import Application, BulkApproval, Proposal, Review
from decisions.review import audience_edits, freshness, kinds, selectors
from decisions.review.retrying import atomic_retried_on_deadlock
from objectives import guardrails
from objectives import selectors as objective_selectors
from objectives.guardrails import fields

PENDING = Proposal.Status.PENDING


# --- errors the views turn into messages -------------------------------------


class InvalidTransition(Exception):
    """The proposal is not in a state that allows this action."""


class AlreadyDecided(InvalidTransition):
    """Someone decided first; carries who, when and what so the page can say so."""

    def __init__(self, *, status: str, decision: str, by: str, at: dt.datetime | None):
        self.status, self.decision, self.by, self.at = status, decision, by, at
        verb = {"edited": "approved (edited)"}.get(decision, decision or status)
        when = f" at {timezone.localtime(at):%Y-%m-%d %H:%M}" if at else ""
        super().__init__(f"Already {verb} by {by}{when}")


class NotDecidable(InvalidTransition):
    """Expired or superseded: nobody may decide it any more."""

    def __init__(self, *, status: str):
        self.status = status
        super().__init__(f"This proposal is {status} and can no longer be decided")


class ProposalOutOfDate(InvalidTransition):
    """A campaign moved since the engine computed the change (an import, the platform, another proposal).

    The change's target would now mean another move than the one shown, so it is refused rather than applied;
    the proposal stays pending (out of date in the queue) until the next run proposes again from today's value
    and supersedes it, or it expires. Rolling back a change whose campaign moved since is refused the same way.
    """

    def __init__(self, message: str, *, drifts: list[freshness.Drift]):
        self.drifts = drifts
        super().__init__(message)


class GuardrailGate(Exception):
    """Approving needs more from the reviewer; carries the failing verdicts to show."""

    def __init__(self, message: str, *, verdicts: list[guardrails.Verdict]):
        self.verdicts = verdicts
        super().__init__(message)


class ConfirmationRequired(GuardrailGate):
    """A warn-level guardrail fails: approve again with confirm_warnings=True."""


class OverrideReasonRequired(GuardrailGate):
    """A block-level guardrail fails: a guardrail admin must write why."""


class InvalidDecision(ValueError):
    """The reviewer's input is unusable (unknown reason code, malformed edited values, missing reason)."""


# --- guardrails at decision time ---------------------------------------------


@dataclass(frozen=True)
class GuardrailContext:
    """Current rules and campaign facts, read once and shared by every proposal of a bulk approval."""

    rules: list[guardrails.Rule]
    campaigns: dict[str, guardrails.CampaignFacts]
    today: dt.date


def guardrail_context(*, today: dt.date | None = None, proposals: Iterable[Proposal] | None = None) -> GuardrailContext:
    """Rules and facts for checking every pending proposal (bulk approval, auto-approval, the stored verdicts).

    With `proposals` (one decision, the edit form's live check) only what their changes need: the facts of the
    campaigns they touch, and the other campaigns' budgets summed for the total caps (selectors.facts_for_change).
    The verdicts are the same either way; building a thousand campaigns' facts per decision was most of its cost.
    """
    today = today or timezone.localdate()
    rules = objective_selectors.active_rules()
    if proposals is None:
        campaigns = selectors.campaign_facts(today=today)
    else:
        kinds_in_force = [kind for rule in rules if (kind := guardrails.kind_named(rule.kind)) is not None]
        campaigns = selectors.facts_for_change(
            today=today,
            external_ids=targets.campaign_ids(c for p in proposals for c in p.changes),
            whole_scope=any(kind.reads_whole_scope for kind in kinds_in_force),
            month_spend=any(kind.reads_month_spend for kind in kinds_in_force),
        )
    return GuardrailContext(rules=rules, campaigns=campaigns, today=today)


def as_checked_changes(changes: Iterable[dict]) -> list[guardrails.Change]:
    # `before` stays None so the checker measures each move from the
    # campaign's current value, not from the value the engine saw: the change
    # is applied as an absolute value, so the real move is from today's budget.
    return targets.checked_changes(changes, from_now=True)


def current_verdicts(
    proposal: Proposal, *, changes: list[dict] | None = None, context: GuardrailContext | None = None
) -> list[guardrails.Verdict]:
    """Re-check the proposal (or the reviewer's edited changes) against today's guardrails and data."""
    context = context or guardrail_context(proposals=[proposal])
    changes = proposal.changes if changes is None else changes
    return guardrails.check(
        as_checked_changes(changes),
        rules=context.rules,
        campaigns=context.campaigns,
        today=context.today,
        workflows=targets.workflow_facts(changes),
        audiences=audience_facts(changes, rules=context.rules),
    )


def _failing(verdicts: list[guardrails.Verdict], severity: str) -> list[guardrails.Verdict]:
    return [v for v in verdicts if not v.passed and v.severity == severity]


def _gate(*, verdicts, actor, confirm_warnings: bool, override_reason: str) -> dict[str, list]:
    """Refuse unless the reviewer may approve over what fails; return the overridden verdicts by severity."""
    blocked, warned = _failing(verdicts, "block"), _failing(verdicts, "warn")
    if blocked and not roles.is_guardrail_admin(actor):
        raise PermissionDenied("Only a guardrail admin may approve over a block-level guardrail.")
    if blocked and not override_reason.strip():
        raise OverrideReasonRequired("Write why this block-level guardrail may be overridden.", verdicts=blocked)
    if warned and not confirm_warnings:
        raise ConfirmationRequired("Confirm that you approve over the warnings.", verdicts=warned)
    return {"block": blocked, "warn": warned}


# --- shared steps --------------------------------------------------------------


def _require_reviewer(actor) -> None:
    if not roles.can_review(actor):
        raise PermissionDenied("Only marketers and guardrail admins may decide proposals.")


def _refusal(proposal_id: int) -> InvalidTransition:
    """Why a conditional update matched nothing: read what the winner (or the clock) left behind."""
    proposal = Proposal.objects.get(pk=proposal_id)
    review = Review.objects.filter(proposal_id=proposal_id).first()
    if review is not None:
        return AlreadyDecided(
            status=proposal.status, decision=review.decision, by=review.reviewer_label, at=review.created_at
        )
    if proposal.status == PENDING:
        # Still pending but past expires_at: the expiry sweep has not run yet.
        return NotDecidable(status=Proposal.Status.EXPIRED)
    if proposal.status in (Proposal.Status.EXPIRED, Proposal.Status.SUPERSEDED):
        return NotDecidable(status=proposal.status)
    return AlreadyDecided(status=proposal.status, decision="", by="someone", at=proposal.decided_at)


def _not_expired(now: dt.datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def _claim(proposal: Proposal, *, status: str, now: dt.datetime) -> None:
    """Move the proposal out of pending, or raise: the one statement that makes a decision exclusive."""
    updated = Proposal.objects.filter(_not_expired(now), pk=proposal.pk, status=PENDING).update(
        status=status, decided_at=now
    )
    if updated != 1:
        raise _refusal(proposal.pk)
    proposal.status, proposal.decided_at = status, now


def _check_still_pending(proposal: Proposal, now: dt.datetime) -> None:
    # A cheap early answer so a late reviewer hears "already approved by …"
    # rather than a guardrail prompt; the conditional update stays the guard.
    fresh = Proposal.objects.filter(pk=proposal.pk).values("status", "expires_at").get()
    if fresh["status"] != PENDING or (fresh["expires_at"] and fresh["expires_at"] <= now):
        raise _refusal(proposal.pk)


def _refuse_out_of_date(changes: list[dict], values: dict[str, dict] | None = None) -> None:
    """Refuse a decision on changes whose campaign is not where they start any more (see freshness)."""
    values = freshness.current_values(changes) if values is None else values
    if drifts := freshness.drifts(changes, values):
        raise ProposalOutOfDate(freshness.proposal_message(drifts), drifts=drifts)


def max_proposal_p_loss() -> float:
    """The proposal-level P(loss) cap: bulk approval and auto-approval never take a proposal above it."""
    return float(getattr(settings, "WAYPOINT_MAX_PROPOSAL_P_LOSS", 0.3))


def above_p_loss_cap(proposal: Proposal) -> bool:
    return proposal.p_loss > max_proposal_p_loss() + 1e-9


def _record_overrides(*, proposal, actor, overridden: dict[str, list], reason: str, final_changes: list) -> None:
    for severity in ("block", "warn"):
        if overridden[severity]:
            events.proposal_approved_over_guardrails(
                proposal,
                actor=actor,
                severity=severity,
                verdicts=overridden[severity],
                final_changes=final_changes,
                reason=reason,
            )


def _approve(
    *,
    proposal: Proposal,
    actor,
    final_changes: list[dict],
    decision: str,
    confirm_warnings: bool,
    override_reason: str,
    context: GuardrailContext | None = None,
    bulk: bool = False,
    note: str = "",
    campaign_values: dict[str, dict] | None = None,
    final_estimate: dict | None = None,
) -> Review:
    now = timezone.now()
    _check_still_pending(proposal, now)
    # Before the guardrail question: confirming warnings about a change that can no longer be made helps nobody.
    _refuse_out_of_date(final_changes, campaign_values)
    verdicts = current_verdicts(proposal, changes=final_changes, context=context)
    overridden = _gate(
        verdicts=verdicts, actor=actor, confirm_warnings=confirm_warnings, override_reason=override_reason
    )
    # The events are appended when the block ends, after the outbox rows: the audit chain's lock is held for
    # their insert and the COMMIT only, not while the rest of the decision is written.
    with audit.deferred():
        _claim(proposal, status=Proposal.Status.APPROVED, now=now)
        review = Review.objects.create(
            proposal=proposal,
            reviewer=actor,
            reviewer_label=audit.actor_label(actor),
            decision=decision,
            final_changes=final_changes,
            final_estimate=final_estimate,
            note="\n".join(text.strip() for text in (note, override_reason) if text.strip()),
        )
        events.proposal_decided(proposal, review=review, verdicts=verdicts, bulk=bulk)
        _record_overrides(
            proposal=proposal,
            actor=actor,
            overridden=overridden,
            reason=override_reason.strip(),
            final_changes=final_changes,
        )
        applying.application_create(proposal=proposal, changes=final_changes, direction=Application.Direction.APPLY)
    return review


# --- the transitions --------------------------------------------------------------


@atomic_retried_on_deadlock
def proposal_approve(*, proposal: Proposal, actor, confirm_warnings: bool = False, override_reason: str = "") -> Review:
    """Approve as proposed, after re-checking today's guardrails; queues the apply on commit."""
    _require_reviewer(actor)
    return _approve(
        proposal=proposal,
        actor=actor,
        final_changes=list(proposal.changes),
        decision=Review.Decision.APPROVED,
        confirm_warnings=confirm_warnings,
        override_reason=override_reason,
    )


def clean_final_changes(proposal: Proposal, final_changes) -> list[dict]:
    """The reviewer may change the target values only: same campaigns, same fields, the machine's "from".
    An audience action may also be narrowed to part of its audience (decisions/review/audience_edits.py)."""
    if not isinstance(final_changes, list) or not final_changes:
        raise InvalidDecision("Edited changes must be a non-empty list.")
    if kinds.get(proposal.kind).target == fields.AUDIENCE_TARGET:
        try:
            return audience_edits.clean_all(list(proposal.changes), final_changes)
        except audience_edits.InvalidEdit as error:
            raise InvalidDecision(str(error)) from None
    machine = {(c["campaign"], c["field"]): c for c in proposal.changes}
    cleaned = {}
    for change in final_changes:
        key = (change.get("campaign"), change.get("field")) if isinstance(change, dict) else None
        if key not in machine:
            raise InvalidDecision(f"{key!r} is not one of the changes this proposal makes.")
        try:
            cleaned[key] = {**machine[key], "to": kinds.clean_target(machine[key], change.get("to"))}
        except kinds.InvalidChange as error:
            raise InvalidDecision(str(error)) from None
    if cleaned.keys() != machine.keys():
        raise InvalidDecision(
            "Edited changes must cover every change of the proposal (set “to” to “from” to keep one)."
        )
    return [cleaned[(c["campaign"], c["field"])] for c in proposal.changes]


@atomic_retried_on_deadlock
def proposal_edit_and_approve(
    *,
    proposal: Proposal,
    actor,
    final_changes: list[dict],
    note: str = "",
    confirm_warnings: bool = False,
    override_reason: str = "",
) -> Review:
    """Approve with the reviewer's values; the machine's stay in proposal.changes, the human's in the review.

    `note` says why the values changed; it is kept with the review and the audit event.
    """
    _require_reviewer(actor)
    cleaned = clean_final_changes(proposal, final_changes)
    # Saving the machine's own values is a plain approval, not an override.
    decision = Review.Decision.APPROVED if cleaned == list(proposal.changes) else Review.Decision.EDITED
    edited = decision == Review.Decision.EDITED
    return _approve(
        proposal=proposal,
        actor=actor,
        final_changes=cleaned,
        decision=decision,
        confirm_warnings=confirm_warnings,
        override_reason=override_reason,
        note=note,
        final_estimate=audience_edits.edited_estimate(proposal, cleaned) if edited else None,
    )


@atomic_retried_on_deadlock
def proposal_reject(*, proposal: Proposal, actor, reason_code: str, note: str = "") -> Review:
    _require_reviewer(actor)
    if reason_code not in Review.Reason.values:
        raise InvalidDecision(f"Choose a reason: {', '.join(Review.Reason.values)}.")
    _claim(proposal, status=Proposal.Status.REJECTED, now=timezone.now())
    review = Review.objects.create(
        proposal=proposal,
        reviewer=actor,
        reviewer_label=audit.actor_label(actor),
        decision=Review.Decision.REJECTED,
        final_changes=[],
        reason_code=reason_code,
        note=note.strip(),
    )
    events.proposal_rejected(proposal, review=review)  # the last write: the chain's lock is held to COMMIT only
    return review


_approve_one_of_many = atomic_retried_on_deadlock(_approve)


@dataclass(frozen=True)
class BulkResult:
    approved: int
    held_by_guardrails: int
    already_decided: int
    out_of_date: int = 0  # a campaign moved since it was proposed
    too_likely_to_lose: int = 0  # P(loss) above the proposal-level cap
    # Which proposals it approved, for "Undo these N approvals"; None when it approved none.
    batch: BulkApproval | None = field(default=None, compare=False)


def proposals_bulk_approve(*, proposals: Iterable[Proposal], actor) -> BulkResult:
    """Approve every given proposal that passes every guardrail now, is not out of date and is within the
    P(loss) cap (even one proposed before the cap was lowered); leave the rest for one-by-one review.

    Each approval commits on its own: the audit chain's lock is held for one proposal's write at a time, and
    taken after that proposal's row (as a single decision takes them), so bulk and single decisions never
    wait on each other in a circle; one proposal decided meanwhile does not undo the others. Called inside an
    outer transaction (a test's, say) the approvals still write one at a time but commit with it.

    The proposals it approved are recorded as one BulkApproval, written last, so that they can be undone
    as one step (bulk_approval_undo).
    """
    _require_reviewer(actor)
    proposals = list(proposals)
    context = guardrail_context()
    values = freshness.current_values(c for p in proposals for c in p.changes)
    held = decided = stale = risky = 0
    approved: list[int] = []
    now = timezone.now()
    for proposal in proposals:
        try:
            _check_still_pending(proposal, now)
        except InvalidTransition:
            decided += 1
            continue
        if freshness.drifts(proposal.changes, values):
            stale += 1
            continue
        if above_p_loss_cap(proposal):
            risky += 1
            continue
        if not all(v.passed for v in current_verdicts(proposal, context=context)):
            held += 1
            continue
        try:
            _approve_one_of_many(
                proposal=proposal,
                actor=actor,
                final_changes=list(proposal.changes),
                decision=Review.Decision.APPROVED,
                confirm_warnings=False,
                override_reason="",
                context=context,
                bulk=True,
                campaign_values=values,
            )
        except InvalidTransition:
            decided += 1
            continue
        approved.append(proposal.pk)
    batch = None
    if approved:
        batch = BulkApproval.objects.create(
            reviewer=actor, reviewer_label=audit.actor_label(actor), proposal_ids=approved
        )
    return BulkResult(
        approved=len(approved),
        held_by_guardrails=held,
        already_decided=decided,
        out_of_date=stale,
        too_likely_to_lose=risky,
        batch=batch,
    )


@dataclass(frozen=True)
class UndoResult:
    """What undoing a bulk approval did: rolled back, refused because a campaign moved since, not applied yet."""

    rolled_back: list[Proposal]
    moved: list[tuple[Proposal, list[freshness.Drift]]]
    not_applied: list[Proposal]  # approved but not applied yet, or its apply failed: nothing to undo there yet
    already_rolled_back: list[Proposal]

    @property
    def moved_names(self) -> list[str]:
        """The campaigns that moved since, each once, in the order of the proposals."""
        return list(dict.fromkeys(drift.name for _, drifts in self.moved for drift in drifts))


BULK_UNDO_REASON = "Undoing a bulk approval"


@atomic_retried_on_deadlock
def bulk_approval_undo(*, batch: BulkApproval, actor) -> UndoResult:
    """Roll back every proposal the bulk approval approved, as one step: each proposal's usual rollback (its own
    savepoint and events) and one bulk_approval.undone event naming them all.

    A proposal whose campaigns moved since is left as it is (proposal_rollback's refusal) and named; the others
    are still rolled back. A batch undoes once: the conditional update on undone_at decides between two
    reviewers; nothing to undo (every proposal already rolled back, or none applied yet) refuses and leaves the
    batch undoable.
    """
    _require_reviewer(actor)
    now = timezone.now()
    claimed = BulkApproval.objects.filter(pk=batch.pk, undone_at__isnull=True).update(
        undone_at=now, undone_by=actor, undone_by_label=audit.actor_label(actor)
    )
    if not claimed:
        batch.refresh_from_db()
        when = timezone.localtime(batch.undone_at)
        raise InvalidTransition(
            f"These approvals were already undone by {batch.undone_by_label} at {when:%Y-%m-%d %H:%M}."
        )
    proposals = list(Proposal.objects.filter(pk__in=batch.proposal_ids).order_by("id"))
    rolled, moved, not_applied, already = [], [], [], []
    with audit.deferred():
        for proposal in proposals:
            if proposal.status == Proposal.Status.ROLLED_BACK:
                already.append(proposal)
                continue
            try:
                with audit.deferred():  # nested: a refused rollback's events (none so far) are dropped with it
                    proposal_rollback(proposal=proposal, actor=actor, reason=BULK_UNDO_REASON)
            except ProposalOutOfDate as refusal:
                moved.append((proposal, refusal.drifts))
            except InvalidTransition:
                not_applied.append(proposal)
            else:
                rolled.append(proposal)
        if not rolled:
            # Raised inside the transaction: the claim on the batch is undone with it.
            raise InvalidTransition(_nothing_to_undo(already=already, moved=moved, not_applied=not_applied))
        result = UndoResult(rolled_back=rolled, moved=moved, not_applied=not_applied, already_rolled_back=already)
        events.bulk_approval_undone(batch, actor=actor, result=result)
    batch.undone_at, batch.undone_by, batch.undone_by_label = now, actor, audit.actor_label(actor)
    return result


def _nothing_to_undo(*, already: list, moved: list, not_applied: list) -> str:
    if moved:
        names = ", ".join(dict.fromkeys(drift.name for _, drifts in moved for drift in drifts))
        return f"Nothing was rolled back: {names} moved since these approvals (set them by hand)."
    if not_applied:
        return "Nothing to undo yet: these approvals have not been applied. Try again in a moment."
    return "Nothing to undo: every proposal of this bulk approval is already rolled back."


@transaction.atomic
def proposal_expire_due(*, now: dt.datetime | None = None) -> int:
    """Expire every pending proposal past its expires_at; returns how many.

    The events go in together at the end (audit.deferred): the chain's lock is held for that insert and the
    COMMIT, not for the whole sweep.
    """
    now = now or timezone.now()
    due = Proposal.objects.filter(status=PENDING, expires_at__lte=now).order_by("id")
    expired = 0
    with audit.deferred():
        for proposal in due:
            updated = Proposal.objects.filter(pk=proposal.pk, status=PENDING).update(
                status=Proposal.Status.EXPIRED, decided_at=now
            )
            if not updated:
                continue
            events.proposal_expired(proposal)
            expired += 1
    return expired


@transaction.atomic
def proposal_supersede(*, proposal: Proposal, by: Proposal) -> None:
    """A newer proposal for the same campaign and lever replaces a pending older one."""
    if by.pk == proposal.pk:
        raise InvalidTransition("A proposal cannot supersede itself.")
    now = timezone.now()
    if not Proposal.objects.filter(pk=proposal.pk, status=PENDING).update(
        status=Proposal.Status.SUPERSEDED, decided_at=now
    ):
        raise _refusal(proposal.pk)
    proposal.status, proposal.decided_at = Proposal.Status.SUPERSEDED, now
    events.proposal_superseded(proposal, by=by)


def inverse_changes(changes: list[dict]) -> list[dict]:
    return kinds.inverse(changes)


@transaction.atomic
def proposal_rollback(*, proposal: Proposal, actor, reason: str) -> Application:
    """Reverse an applied proposal: the inverse change goes out through the same outbox, audited.

    One rollback row per platform the change reached; returns the first (the only one for a single platform).
    """
    _require_reviewer(actor)
    if not reason.strip():
        raise InvalidDecision("Write why this change is rolled back.")
    applied = applying.succeeded_applies(proposal)  # one row per platform the change reached
    if proposal.kind == kinds.SPEND_TEST.name and spend_tests.has_returned(proposal):
        # Its scheduled return already went out (decisions/spend_tests.py): nothing is left to undo.
        raise InvalidTransition("This change was already returned (its spend test ended): nothing to roll back.")
    if not applied or not Proposal.objects.filter(pk=proposal.pk, status=Proposal.Status.APPLIED).update(
        status=Proposal.Status.ROLLED_BACK
    ):
        current = Proposal.objects.filter(pk=proposal.pk).values_list("status", flat=True).get()
        raise InvalidTransition(f"Only an applied proposal can be rolled back; this one is {current}.")
    # Raised after the status moved: the transaction undoes that move with everything else.
    _refuse_rollback_of_moved_campaigns(applied)
    proposal.status = Proposal.Status.ROLLED_BACK
    applied_changes = [change for row in applied for change in row.changes]
    inverse = inverse_changes(applied_changes)
    # Each platform undoes what it received, through the connector that took it there.
    rollbacks = [applying.rollback_create(undoing=row, changes=inverse_changes(row.changes)) for row in applied]
    # The last write: the chain's lock is held for the insert and the COMMIT only.
    events.proposal_rolled_back(
        proposal, actor=actor, applied_changes=applied_changes, inverse_changes=inverse, reason=reason.strip()
    )
    return rollbacks[0]


def _refuse_rollback_of_moved_campaigns(applied: list[Application]) -> None:
    """The inverse is an absolute target too: once the campaign moved since, it would undo nothing.

    A campaign still at the value the change replaced is fine: a connector that does not write Waypoint's own
    table (the webhook) leaves it there until the next import, and sending the old value again is harmless.
    """
    inverse = inverse_changes([change for row in applied for change in row.changes])
    values = freshness.current_values(inverse)
    if drifts := freshness.drifts(inverse, values, done_is_fine=True):
        raise ProposalOutOfDate(freshness.rollback_message(drifts), drifts=drifts)


def proposal_approve_by_policy(*, proposal: Proposal, policy, verdicts: list[guardrails.Verdict]) -> Review:
    """The auto-approval policy decides: recorded with its version, never over a failing verdict, never an
    out-of-date proposal, never one above the proposal-level P(loss) cap."""
    if any(not v.passed for v in verdicts):
        raise InvalidDecision("Auto-approval never approves over a warn or block verdict.")
    if above_p_loss_cap(proposal):
        raise InvalidDecision("Auto-approval never approves a proposal above the P(loss) cap.")
    _refuse_out_of_date(list(proposal.changes))
    now = timezone.now()
    _claim(proposal, status=Proposal.Status.APPROVED, now=now)
    label = f"auto-approval policy v{policy.version}"
    review = Review.objects.create(
        proposal=proposal,
        reviewer=None,
        reviewer_label=label,
        decision=Review.Decision.APPROVED,
        final_changes=list(proposal.changes),
        by_policy=True,
    )
    applying.application_create(
        proposal=proposal, changes=list(proposal.changes), direction=Application.Direction.APPLY
    )
    # The last write: the chain's lock is held for the insert and the COMMIT only.
    events.proposal_auto_approved(proposal, review=review, policy=policy, verdicts=verdicts)
    return review


def pending_verdicts_refresh(*, batch_size: int = 500) -> int:
    """Re-check every pending proposal against today's guardrails and store the verdicts the queue shows.

    Run after a guardrail, policy or objective change and after an import, so
    the queue's badges (read from the stored verdicts, one query a page) match
    what a reviewer will meet when deciding. Returns how many changed.
    """
    context = guardrail_context()
    changed, batch = 0, []
    for proposal in Proposal.objects.filter(status=PENDING).only("pk", "changes", "guardrail_verdicts").iterator():
        verdicts = [v.to_dict() for v in current_verdicts(proposal, context=context)]
        if verdicts != proposal.guardrail_verdicts:
            proposal.guardrail_verdicts = verdicts
            batch.append(proposal)
        if len(batch) >= batch_size:
            changed += Proposal.objects.bulk_update(batch, ["guardrail_verdicts"])
            batch = []
    return changed + (Proposal.objects.bulk_update(batch, ["guardrail_verdicts"]) if batch else 0)
