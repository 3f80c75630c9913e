"""Every audit action, in one registry: its stored name, its label, how the timeline words it, and
whether it is an override.

The report, History, the backtest and the timeline ask this registry rather than spelling action
names themselves, so "override" means one thing everywhere. The values are what AuditEvent.action
stores: renaming one would orphan every row already written under it.

An override is any human decision that departs from the machine (DESIGN.md): an edit, a rejection,
approving over a warn- or block-level guardrail, an expired proposal nobody looked at, a rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from decisions.audit import wording
from decisions.audit.wording import Describer


class Action(StrEnum):
    PROPOSAL_CREATED = "proposal.created"
    PROPOSAL_APPROVED = "proposal.approved"  # also for each proposal of a bulk approval
    PROPOSAL_EDITED = "proposal.edited"  # approved with the reviewer's values; machine's and human's both kept
    PROPOSAL_REJECTED = "proposal.rejected"
    # Written beside the approval (approved or edited) it qualifies, one per severity overridden.
    PROPOSAL_OVERRIDE_WARN = "proposal.override_warn"
    PROPOSAL_OVERRIDE_BLOCK = "proposal.override_block"  # by a guardrail admin, with a written reason
    PROPOSAL_EXPIRED = "proposal.expired"  # still pending at expires_at (actor: system)
    PROPOSAL_SUPERSEDED = "proposal.superseded"  # a newer proposal for the same campaign and lever
    PROPOSAL_ROLLED_BACK = "proposal.rolled_back"
    PROPOSAL_AUTO_APPROVED = "proposal.auto_approved"  # actor: the policy, with its version

    APPLICATION_SUCCEEDED = "application.succeeded"  # apply or rollback reached the connector
    APPLICATION_ATTEMPT_FAILED = "application.attempt_failed"  # will be retried with backoff
    APPLICATION_FAILED = "application.failed"  # gave up: out of attempts, or a permanent error
    APPLICATION_RETRIED = "application.retried"  # a reviewer put a failed row back in the queue

    GUARDRAIL_CREATED = "guardrail.created"
    GUARDRAIL_UPDATED = "guardrail.updated"
    GUARDRAIL_DEACTIVATED = "guardrail.deactivated"
    OBJECTIVE_CREATED = "objective.created"  # the demo seeder's starter objective
    OBJECTIVE_CHANGED = "objective.changed"
    AUTO_APPROVAL_CHANGED = "auto_approval.changed"
    AUTO_APPROVAL_STOPPED = "auto_approval.stopped"

    GENERATION_STARTED = "generation.started"
    GENERATION_SUCCEEDED = "generation.succeeded"
    GENERATION_FAILED = "generation.failed"
    DATA_IMPORTED = "data.imported"
    LEARNING_RETRAINED = "learning.retrained"
    ROLE_GRANTED = "role.granted"


@dataclass(frozen=True)
class Override:
    """How History names one kind of override: `code` is its filter value, `label` its badge."""

    code: str
    label: str
    # Approving over a guardrail is its own event written beside the decision, not a decision itself.
    over_guardrail: bool = False


@dataclass(frozen=True)
class Entry:
    label: str
    describe: Describer
    override: Override | None = None

    @property
    def is_override(self) -> bool:
        return self.override is not None


def _said_by_its_label(label: str) -> Entry:
    return Entry(label, wording.labelled(label))


REGISTRY: dict[Action, Entry] = {
    Action.PROPOSAL_CREATED: Entry("Proposed by the engine", wording.created),
    Action.PROPOSAL_APPROVED: Entry("Approved as proposed", wording.approved),
    Action.PROPOSAL_EDITED: Entry("Edited and approved", wording.edited, Override("edited", "Edited")),
    Action.PROPOSAL_REJECTED: Entry("Rejected", wording.rejected, Override("rejected", "Rejected")),
    Action.PROPOSAL_OVERRIDE_WARN: Entry(
        "Approved over a warning guardrail",
        wording.override_warn,
        Override("override_warn", "Over a warning", over_guardrail=True),
    ),
    Action.PROPOSAL_OVERRIDE_BLOCK: Entry(
        "Approved over a blocking guardrail",
        wording.override_block,
        Override("override_block", "Over a block", over_guardrail=True),
    ),
    Action.PROPOSAL_EXPIRED: Entry("Expired unreviewed", wording.expired, Override("expired", "Expired")),
    Action.PROPOSAL_SUPERSEDED: Entry("Superseded by a newer proposal", wording.superseded),
    Action.PROPOSAL_ROLLED_BACK: Entry("Rolled back", wording.rolled_back, Override("rolled_back", "Rolled back")),
    Action.PROPOSAL_AUTO_APPROVED: Entry("Approved by the auto-approval policy", wording.auto_approved),
    Action.APPLICATION_SUCCEEDED: Entry("Applied through a connector", wording.application_succeeded),
    Action.APPLICATION_ATTEMPT_FAILED: Entry("An apply attempt failed", wording.application_attempt_failed),
    Action.APPLICATION_FAILED: Entry("Applying failed for good", wording.application_failed),
    Action.APPLICATION_RETRIED: Entry("A failed apply was retried", wording.application_retried),
    Action.GUARDRAIL_CREATED: _said_by_its_label("Guardrail created"),
    Action.GUARDRAIL_UPDATED: _said_by_its_label("Guardrail changed"),
    Action.GUARDRAIL_DEACTIVATED: _said_by_its_label("Guardrail switched off"),
    Action.OBJECTIVE_CREATED: _said_by_its_label("Objective created"),
    Action.OBJECTIVE_CHANGED: _said_by_its_label("Objective changed"),
    Action.AUTO_APPROVAL_CHANGED: _said_by_its_label("Auto-approval policy changed"),
    Action.AUTO_APPROVAL_STOPPED: _said_by_its_label("Auto-approval stopped"),
    Action.GENERATION_STARTED: _said_by_its_label("Engine run started"),
    Action.GENERATION_SUCCEEDED: _said_by_its_label("Engine run finished"),
    Action.GENERATION_FAILED: _said_by_its_label("Engine run failed"),
    Action.DATA_IMPORTED: _said_by_its_label("Data imported"),
    Action.LEARNING_RETRAINED: _said_by_its_label("Acceptance model retrained"),
    Action.ROLE_GRANTED: _said_by_its_label("Role granted"),
}


def entry(action: str) -> Entry | None:
    """The registry entry of a stored action name; None for a name this version does not know."""
    return REGISTRY.get(action)


# In registry order, so every list built from these reads the same way.
OVERRIDE_ACTIONS: tuple[Action, ...] = tuple(action for action, e in REGISTRY.items() if e.is_override)
GUARDRAIL_OVERRIDE_ACTIONS: tuple[Action, ...] = tuple(
    action for action in OVERRIDE_ACTIONS if REGISTRY[action].override.over_guardrail
)
# History's override filter and badges, by code.
OVERRIDE_KINDS: dict[str, Override] = {
    REGISTRY[action].override.code: REGISTRY[action].override for action in OVERRIDE_ACTIONS
}
