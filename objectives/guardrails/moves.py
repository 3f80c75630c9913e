"""Each changed campaign before and after the changes under review, field by field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from objectives.guardrails import fields
from objectives.guardrails.base import (
    BUDGET,
    PAUSED,
    STATUS,
    ActionCopy,
    AudienceFacts,
    CampaignFacts,
    Change,
    WorkflowFacts,
)


def current_value(facts: CampaignFacts, name: str):
    """The field's value today; None for a field the facts do not carry (the change alone says what it becomes)."""
    return getattr(facts, name, None)


@dataclass(frozen=True)
class CampaignMove:
    """One campaign and the values its changed fields take, before and after."""

    facts: CampaignFacts
    before: Mapping[str, object]
    after: Mapping[str, object]

    @property
    def changed_fields(self) -> list[fields.Field]:
        return [fields.get(name) for name in self.after]

    def changes(self, name: str) -> bool:
        return name in self.after

    def value_before(self, name: str):
        return self.before[name] if name in self.before else current_value(self.facts, name)

    def value_after(self, name: str):
        return self.after[name] if name in self.after else current_value(self.facts, name)

    # The budget and the status are what most kinds weigh; these read them as numbers and words.

    @property
    def budget_before(self) -> float:
        return float(self.value_before(BUDGET))

    @property
    def budget_after(self) -> float:
        return float(self.value_after(BUDGET))

    @property
    def status_before(self) -> str:
        return str(self.value_before(STATUS))

    @property
    def status_after(self) -> str:
        return str(self.value_after(STATUS))

    @property
    def is_paused_now(self) -> bool:
        return self.status_after == PAUSED and self.status_before != PAUSED

    @property
    def is_resumed_now(self) -> bool:
        return self.status_before == PAUSED and self.status_after != PAUSED


def campaign_moves(changes: Iterable[Change], campaigns: Mapping[str, CampaignFacts]) -> dict[str, CampaignMove]:
    """The changed campaigns by external id, in the order the changes first name them.

    A change to an unregistered field raises fields.UnknownField: no guardrail
    could judge it, and passing it silently would approve anything.
    """
    before: dict[str, dict] = {}
    after: dict[str, dict] = {}
    for change in changes:
        fields.get(change.field, change.target)  # raises UnknownField, whether or not the campaign is known
        if change.target != fields.CAMPAIGN:
            continue  # a workflow's change is judged by the kinds that judge workflows (checks.workflow_moves)
        facts = campaigns.get(change.campaign)
        if facts is None:
            # A change to a campaign we know nothing about cannot be checked;
            # the caller passes every campaign it has, so this is a stale id.
            continue
        start = change.before if change.before is not None else current_value(facts, change.field)
        before.setdefault(change.campaign, {})[change.field] = start
        after.setdefault(change.campaign, {})[change.field] = change.after
    return {
        external_id: CampaignMove(campaigns[external_id], before[external_id], new)
        for external_id, new in after.items()
    }


@dataclass(frozen=True)
class WorkflowMove:
    """One workflow and the status a change gives it."""

    facts: WorkflowFacts
    status_before: str
    status_after: str


def workflow_moves(changes: Iterable[Change], workflows: Mapping[str, WorkflowFacts]) -> list[WorkflowMove]:
    """The changed workflows Waypoint knows, in the order the changes name them."""
    found = []
    for change in changes:
        facts = workflows.get(change.campaign) if change.target == fields.WORKFLOW else None
        if facts is not None:
            before = change.before if change.before is not None else facts.status
            found.append(WorkflowMove(facts, str(before), str(change.after)))
    return found


@dataclass(frozen=True)
class AudienceMove:
    """One audience of a randomised test and the action a change gives it (arms, as the test's file names them)."""

    facts: AudienceFacts
    action_before: str
    action_after: str

    @property
    def sends(self) -> bool:
        """Whether the audience is sent something after the change (the control sends nothing)."""
        return self.action_after != self.facts.control

    @property
    def sent(self) -> ActionCopy:
        """The action the change sends, with its copy (its arm as its name when the test has no such action)."""
        return self.facts.actions.get(self.action_after) or ActionCopy(str(self.action_after))


def audience_moves(changes: Iterable[Change], audiences: Mapping[str, AudienceFacts]) -> list[AudienceMove]:
    """The changed audiences Waypoint knows, in the order the changes name them."""
    found = []
    for change in changes:
        facts = audiences.get(change.campaign) if change.target == fields.AUDIENCE_TARGET else None
        if facts is not None:
            before = change.before if change.before is not None else (facts.action or facts.control)
            found.append(AudienceMove(facts, str(before), str(change.after)))
    return found
