"""Audit events in plain words: one describer per action, registered in decisions/audit/actions.py.

A describer takes an AuditEvent and returns (summary, details): what happened in a
sentence and a few short lines (guardrail messages, changes, attempts). Payloads are
read defensively: rows written years ago stay readable, whatever keys they carry.
"""

from __future__ import annotations

from collections.abc import Callable

from decisions.models import AuditEvent, Review

Description = tuple[str, list[str]]
Describer = Callable[[AuditEvent], Description]


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


def expected_impact(payload: dict) -> dict:
    """The expected impact a payload carries: `expected` since the event builders, `expected_impact` before."""
    return payload.get("expected") or payload.get("expected_impact") or {}


def labelled(label: str) -> Describer:
    """For actions with nothing more to say than their label."""

    def describe(event: AuditEvent) -> Description:
        return label, []

    return describe


def _verdict_lines(event: AuditEvent) -> list[str]:
    return [
        f"{v.get('name')}: {v.get('message')}" for v in event.machine_payload.get("verdicts", []) if not v.get("passed")
    ]


# --- proposals -------------------------------------------------------------------------


def created(event: AuditEvent) -> Description:
    expected = expected_impact(event.machine_payload)
    lines = [format_change(c) for c in event.machine_payload.get("changes", [])]
    if expected:
        lines.append(
            f"Expected {expected.get('metric', '')} {_value(expected.get('mean'))} per {expected.get('per', 'week')}"
            f" (range {_value(expected.get('low'))} to {_value(expected.get('high'))})"
        )
    return "Proposed by the engine", lines


def approved(event: AuditEvent) -> Description:
    bulk = event.human_payload.get("bulk")
    return ("Approved as proposed, in a bulk approval" if bulk else "Approved as proposed"), []


def edited(event: AuditEvent) -> Description:
    return "Edited the values, then approved", []


def rejected(event: AuditEvent) -> Description:
    code = event.human_payload.get("reason_code", "")
    label = Review.Reason(code).label if code in Review.Reason.values else code
    return f"Rejected (reason: {label or 'none given'})", []


def override_warn(event: AuditEvent) -> Description:
    return "Approved over a warning guardrail", _verdict_lines(event)


def override_block(event: AuditEvent) -> Description:
    return "Approved over a blocking guardrail (guardrail admin)", _verdict_lines(event)


def expired(event: AuditEvent) -> Description:
    return "Expired: nobody decided before the deadline", []


def superseded(event: AuditEvent) -> Description:
    newer = event.machine_payload.get("superseded_by")
    return (f"Superseded by proposal #{newer}" if newer else "Superseded by a newer proposal"), []


def auto_approved(event: AuditEvent) -> Description:
    version = event.human_payload.get("policy_version")
    return "Approved by the auto-approval policy" + (f" (v{version})" if version else ""), []


def rolled_back(event: AuditEvent) -> Description:
    return "Rolled back: the reverse change was queued", [
        format_change(c) for c in event.human_payload.get("inverse_changes", [])
    ]


# --- applying through a connector ---------------------------------------------------------


def _direction(event: AuditEvent) -> str:
    return "rollback" if event.machine_payload.get("direction") == "rollback" else "change"


def application_succeeded(event: AuditEvent) -> Description:
    connector = event.machine_payload.get("connector", "connector")
    return f"The {_direction(event)} reached the ad platform (via {connector})", []


def application_attempt_failed(event: AuditEvent) -> Description:
    attempts = event.machine_payload.get("attempts", "?")
    return f"Applying the {_direction(event)} failed (attempt {attempts}); it will be retried", []


def application_failed(event: AuditEvent) -> Description:
    attempts = event.machine_payload.get("attempts", "?")
    return f"Applying the {_direction(event)} failed for good after {attempts} attempts", []


def application_retried(event: AuditEvent) -> Description:
    return f"Applying the {_direction(event)} was put back in the queue", []
