"""The one reader of a proposal's timeline, shared by the proposal page, the queue's detail and History.

Each event gets, as attributes, what decisions/timeline.html#timeline shows, so the template
stays free of payload parsing:
    summary      what happened, in a sentence (an action this version does not know: its stored name)
    details      short lines: guardrail messages, changes, attempts
    is_override  whether the action is one of the overrides
    diff         for edits: one row per change with the machine's and the human's target

Once a decided proposal's outcome is known, the timeline ends with it (`OutcomeEntry`): not an audit
event (outcomes are measured and re-measured as late data lands), but the last thing that happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from decisions import units
from decisions.audit import actions, wording
from decisions.audit.actions import Action
from decisions.models import AuditEvent, Campaign, Outcome, Proposal

# A proposal retried or rolled back many times can gather a long log; a page shows the newest ones.
NEWEST = 50


def proposal_timeline(proposal: Proposal, *, limit: int = NEWEST) -> list[AuditEvent]:
    """The proposal's newest `limit` events, oldest first, described (served by the proposal_id index)."""
    newest = AuditEvent.objects.filter(proposal_id=proposal.pk).order_by("-id")[:limit]
    return with_outcome(describe_all(reversed(list(newest)), objectives=objectives_of([proposal])), proposal)


def objectives_of(proposals: Iterable[Proposal]) -> dict[int, object]:
    """What each presented proposal's numbers are counted in (decisions/views/presenters.py sets `objective`:
    a label and a unit), for the timeline's expected impact; proposals not presented are left to their metric."""
    return {p.pk: p.objective for p in proposals if getattr(p, "objective", None) is not None}


def describe_all(
    events: Iterable[AuditEvent], *, names: dict[str, str] | None = None, objectives: dict[int, object] | None = None
) -> list[AuditEvent]:
    """Describe each event, naming campaigns from `names` or, without them, looked up once for all events (one
    query, none when no event names a campaign); per proposal, its objective's words from `objectives`."""
    events = list(events)
    names = campaign_names(events) if names is None else names
    for event in events:
        event.campaign_names = names
        objective = (objectives or {}).get(event.proposal_id)
        if objective is not None:
            event.unit, event.objective_label = objective.unit, objective.label
    return [describe(event) for event in events]


def campaign_names(events: list[AuditEvent]) -> dict[str, str]:
    """External id → name of every campaign the events' changes name."""
    ids = {
        change.get("campaign")
        for event in events
        for payload, key in (
            (event.machine_payload, "changes"),
            (event.human_payload, "final_changes"),
            (event.human_payload, "inverse_changes"),
        )
        for change in (payload or {}).get(key) or []
        if isinstance(change, dict) and change.get("campaign")
    }
    if not ids:
        return {}
    rows = Campaign.objects.filter(external_id__in=ids).values_list("external_id", "name")
    return {external_id: name for external_id, name in rows if name}


def describe(event: AuditEvent) -> AuditEvent:
    entry = actions.entry(event.action)
    event.summary, event.details = entry.describe(event) if entry else (event.action, [])
    event.is_override = entry is not None and entry.is_override
    event.diff = wording.edit_diff(event) if event.action == Action.PROPOSAL_EDITED else []
    return event


# --- the outcome, as the timeline's last entry ------------------------------------------------------------

NOISE_CAVEAT = (
    "One 14-day outcome is noisy: most results outside the interval are measurement noise. The weekly "
    "report's hit rate over many outcomes says whether the intervals are honest."
)
VERDICT_WORDS = {
    Outcome.Verdict.HIT: "within its interval",
    Outcome.Verdict.ABOVE: "above its interval (better than expected)",
    Outcome.Verdict.BELOW: "below its interval (worse than expected)",
}


@dataclass
class OutcomeEntry:
    """Reads like a described AuditEvent to decisions/timeline.html#timeline, marked `is_outcome`."""

    created_at: dt.datetime
    summary: str
    details: list[str]
    verdict: str = ""
    actor_label: str = "Waypoint (measured)"
    action: str = "outcome"
    reason: str = ""
    is_override: bool = False
    is_outcome: bool = True
    diff: list = field(default_factory=list)


# Nobody decided these: no outcome is ever measured for them, so none is looked up.
UNDECIDED = (Proposal.Status.PENDING, Proposal.Status.EXPIRED, Proposal.Status.SUPERSEDED)


def outcome_of(proposal: Proposal) -> Outcome | None:
    """The proposal's outcome row once measured (free after select_related("outcome"))."""
    if proposal.status in UNDECIDED:
        return None
    try:
        return proposal.outcome
    except Outcome.DoesNotExist:
        return None


def with_outcome(events: list, proposal: Proposal) -> list:
    """The described events, then the outcome when there is one."""
    outcome = outcome_of(proposal)
    return [*events, outcome_entry(outcome, rejected=_rejected(proposal))] if outcome is not None else events


def _rejected(proposal: Proposal) -> bool:
    return proposal.status == Proposal.Status.REJECTED


def _per_week(value: float | None, metric: str) -> str:
    return units.amount(value, metric, signed=True, per="week")


def outcome_entry(outcome: Outcome, *, rejected: bool = False) -> OutcomeEntry:
    """The realised impact against the interval; for a rejection (nothing ran) the model's estimate only."""
    metric, at = outcome.metric, outcome.computed_at or timezone.now()
    estimates = _estimate_lines(outcome)
    if rejected:
        machine = _per_week(outcome.machine_estimate, metric)
        summary = f"Outcome: nothing changed; by the model's estimate the machine's version would have made {machine}"
        return OutcomeEntry(at, summary, ["An estimate by the model that made the proposal: nothing ran to measure."])
    if outcome.realised is None:
        summary = f"Outcome could not be measured over the {outcome.days} days after the change (no data before it)"
        return OutcomeEntry(at, summary, estimates)
    low, high = (units.amount(v, metric, signed=True) for v in (outcome.expected_low, outcome.expected_high))
    verdict = VERDICT_WORDS.get(outcome.verdict, "not judged")
    expected = _per_week(outcome.expected_mean, metric)
    summary = (
        f"Outcome: {_per_week(outcome.realised, metric)} realised, {verdict} ({low} to {high}, expected {expected})"
    )
    window = f"{outcome.window_start:%Y-%m-%d} to {outcome.window_end:%Y-%m-%d}"
    measured = f"Measured over the {outcome.days} days after the change ({window}) against campaigns no change touched."
    return OutcomeEntry(at, summary, [measured, *estimates, NOISE_CAVEAT], verdict=outcome.verdict)


def _estimate_lines(outcome: Outcome) -> list[str]:
    """The model's estimates of the machine's and, when it differs, the reviewer's version."""
    metric, lines = outcome.metric, []
    if outcome.machine_estimate is not None:
        lines.append(f"The model's estimate of the machine's version: {_per_week(outcome.machine_estimate, metric)}")
    if outcome.human_estimate is not None and outcome.human_estimate != outcome.machine_estimate:
        lines.append(f"The model's estimate of the reviewer's version: {_per_week(outcome.human_estimate, metric)}")
    return lines
