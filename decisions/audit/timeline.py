"""The one reader of a proposal's timeline, shared by the proposal page, the queue's detail and History.

Each event gets, as attributes, what decisions/timeline.html#timeline shows, so the template
stays free of payload parsing:
    summary      what happened, in a sentence (an action this version does not know: its stored name)
    details      short lines: guardrail messages, changes, attempts
    is_override  whether the action is one of the overrides
    diff         for edits: one row per change with the machine's and the human's target
"""

from __future__ import annotations

from collections.abc import Iterable

from decisions.audit import actions, wording
from decisions.audit.actions import Action
from decisions.models import AuditEvent, Proposal

# A proposal retried or rolled back many times can gather a long log; a page shows the newest ones.
NEWEST = 50


def proposal_timeline(proposal: Proposal, *, limit: int = NEWEST) -> list[AuditEvent]:
    """The proposal's newest `limit` events, oldest first, described (served by the proposal_id index)."""
    newest = AuditEvent.objects.filter(proposal_id=proposal.pk).order_by("-id")[:limit]
    return describe_all(reversed(list(newest)))


def describe_all(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    return [describe(event) for event in events]


def describe(event: AuditEvent) -> AuditEvent:
    entry = actions.entry(event.action)
    event.summary, event.details = entry.describe(event) if entry else (event.action, [])
    event.is_override = entry is not None and entry.is_override
    event.diff = wording.edit_diff(event) if event.action == Action.PROPOSAL_EDITED else []
    return event
