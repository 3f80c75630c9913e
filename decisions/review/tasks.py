"""Celery tasks of the review queue: each takes ids, loads, and calls one service."""

from celery import shared_task

from decisions.review import autoapproval
from decisions.review import transitions as reviewing


# Registered names are the ones beat rows and queued messages already carry.
@shared_task(name="decisions.tasks.auto_approve_run")
def auto_approve_run(run_id: int) -> int:
    """The opt-in auto-approval policy decides the run's small, safe proposals (nothing when it is off)."""
    return autoapproval.run_auto_approve(run_id=run_id).approved


@shared_task(name="decisions.tasks.auto_approve_pending")
def auto_approve_pending() -> int:
    """After the policy is turned on or its limits change: the proposals already waiting are considered too."""
    return autoapproval.pending_auto_approve().approved


@shared_task(name="decisions.tasks.expire_proposals")
def expire_proposals() -> int:
    """Pending proposals past their expiry become expired (an override by omission, audited)."""
    return reviewing.proposal_expire_due()


@shared_task(name="decisions.tasks.refresh_pending_verdicts")
def refresh_pending_verdicts() -> int:
    """After a guardrail, policy or data change: the queue's badges follow today's guardrails."""
    return reviewing.pending_verdicts_refresh()
