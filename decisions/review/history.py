"""Reads for the History page and proposal timelines: what was decided, by whom, and where people overrode the machine.

An override is any human decision that departs from the machine (DESIGN.md): an edit, a rejection, an
approval over a failing warn- or block-level guardrail, an expiry (nobody looked), a rollback. Edits,
rejections, expiries and rollbacks show in the proposal's status and review; approvals over a guardrail
only in the audit log, so those two are read with an EXISTS per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from decisions.models import AuditEvent, Proposal, Review

OVERRIDE_LABELS = {
    "edited": "Edited",
    "rejected": "Rejected",
    "override_warn": "Over a warning",
    "override_block": "Over a block",
    "expired": "Expired",
    "rolled_back": "Rolled back",
}
OVERRIDE_ACTIONS = frozenset(
    {
        "proposal.edited",
        "proposal.rejected",
        "proposal.override_warn",
        "proposal.override_block",
        "proposal.expired",
        "proposal.rolled_back",
    }
)


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
            overrode_warn=_audit_exists("proposal.override_warn"),
            overrode_block=_audit_exists("proposal.override_block"),
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


def proposal_timeline(proposal: Proposal) -> list[AuditEvent]:
    """The proposal's audit events oldest first, each described for decisions/timeline.html#timeline."""
    return describe_all(AuditEvent.objects.filter(proposal=proposal).order_by("id"))


# --- events in plain words ---------------------------------------------------------
# The timeline partial reads these attributes, set on each event in Python so the
# template stays free of payload parsing:
#   summary     what happened, in a sentence
#   is_override whether this event is one of the overrides
#   details     short lines: guardrail messages, changes, attempts
#   diff        for edits: one row per change with the machine's and the human's target


def describe_all(events) -> list[AuditEvent]:
    return [describe(event) for event in events]


def describe(event: AuditEvent) -> AuditEvent:
    describer = _DESCRIBERS.get(event.action)
    summary, details = describer(event) if describer else (event.action, [])
    event.summary = summary
    event.details = details
    event.is_override = event.action in OVERRIDE_ACTIONS
    event.diff = edit_diff(event) if event.action == "proposal.edited" else []
    return event


def format_change(change: dict, *, short: bool = False) -> str:
    """Like "C1001 daily budget: 100 → 120"; `short` leaves out the field when it is the usual one, the budget."""
    field = str(change.get("field", ""))
    label = "" if short and field == "daily_budget" else f" {field.replace('_', ' ')}"
    return f"{change.get('campaign', '?')}{label}: {_value(change.get('from'))} → {_value(change.get('to'))}"


def _value(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.2f}".removesuffix(".00")
    return "—" if value is None else str(value)


def edit_diff(event: AuditEvent) -> list[dict]:
    """What the machine proposed next to what the reviewer chose, per campaign and field."""
    human = {(c.get("campaign"), c.get("field")): c for c in event.human_payload.get("final_changes", [])}
    rows = []
    for change in event.machine_payload.get("changes", []):
        chosen = human.get((change.get("campaign"), change.get("field")), {})
        rows.append(
            {
                "campaign": change.get("campaign"),
                "field": str(change.get("field", "")).replace("_", " "),
                "current": _value(change.get("from")),
                "machine": _value(change.get("to")),
                "human": _value(chosen.get("to")),
                "changed": chosen.get("to") != change.get("to"),
            }
        )
    return rows


def _verdict_lines(event: AuditEvent) -> list[str]:
    return [
        f"{v.get('name')}: {v.get('message')}" for v in event.machine_payload.get("verdicts", []) if not v.get("passed")
    ]


def _created(event):
    expected = event.machine_payload.get("expected_impact") or {}
    lines = [format_change(c) for c in event.machine_payload.get("changes", [])]
    if expected:
        lines.append(
            f"Expected {expected.get('metric', '')} {_value(expected.get('mean'))} per {expected.get('per', 'week')}"
            f" (range {_value(expected.get('low'))} to {_value(expected.get('high'))})"
        )
    return "Proposed by the engine", lines


def _approved(event):
    bulk = event.human_payload.get("bulk")
    return ("Approved as proposed, in a bulk approval" if bulk else "Approved as proposed"), []


def _edited(event):
    return "Edited the values, then approved", []


def _rejected(event):
    code = event.human_payload.get("reason_code", "")
    label = Review.Reason(code).label if code in Review.Reason.values else code
    return f"Rejected (reason: {label or 'none given'})", []


def _override_warn(event):
    return "Approved over a warning guardrail", _verdict_lines(event)


def _override_block(event):
    return "Approved over a blocking guardrail (guardrail admin)", _verdict_lines(event)


def _expired(event):
    return "Expired: nobody decided before the deadline", []


def _superseded(event):
    newer = event.machine_payload.get("superseded_by")
    return (f"Superseded by proposal #{newer}" if newer else "Superseded by a newer proposal"), []


def _rolled_back(event):
    return "Rolled back: the reverse change was queued", [
        format_change(c) for c in event.human_payload.get("inverse_changes", [])
    ]


def _direction(event) -> str:
    return "rollback" if event.machine_payload.get("direction") == "rollback" else "change"


def _app_succeeded(event):
    connector = event.machine_payload.get("connector", "connector")
    return f"The {_direction(event)} reached the ad platform (via {connector})", []


def _app_attempt_failed(event):
    attempts = event.machine_payload.get("attempts", "?")
    return f"Applying the {_direction(event)} failed (attempt {attempts}); it will be retried", []


def _app_failed(event):
    attempts = event.machine_payload.get("attempts", "?")
    return f"Applying the {_direction(event)} failed for good after {attempts} attempts", []


def _app_retried(event):
    return f"Applying the {_direction(event)} was put back in the queue", []


_DESCRIBERS = {
    "proposal.created": _created,
    "proposal.approved": _approved,
    "proposal.edited": _edited,
    "proposal.rejected": _rejected,
    "proposal.override_warn": _override_warn,
    "proposal.override_block": _override_block,
    "proposal.expired": _expired,
    "proposal.superseded": _superseded,
    "proposal.rolled_back": _rolled_back,
    "application.succeeded": _app_succeeded,
    "application.attempt_failed": _app_attempt_failed,
    "application.failed": _app_failed,
    "application.retried": _app_retried,
}
