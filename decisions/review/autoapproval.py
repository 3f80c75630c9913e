"""Auto-approval under risk limits: small, safe proposals go through without a click (opt-in, off by default).

A proposal qualifies only when the policy is on, its kind (and every campaign's
channel) is allowed, every budget move is within `max_change_pct` of the
campaign's budget, P(loss) is within `max_p_loss`, and every guardrail passes
now — never over a warn or block verdict. Such proposals are decided by the
policy (recorded with its version), applied like any other, counted separately
in the weekly report, and any reviewer can roll one back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from decisions.models import Campaign, GenerationRun, Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from objectives.guardrails import fields
from objectives.models import AutoApprovalPolicy

logger = logging.getLogger(__name__)


def current_policy() -> AutoApprovalPolicy:
    return AutoApprovalPolicy.objects.filter(pk=1).first() or AutoApprovalPolicy(pk=1)


def largest_move_pct(changes: list[dict]) -> float:
    """The biggest move as % of the value it starts from; a status or audience change counts as 100%."""
    return kinds.largest_move_pct(changes)


def why_not(
    *, policy: AutoApprovalPolicy, kind: str, channels: set[str], changes: list[dict], p_loss: float, verdicts: list
) -> str:
    """Empty when the policy may approve; otherwise the first reason it may not (pure, no database)."""
    if not policy.is_enabled:
        return "auto-approval is off"
    if kind not in policy.kinds:
        return f"{kind} is not a kind the policy approves"
    if policy.channels and not channels <= set(policy.channels):
        return f"channel {', '.join(sorted(channels - set(policy.channels)))} is not allowed"
    try:
        move = largest_move_pct(changes)
    except fields.UnknownField as error:
        # Never approve what cannot be measured; say why, loudly, in the reason and the log.
        logger.error("auto-approval refused a change it cannot measure: %s", error)
        return f"cannot measure the move: {error}"
    if move > policy.max_change_pct + 1e-9:
        return f"moves {move:.1f}% (limit {policy.max_change_pct:g}%)"
    if p_loss > policy.max_p_loss + 1e-9:
        return f"P(loss) {p_loss:.2f} (limit {policy.max_p_loss:g})"
    failing = [v for v in verdicts if not v.passed]
    if failing:
        return f"guardrail {failing[0].name} does not pass"
    return ""


@dataclass(frozen=True)
class AutoApproved:
    approved: int
    skipped: int


def run_auto_approve(*, run_id: int) -> AutoApproved:
    """Let the policy decide the run's pending proposals that qualify; the rest wait for people."""
    run = GenerationRun.objects.get(pk=run_id)
    pending = list(Proposal.objects.filter(run=run, status=Proposal.Status.PENDING).order_by("id"))
    return proposals_auto_approve(proposals=pending)


def proposals_auto_approve(*, proposals: list[Proposal]) -> AutoApproved:
    policy = current_policy()
    if not policy.is_enabled or not proposals:
        return AutoApproved(approved=0, skipped=len(proposals))
    context = reviewing.guardrail_context()
    channels = dict(Campaign.objects.values_list("external_id", "channel"))
    approved = 0
    for proposal in proposals:
        verdicts = reviewing.current_verdicts(proposal, context=context)
        reason = why_not(
            policy=policy,
            kind=proposal.kind,
            channels={channels.get(c["campaign"], "") for c in proposal.changes},
            changes=proposal.changes,
            p_loss=proposal.p_loss,
            verdicts=verdicts,
        )
        if reason:
            continue
        try:
            with transaction.atomic():
                # Read the switch again inside the transaction: turning it off stops the very next approval.
                if not AutoApprovalPolicy.objects.select_for_update().filter(pk=1, is_enabled=True).exists():
                    break
                reviewing.proposal_approve_by_policy(proposal=proposal, policy=policy, verdicts=verdicts)
        except reviewing.InvalidTransition:
            continue
        approved += 1
    return AutoApproved(approved=approved, skipped=len(proposals) - approved)
