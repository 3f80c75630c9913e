"""Reads for the History page: what left the queue, how, by whom, and where people overrode the machine.

The words come from the audit registry (decisions/audit/actions.py), shared with the weekly report: a
proposal leaves the queue by one of six exits — four decisions (approved as proposed, edited, rejected,
auto-approved by the policy) and two that are none (expired, superseded) — and a decision is overridden
when it was edited or rejected, approved over a guardrail, or later rolled back. Here each is found on a
proposal: exits in its status and review, rollbacks in its status, approvals over a guardrail only in the
audit log (read with an EXISTS per row). Timelines are read and worded by decisions/audit/timeline.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from decisions.audit import actions
from decisions.audit.actions import Action
from decisions.models import AuditEvent, Proposal, Review

# History's override filter and badges: the registry's override kinds, in its order.
OVERRIDE_LABELS = {code: kind.label for code, kind in actions.OVERRIDE_KINDS.items()}
# How a proposal left the queue, by the registry's exit codes.
EXIT_LABELS = {code: exit.label for code, exit in actions.EXITS.items()}
DECISION_EXITS = tuple(code for code, exit in actions.EXITS.items() if exit.is_decision)


def _audit_exists(action: str) -> Exists:
    return Exists(AuditEvent.objects.filter(proposal=OuterRef("pk"), action=action))


def exit_q(code: str) -> Q:
    """SQL condition for proposals that left the queue by this exit (a registry exit code)."""
    by_person = Q(review__by_policy=False)
    conditions = {
        "approved": by_person & Q(review__decision=Review.Decision.APPROVED),
        "edited": by_person & Q(review__decision=Review.Decision.EDITED),
        "rejected": by_person & Q(review__decision=Review.Decision.REJECTED),
        "auto_approved": Q(review__by_policy=True),
        "expired": Q(status=Proposal.Status.EXPIRED, review__isnull=True),
        "superseded": Q(status=Proposal.Status.SUPERSEDED, review__isnull=True),
    }
    return conditions[code]


def decided_q() -> Q:
    """Proposals a person or the policy decided (expired and superseded ones were not)."""
    return Q(review__isnull=False)


def override_q(kind: str = "any") -> Q:
    """SQL condition for proposals carrying one override kind, or any of them."""
    conditions = {
        "edited": Q(review__decision=Review.Decision.EDITED),
        "rejected": Q(review__decision=Review.Decision.REJECTED),
        "override_warn": Q(overrode_warn=True),
        "override_block": Q(overrode_block=True),
        "rolled_back": Q(status=Proposal.Status.ROLLED_BACK),
    }
    if kind != "any":
        return conditions[kind]
    combined = Q()
    for condition in conditions.values():
        combined |= condition
    return combined


def decided_proposals() -> QuerySet[Proposal]:
    """Everything that left the queue, newest first, with the two audit-only override flags and the outcome."""
    return (
        Proposal.objects.exclude(status=Proposal.Status.PENDING)
        .select_related("campaign", "review", "outcome")
        .annotate(
            overrode_warn=_audit_exists(Action.PROPOSAL_OVERRIDE_WARN),
            overrode_block=_audit_exists(Action.PROPOSAL_OVERRIDE_BLOCK),
        )
        .order_by("-decided_at", "-id")
    )


def exit_of(proposal: Proposal) -> str:
    """The registry exit code of a proposal out of the queue ("" while pending)."""
    review = getattr(proposal, "review", None)
    if review is not None:
        return "auto_approved" if review.by_policy else review.decision
    return proposal.status if proposal.status in EXIT_LABELS else ""


def overrides_of(proposal: Proposal) -> list[tuple[str, str]]:
    """(code, label) for each way this proposal was overridden; needs decided_proposals()' annotations."""
    review = getattr(proposal, "review", None)
    found = {
        "edited": review is not None and review.decision == Review.Decision.EDITED,
        "rejected": review is not None and review.decision == Review.Decision.REJECTED,
        "override_warn": getattr(proposal, "overrode_warn", False),
        "override_block": getattr(proposal, "overrode_block", False),
        "rolled_back": proposal.status == Proposal.Status.ROLLED_BACK,
    }
    return [(code, OVERRIDE_LABELS[code]) for code, present in found.items() if present]


def with_timelines(proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """One extra query loads every listed proposal's audit events, oldest first, as `timeline_events`."""
    events = AuditEvent.objects.order_by("id")
    return proposals.prefetch_related(Prefetch("audit_events", queryset=events, to_attr="timeline_events"))


@dataclass(frozen=True)
class HistorySummary:
    """What the listed proposals add up to, in the report's words: exits, decisions, overrides, pending."""

    by_exit: dict[str, int]
    overrides: int
    rolled_back: int
    pending: int | None = None  # None when the filters ask about decisions only (who, which decision, …)

    @property
    def left_queue(self) -> int:
        return sum(self.by_exit.values())

    @property
    def decided(self) -> int:
        return sum(self.by_exit[code] for code in DECISION_EXITS)

    @property
    def override_pct(self) -> int:
        return round(100 * self.overrides / self.decided) if self.decided else 0

    @property
    def exits(self) -> list[tuple[str, str, int]]:
        """(code, label, count) in the registry's order, for the summary line."""
        return [(code, EXIT_LABELS[code], self.by_exit[code]) for code in EXIT_LABELS]


def history_summary(proposals: QuerySet[Proposal], *, pending: int | None = None) -> HistorySummary:
    totals = proposals.order_by().aggregate(
        **{code: Count("pk", filter=exit_q(code)) for code in EXIT_LABELS},
        overrides=Count("pk", filter=decided_q() & override_q()),
        rolled_back=Count("pk", filter=Q(status=Proposal.Status.ROLLED_BACK)),
    )
    by_exit = {code: totals[code] for code in EXIT_LABELS}
    return HistorySummary(
        by_exit=by_exit, overrides=totals["overrides"], rolled_back=totals["rolled_back"], pending=pending
    )


def other_activity(limit: int = 20) -> QuerySet[AuditEvent]:
    """Audit events about policy, data, runs and roles rather than one proposal."""
    return AuditEvent.objects.filter(proposal__isnull=True).order_by("-id")[:limit]
