"""Reads for the History page: what was decided, by whom, and where people overrode the machine.

Which kinds of override exist, and their labels, is the audit registry's (decisions/audit/actions.py).
Here each kind is found on a proposal: edits, rejections, expiries and rollbacks show in the proposal's
status and review; approvals over a guardrail only in the audit log, so those two are read with an
EXISTS per row. Timelines are read and worded by decisions/audit/timeline.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from decisions.audit import actions
from decisions.audit.actions import Action
from decisions.models import AuditEvent, Proposal, Review

# History's override filter and badges: the registry's override kinds, in its order.
OVERRIDE_LABELS = {code: kind.label for code, kind in actions.OVERRIDE_KINDS.items()}


def _audit_exists(action: str) -> Exists:
    return Exists(AuditEvent.objects.filter(proposal=OuterRef("pk"), action=action))


def override_q(kind: str = "any") -> Q:
    """SQL condition for proposals carrying one override kind, or any of them."""
    conditions = {
        "edited": Q(review__decision=Review.Decision.EDITED),
        "rejected": Q(review__decision=Review.Decision.REJECTED),
        "override_warn": Q(overrode_warn=True),
        "override_block": Q(overrode_block=True),
        "expired": Q(status=Proposal.Status.EXPIRED),
        "rolled_back": Q(status=Proposal.Status.ROLLED_BACK),
    }
    if kind != "any":
        return conditions[kind]
    combined = Q()
    for condition in conditions.values():
        combined |= condition
    return combined


def decided_proposals() -> QuerySet[Proposal]:
    """Everything that left the queue, newest decision first, with the two audit-only override flags."""
    return (
        Proposal.objects.exclude(status=Proposal.Status.PENDING)
        .select_related("campaign", "review")
        .annotate(
            overrode_warn=_audit_exists(Action.PROPOSAL_OVERRIDE_WARN),
            overrode_block=_audit_exists(Action.PROPOSAL_OVERRIDE_BLOCK),
        )
        .order_by("-decided_at", "-id")
    )


def overrides_of(proposal: Proposal) -> list[tuple[str, str]]:
    """(code, label) for each way this proposal was overridden; needs decided_proposals()' annotations."""
    review = getattr(proposal, "review", None)
    found = {
        "edited": review is not None and review.decision == Review.Decision.EDITED,
        "rejected": review is not None and review.decision == Review.Decision.REJECTED,
        "override_warn": getattr(proposal, "overrode_warn", False),
        "override_block": getattr(proposal, "overrode_block", False),
        "expired": proposal.status == Proposal.Status.EXPIRED,
        "rolled_back": proposal.status == Proposal.Status.ROLLED_BACK,
    }
    return [(code, OVERRIDE_LABELS[code]) for code, present in found.items() if present]


def with_timelines(proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """One extra query loads every listed proposal's audit events, oldest first, as `timeline_events`."""
    events = AuditEvent.objects.order_by("id")
    return proposals.prefetch_related(Prefetch("audit_events", queryset=events, to_attr="timeline_events"))


@dataclass(frozen=True)
class HistorySummary:
    decided: int
    overrides: int

    @property
    def override_pct(self) -> int:
        return round(100 * self.overrides / self.decided) if self.decided else 0


def history_summary(proposals: QuerySet[Proposal]) -> HistorySummary:
    totals = proposals.order_by().aggregate(decided=Count("pk"), overrides=Count("pk", filter=override_q()))
    return HistorySummary(**totals)


def other_activity(limit: int = 20) -> QuerySet[AuditEvent]:
    """Audit events about policy, data, runs and roles rather than one proposal."""
    return AuditEvent.objects.filter(proposal__isnull=True).order_by("-id")[:limit]
