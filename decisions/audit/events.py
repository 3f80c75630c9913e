"""One function per audit event, each writing its action with a fixed payload shape.

Services call these rather than `audit.record()` with an action name and hand-made dicts, so the
keys a reader finds (the timeline, the weekly report, the backtest) cannot drift from one writer
to the next. Call them inside the transaction of the change, as `record()` itself requires.
(The outbox's application.* events are still built by decisions/delivery/outbox.py.)

machine_payload holds what the machine proposed or knew; human_payload what a person chose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from decisions import audit
from decisions.audit.actions import Action
from decisions.models import AuditEvent, Review
from objectives import formatting

if TYPE_CHECKING:
    from decisions.models import AcceptanceModel, BulkApproval, Campaign, GenerationRun, Proposal
    from decisions.review.transitions import UndoResult
    from objectives.guardrails import Verdict
    from objectives.models import AutoApprovalPolicy, Guardrail, Objective

ENGINE = "engine"
LEARNING = "learning"


# --- what the machine proposed ------------------------------------------------------------------


def proposed(proposal: Proposal, verdicts: Iterable[Verdict] | None = None) -> dict:
    """The machine's side of every proposal event; `verdicts` when guardrails were checked for it."""
    payload = {
        "kind": proposal.kind,
        "changes": proposal.changes,
        "expected": {
            "metric": proposal.expected_metric,
            "per": proposal.expected_per,
            "mean": proposal.expected_mean,
            "low": proposal.expected_low,
            "high": proposal.expected_high,
        },
        "p_loss": proposal.p_loss,
    }
    if verdicts is not None:
        payload["verdicts"] = [v.to_dict() for v in verdicts]
    return payload


def proposal_created(proposal: Proposal) -> AuditEvent:
    return audit.record(
        action=Action.PROPOSAL_CREATED, label=ENGINE, proposal=proposal, machine_payload=proposed(proposal)
    )


def proposal_decided(proposal: Proposal, *, review: Review, verdicts: Iterable[Verdict], bulk: bool) -> AuditEvent:
    """A person approved, as proposed or with their own values (an edit)."""
    edited = review.decision == Review.Decision.EDITED
    return audit.record(
        action=Action.PROPOSAL_EDITED if edited else Action.PROPOSAL_APPROVED,
        actor=review.reviewer,
        proposal=proposal,
        machine_payload=proposed(proposal, verdicts),
        human_payload={"decision": review.decision, "final_changes": review.final_changes, "bulk": bulk},
        reason=review.note,
    )


_OVER_GUARDRAIL = {"warn": Action.PROPOSAL_OVERRIDE_WARN, "block": Action.PROPOSAL_OVERRIDE_BLOCK}


def proposal_approved_over_guardrails(
    proposal: Proposal, *, actor, severity: str, verdicts: Iterable[Verdict], final_changes: list, reason: str
) -> AuditEvent:
    """Written beside the decision, once per severity overridden; `verdicts` are the ones that failed."""
    return audit.record(
        action=_OVER_GUARDRAIL[severity],
        actor=actor,
        proposal=proposal,
        machine_payload={"changes": proposal.changes, "verdicts": [v.to_dict() for v in verdicts]},
        human_payload={"final_changes": final_changes, "confirmed": True},
        # Only a block needs a written reason; a warning is confirmed with a tick.
        reason=reason if severity == "block" else "",
    )


def proposal_rejected(proposal: Proposal, *, review: Review) -> AuditEvent:
    return audit.record(
        action=Action.PROPOSAL_REJECTED,
        actor=review.reviewer,
        proposal=proposal,
        machine_payload=proposed(proposal),
        human_payload={"decision": Review.Decision.REJECTED, "reason_code": review.reason_code},
        reason=review.note,
    )


def proposal_auto_approved(
    proposal: Proposal, *, review: Review, policy: AutoApprovalPolicy, verdicts: Iterable[Verdict]
) -> AuditEvent:
    return audit.record(
        action=Action.PROPOSAL_AUTO_APPROVED,
        label=review.reviewer_label,
        proposal=proposal,
        machine_payload=proposed(proposal, verdicts),
        human_payload={
            "decision": review.decision,
            "policy_version": policy.version,
            "limits": {"max_change_pct": policy.max_change_pct, "max_p_loss": policy.max_p_loss},
        },
    )


def proposal_expired(proposal: Proposal) -> AuditEvent:
    return audit.record(
        action=Action.PROPOSAL_EXPIRED,
        proposal=proposal,
        machine_payload=proposed(proposal),
        human_payload={"expires_at": proposal.expires_at},
    )


def proposal_superseded(proposal: Proposal, *, by: Proposal) -> AuditEvent:
    return audit.record(
        action=Action.PROPOSAL_SUPERSEDED,
        proposal=proposal,
        machine_payload={**proposed(proposal), "superseded_by": by.pk, "new_changes": by.changes},
    )


def bulk_approval_undone(batch: BulkApproval, *, actor, result: UndoResult) -> AuditEvent:
    """One event for a whole undone bulk approval, beside each proposal's own proposal.rolled_back."""
    return audit.record(
        action=Action.BULK_APPROVAL_UNDONE,
        actor=actor,
        machine_payload={
            "bulk_approval": batch.pk,
            "approved_by": batch.reviewer_label,
            "approved_at": batch.created_at,
            "proposal_ids": list(batch.proposal_ids),
        },
        human_payload={
            "rolled_back": [p.pk for p in result.rolled_back],
            "moved_since": [p.pk for p, _ in result.moved],
            "moved_campaigns": result.moved_names,
            "not_applied": [p.pk for p in result.not_applied],
            "already_rolled_back": [p.pk for p in result.already_rolled_back],
        },
        reason="Undo of a bulk approval",
    )


def proposal_rolled_back(
    proposal: Proposal, *, actor, applied_changes: list, inverse_changes: list, reason: str
) -> AuditEvent:
    return audit.record(
        action=Action.PROPOSAL_ROLLED_BACK,
        actor=actor,
        proposal=proposal,
        machine_payload={"changes": proposal.changes, "applied_changes": applied_changes},
        human_payload={"inverse_changes": inverse_changes},
        reason=reason,
    )


# --- policy: guardrails, objectives, auto-approval ----------------------------------------------


def guardrail_created(guardrail: Guardrail, *, snapshot: dict, actor, reason: str) -> AuditEvent:
    return audit.record(
        action=Action.GUARDRAIL_CREATED,
        actor=actor,
        guardrail=guardrail,
        machine_payload={},
        human_payload=snapshot,
        reason=reason,
    )


def _guardrail_versioned(action: Action, guardrail: Guardrail, *, before: dict, after: dict, actor, reason: str):
    return audit.record(
        action=action, actor=actor, guardrail=guardrail, machine_payload=before, human_payload=after, reason=reason
    )


def guardrail_updated(guardrail: Guardrail, *, before: dict, after: dict, actor, reason: str) -> AuditEvent:
    return _guardrail_versioned(
        Action.GUARDRAIL_UPDATED, guardrail, before=before, after=after, actor=actor, reason=reason
    )


def guardrail_deactivated(guardrail: Guardrail, *, before: dict, after: dict, actor, reason: str) -> AuditEvent:
    return _guardrail_versioned(
        Action.GUARDRAIL_DEACTIVATED, guardrail, before=before, after=after, actor=actor, reason=reason
    )


def objective_created(objective: Objective, *, label: str, reason: str) -> AuditEvent:
    """A starter objective written without a person (the demo seeder)."""
    return audit.record(
        action=Action.OBJECTIVE_CREATED,
        label=label,
        human_payload={
            "metric": objective.metric,
            "weights": objective.weights,
            "horizon_days": objective.horizon_days,
        },
        reason=reason,
    )


def objective_changed(*, before: dict, after: dict, actor, reason: str) -> AuditEvent:
    """`after` is empty when no objective is active any more."""
    return audit.record(
        action=Action.OBJECTIVE_CHANGED, actor=actor, machine_payload=before, human_payload=after, reason=reason
    )


def auto_approval_changed(*, before: dict, after: dict, actor, reason: str) -> AuditEvent:
    """Switching the policy off is its own action, so "who stopped it, when" is one filter away."""
    stopped = before["is_enabled"] and not after["is_enabled"]
    return audit.record(
        action=Action.AUTO_APPROVAL_STOPPED if stopped else Action.AUTO_APPROVAL_CHANGED,
        actor=actor,
        machine_payload=before,
        human_payload=after,
        reason=reason,
    )


# --- runs, data, learning, access -----------------------------------------------------------------


def generation_started(run: GenerationRun, *, actor) -> AuditEvent:
    return audit.record(
        action=Action.GENERATION_STARTED,
        actor=actor,
        label=None if actor else ENGINE,
        machine_payload={
            "run": run.pk,
            "window_end": run.window_end,
            "metric": run.metric,
            "policy_version": run.policy_version,
        },
    )


def generation_finished(run: GenerationRun, *, succeeded: bool, counts: dict, errors: list) -> AuditEvent:
    return audit.record(
        action=Action.GENERATION_SUCCEEDED if succeeded else Action.GENERATION_FAILED,
        label=ENGINE,
        # The run keeps every error; the log keeps enough to say what went wrong.
        machine_payload={"run": run.pk, "counts": counts, "errors": errors[:20]},
    )


def data_imported(
    *,
    actor,
    label: str | None,
    filename: str,
    rows: int,
    campaigns_created: int,
    columns: list[str],
    import_run: int,
    bytes_read: int,
    rows_read: int,
    rows_skipped: int = 0,
    unmatched: list[str] | None = None,
) -> AuditEvent:
    """`rows_skipped`: rows of the `unmatched` campaign ids, which a metric-only file does not create."""
    skipped = {"rows_skipped": rows_skipped, "unmatched": (unmatched or [])[:50]} if rows_skipped else {}
    return audit.record(
        action=Action.DATA_IMPORTED,
        actor=actor,
        label=label,
        human_payload={
            "filename": filename,
            "rows": rows,
            "campaigns_created": campaigns_created,
            "columns": columns,
            "import_run": import_run,
            **skipped,
        },
        machine_payload={"bytes": bytes_read, "rows_read": rows_read},
    )


def import_failed(run, *, reason: str) -> AuditEvent:
    """An import the sweep gave up on (`run`: the ImportRun): its task was lost or its worker died."""
    return audit.record(
        action=Action.IMPORT_FAILED,
        label=ENGINE,
        human_payload={"filename": run.filename, "import_run": run.pk},
        reason=reason,
    )


def campaign_archived(campaign: Campaign, *, days: int, actor, reason: str) -> AuditEvent:
    """`days`: how many days of figures the campaign keeps while archived."""
    return audit.record(
        action=Action.CAMPAIGN_ARCHIVED,
        actor=actor,
        human_payload=_campaign_identity(campaign),
        machine_payload={"days": days, "status": campaign.status},
        reason=reason,
    )


def campaign_restored(campaign: Campaign, *, actor, reason: str) -> AuditEvent:
    return audit.record(
        action=Action.CAMPAIGN_RESTORED, actor=actor, human_payload=_campaign_identity(campaign), reason=reason
    )


def _campaign_identity(campaign: Campaign) -> dict:
    return {"external_id": campaign.external_id, "name": campaign.name, "channel": campaign.channel}


def data_simulated(*, label: str, filename: str, rows: int, first: dt.date, last: dt.date) -> AuditEvent:
    """Rows a simulator wrote (the demo), logged as an import of the days first..last."""
    return audit.record(
        action=Action.DATA_IMPORTED,
        label=label,
        human_payload={"filename": filename, "rows": rows, "first": first, "last": last},
    )


def learning_retrained(model: AcceptanceModel, *, rescored: int) -> AuditEvent:
    return audit.record(
        action=Action.LEARNING_RETRAINED,
        label=LEARNING,
        machine_payload={
            "model": model.pk,
            "n": model.n_decisions,
            "auc": model.auc,
            "brier": model.brier,
            "step_factors": model.step_factors,
            "rescored": rescored,
        },
    )


def role_granted(*, user, role: str, actor) -> AuditEvent:
    return audit.record(
        action=Action.ROLE_GRANTED, actor=actor, human_payload={"user": user.get_username(), "role": role}
    )


def deals_imported(
    *, actor, label: str | None, filename: str, source: str, counts: dict, import_run: int, bytes_read: int
) -> AuditEvent:
    """`counts`: deals read, created, updated, restaged, matched, unmatched, without a campaign, and the
    derived cells written and kept (another file's figure)."""
    return audit.record(
        action=Action.DEALS_IMPORTED,
        actor=actor,
        label=label,
        human_payload={"filename": filename, "source": source, "import_run": import_run},
        machine_payload={"bytes": bytes_read, **counts},
    )


def campaign_alias_changed(*, alias, actor, added: bool, deals: int) -> AuditEvent:
    """`deals`: the stored deals the alias now matches (added) or no longer matches (removed)."""
    return audit.record(
        action=Action.CAMPAIGN_ALIAS_ADDED if added else Action.CAMPAIGN_ALIAS_REMOVED,
        actor=actor,
        human_payload={
            "reference": alias.reference,
            "campaign": alias.campaign.external_id,
            "campaign_name": alias.campaign.name,
        },
        machine_payload={"deals": deals},
    )


def experiment_imported(*, experiment, actor, label: str | None, filename: str, import_run: int) -> AuditEvent:
    return audit.record(
        action=Action.EXPERIMENT_IMPORTED,
        actor=actor,
        label=label,
        human_payload={
            "name": experiment.name,
            "control": experiment.control_arm,
            "filename": filename,
            "import_run": import_run,
            "follows": experiment.follows.name if experiment.follows_id else "",
        },
        machine_payload={
            "customers": experiment.customers,
            "arm_sizes": experiment.arm_sizes,
            "outcomes": experiment.outcomes,
            "attributes": experiment.attributes,
        },
    )


def experiment_action_changed(*, action, actor, before: dict) -> AuditEvent:
    """`before`: the action's name, subject line and message before the change; the payloads compare them."""
    return audit.record(
        action=Action.EXPERIMENT_ACTION_CHANGED,
        actor=actor,
        machine_payload={**before, "arm": action.arm},
        human_payload={
            "experiment": action.experiment.name,
            "arm": action.arm,
            "name": action.name,
            "subject_line": action.subject_line,
            "message": action.message,
        },
    )


def experiment_reanalysed(*, experiment, actor, metric: str) -> AuditEvent:
    """`metric`: what the new analysis will be judged in; the payload keeps what the last one was judged in."""
    previous = (experiment.analysis or {}).get("metric", "")
    return audit.record(
        action=Action.EXPERIMENT_REANALYSED,
        actor=actor,
        machine_payload={"experiment_id": experiment.pk, "metric": metric, "previous_metric": previous},
        human_payload={
            "experiment": experiment.name,
            "metric_label": formatting.metric_label(metric),
            "previous_metric_label": formatting.metric_label(previous) if previous else "",
        },
    )


def workflows_imported(
    *, actor, label: str | None, filename: str, source: str, counts: dict, import_run: int, bytes_read: int
) -> AuditEvent:
    """`counts`: workflows read, created, updated, and how many the file lists as enabled."""
    return audit.record(
        action=Action.WORKFLOWS_IMPORTED,
        actor=actor,
        label=label,
        human_payload={"filename": filename, "source": source, "import_run": import_run},
        machine_payload={"bytes": bytes_read, **counts},
    )


def workflow_audit_changed(*, actor, before: int, after: int, reason: str) -> AuditEvent:
    return audit.record(
        action=Action.WORKFLOW_AUDIT_CHANGED,
        actor=actor,
        human_payload={"stale_after_days": after},
        machine_payload={"stale_after_days": before},
        reason=reason,
    )


# --- audience lists (decisions/audiences.py) --------------------------------------------------------


def _audience_list_payload(audience_list, *, by_proposal: int | None) -> dict:
    return {
        "list": audience_list.pk,
        "experiment": audience_list.experiment.name,
        "segment": audience_list.segment,
        "action": audience_list.action,
        "customers": len(audience_list.customer_ids),
        "without_id": audience_list.without_id,
        "by_proposal": by_proposal,
    }


def audience_list_published(audience_list, *, by_proposal: int | None) -> AuditEvent:
    """An applied audience action's customer list went out (the ledger, or a webhook that took it)."""
    return audit.record(
        action=Action.AUDIENCE_LIST_PUBLISHED,
        label="connector",
        proposal=audience_list.proposal,
        machine_payload=_audience_list_payload(audience_list, by_proposal=by_proposal),
    )


def audience_list_withdrawn(audience_list, *, by_proposal: int | None) -> AuditEvent:
    """A live list was withdrawn: rolled back, or replaced by another action for the same audience."""
    return audit.record(
        action=Action.AUDIENCE_LIST_WITHDRAWN,
        label="connector",
        proposal=audience_list.proposal,
        machine_payload=_audience_list_payload(audience_list, by_proposal=by_proposal),
    )


def experiment_follow_up_recorded(*, experiment, earlier, comparisons: list[dict]) -> AuditEvent:
    """A follow-up test was analysed: the realised uplift of each earlier audience action, against its interval."""
    return audit.record(
        action=Action.EXPERIMENT_FOLLOW_UP_RECORDED,
        label="engine",
        machine_payload={
            "experiment": experiment.name,
            "follows": earlier.name,
            "comparisons": comparisons,
        },
    )
