"""Auto-approval under risk limits: small, safe proposals go through without a click (opt-in, off by default).

A proposal qualifies only when the policy is on, its kind (and every campaign's
channel) is allowed, every budget move is within `max_change_pct` of the
campaign's budget, P(loss) is within `max_p_loss` and within the proposal-level
cap (WAYPOINT_MAX_PROPOSAL_P_LOSS, which also holds for proposals made before it
was lowered), its campaigns are still where it starts (not out of date), and
every guardrail passes now — never over a warn or block verdict. Such proposals are decided by the
policy (recorded with its version), applied like any other, counted separately
in the weekly report, and any reviewer can roll one back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from decisions.models import Campaign, GenerationRun, Proposal, Review
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
    cap = reviewing.max_proposal_p_loss()
    if p_loss > cap + 1e-9:
        return f"P(loss) {p_loss:.2f} is above the proposal cap {cap:g}"
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
    approved, by_run = 0, Counter()
    for proposal in proposals:
        verdicts = reviewing.current_verdicts(proposal, context=context)
        reason = why_not(
            policy=policy,
            kind=proposal.kind,
            channels={channels.get(c.get("campaign"), "") for c in proposal.changes},
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
        by_run[proposal.run_id] += 1
    _count_on_runs(by_run)
    return AutoApproved(approved=approved, skipped=len(proposals) - approved)


def _count_on_runs(by_run: Counter) -> None:
    """Each run's `auto_approved` count grows by the policy's approvals of its proposals (the Runs page)."""
    for run_id, approved in by_run.items():
        if run_id is None:
            continue
        with transaction.atomic():
            run = GenerationRun.objects.select_for_update().filter(pk=run_id).first()
            if run is not None:
                run.counts = {**run.counts, "auto_approved": run.counts.get("auto_approved", 0) + approved}
                run.save(update_fields=["counts"])


def pending_auto_approve() -> AutoApproved:
    """When the policy is turned on or widened, the proposals already waiting are considered too."""
    pending = Proposal.objects.filter(status=Proposal.Status.PENDING).order_by("-priority", "id")
    return proposals_auto_approve(proposals=list(pending))


# --- what a policy would do, before it is saved --------------------------------------------------------------

PREVIEW_DAYS = 30
PREVIEW_LIST = 20


@dataclass(frozen=True)
class Preview:
    """What a policy would approve of `considered` proposals: how many, the first few, their expected worth."""

    considered: int
    approved: int
    first: list[Proposal]  # the first PREVIEW_LIST of them, in the order given
    worth: dict[str, float]  # Σ expected mean per week, by the metric the proposals were made for


def preview(policy: AutoApprovalPolicy, proposals) -> Preview:
    """Judge each proposal by the policy's limits and its stored guardrail verdicts (refreshed after every
    policy change), without approving anything; approving re-checks each against today's guardrails."""
    channels = dict(Campaign.objects.values_list("external_id", "channel"))
    considered, approved, first, worth = 0, 0, [], Counter()
    for proposal in proposals.iterator(chunk_size=2000):
        considered += 1
        reason = why_not(
            policy=policy,
            kind=proposal.kind,
            channels={channels.get(c.get("campaign"), "") for c in proposal.changes},
            changes=proposal.changes,
            p_loss=proposal.p_loss,
            verdicts=[_StoredVerdict(v) for v in proposal.guardrail_verdicts or []],
        )
        if reason:
            continue
        approved += 1
        worth[proposal.expected_metric] += proposal.expected_mean
        if len(first) < PREVIEW_LIST:
            first.append(proposal)
    return Preview(considered=considered, approved=approved, first=first, worth=dict(worth))


class _StoredVerdict:
    """A verdict as stored on the proposal (a dict), read as why_not reads a live one."""

    def __init__(self, stored: dict):
        self.passed = bool(stored.get("passed", True))
        self.name = stored.get("name", "?")


def pending_preview(policy: AutoApprovalPolicy) -> Preview:
    return preview(policy, Proposal.objects.filter(status=Proposal.Status.PENDING).order_by("-priority", "id"))


def recent_preview(policy: AutoApprovalPolicy, *, now=None, days: int = PREVIEW_DAYS) -> Preview:
    """The last `days` days' proposals, whatever became of them: what the policy would have approved."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    return preview(policy, Proposal.objects.filter(created_at__gte=since).order_by("-created_at", "id"))


def recent_decisions(limit: int = 20):
    """The policy's newest approvals, with what became of them (applied, rolled back)."""
    return (
        Review.objects.filter(by_policy=True)
        .select_related("proposal", "proposal__campaign")
        .order_by("-created_at", "-id")[:limit]
    )
