"""Every audit action, in one registry: its stored name, its label, how the timeline words it, and
whether it is an override.

The report, History, the backtest and the timeline ask this registry rather than spelling action
names themselves, so "override" means one thing everywhere. The values are what AuditEvent.action
stores: renaming one would orphan every row already written under it.

An override is a decision that departs from the machine: an edit, a rejection, approving over a warn-
or block-level guardrail, and a rollback (which overrides the approval before it). A proposal leaves the
queue in one of six ways (`Exit`): four are decisions (approved as proposed, edited, rejected, approved by
the auto-approval policy) and two are not (expired before anyone decided, superseded by a newer proposal).
An expiry or a supersession is therefore neither "as proposed" nor an override: nobody decided.
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
    # One per undone bulk approval, beside each of its proposals' proposal.rolled_back (which are the overrides).
    BULK_APPROVAL_UNDONE = "bulk_approval.undone"

    APPLICATION_SUCCEEDED = "application.succeeded"  # apply or rollback reached the connector
    APPLICATION_ATTEMPT_FAILED = "application.attempt_failed"  # will be retried with backoff
    APPLICATION_FAILED = "application.failed"  # gave up: out of attempts, or a permanent error
    APPLICATION_RETRIED = "application.retried"  # a reviewer put a failed row back in the queue
    # A spend test's raise reached the platform (its days start), and its scheduled return was sent (they end);
    # the return is the plan, not a person's override, so it is not proposal.rolled_back (decisions/spend_tests.py).
    SPEND_TEST_STARTED = "spend_test.started"
    SPEND_TEST_ENDED = "spend_test.ended"

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
    IMPORT_FAILED = "data.import_failed"  # the stuck-work sweep gave up on an import nobody finished
    CAMPAIGN_ARCHIVED = "campaign.archived"  # a campaign created by mistake leaves runs, scopes and the Data list
    CAMPAIGN_RESTORED = "campaign.restored"
    DEALS_IMPORTED = "deals.imported"  # a CRM deals export upserted and the daily figures derived again
    CAMPAIGN_ALIAS_ADDED = "campaign_alias.added"  # a CRM's name for a campaign, and the deals it matches
    CAMPAIGN_ALIAS_REMOVED = "campaign_alias.removed"
    LEARNING_RETRAINED = "learning.retrained"
    ROLE_GRANTED = "role.granted"
    EXPERIMENT_IMPORTED = "experiment.imported"  # a randomised test stored (decisions/data/experiments.py)
    EXPERIMENT_ACTION_CHANGED = "experiment_action.changed"  # an arm's name or copy, set by a marketer
    EXPERIMENT_REANALYSED = "experiment.reanalysed"  # a person asked for a test's analysis again
    WORKFLOWS_IMPORTED = "workflows.imported"  # an automation inventory upserted (decisions/workflows)
    WORKFLOW_AUDIT_CHANGED = "workflow_audit.changed"  # the days without firing that make a workflow stale
    AUDIENCE_LIST_PUBLISHED = "audience_list.published"  # an applied audience action's customer list went out
    AUDIENCE_LIST_WITHDRAWN = "audience_list.withdrawn"  # a rollback, or another action for the same audience
    EXPERIMENT_FOLLOW_UP_RECORDED = "experiment.follow_up_recorded"  # a follow-up test measured earlier actions


@dataclass(frozen=True)
class Override:
    """How History names one kind of override: `code` is its filter value, `label` its badge."""

    code: str
    label: str
    # Approving over a guardrail is its own event written beside the decision, not a decision itself.
    over_guardrail: bool = False


@dataclass(frozen=True)
class Exit:
    """How a proposal left the queue: `code` is History's and the report's name for it, `label` its words."""

    code: str
    label: str
    # A decision, by a person or by the auto-approval policy; an expiry or a supersession is none.
    is_decision: bool
    by_person: bool = False


@dataclass(frozen=True)
class Entry:
    label: str
    describe: Describer
    override: Override | None = None
    exit: Exit | None = None

    @property
    def is_override(self) -> bool:
        return self.override is not None


def _said_by_its_label(label: str) -> Entry:
    return Entry(label, wording.labelled(label))


REGISTRY: dict[Action, Entry] = {
    Action.PROPOSAL_CREATED: Entry("Proposed by the engine", wording.created),
    Action.PROPOSAL_APPROVED: Entry(
        "Approved as proposed",
        wording.approved,
        exit=Exit("approved", "Approved as proposed", is_decision=True, by_person=True),
    ),
    Action.PROPOSAL_EDITED: Entry(
        "Edited and approved",
        wording.edited,
        Override("edited", "Edited"),
        exit=Exit("edited", "Edited and approved", is_decision=True, by_person=True),
    ),
    Action.PROPOSAL_REJECTED: Entry(
        "Rejected",
        wording.rejected,
        Override("rejected", "Rejected"),
        exit=Exit("rejected", "Rejected", is_decision=True, by_person=True),
    ),
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
    Action.PROPOSAL_AUTO_APPROVED: Entry(
        "Approved by the auto-approval policy",
        wording.auto_approved,
        exit=Exit("auto_approved", "Auto-approved by the policy", is_decision=True),
    ),
    Action.PROPOSAL_EXPIRED: Entry(
        "Expired unreviewed",
        wording.expired,
        exit=Exit("expired", "Expired unreviewed", is_decision=False),
    ),
    Action.PROPOSAL_SUPERSEDED: Entry(
        "Superseded by a newer proposal",
        wording.superseded,
        exit=Exit("superseded", "Superseded by a newer proposal", is_decision=False),
    ),
    Action.PROPOSAL_ROLLED_BACK: Entry("Rolled back", wording.rolled_back, Override("rolled_back", "Rolled back")),
    Action.BULK_APPROVAL_UNDONE: Entry("Bulk approval undone", wording.bulk_approval_undone),
    Action.APPLICATION_SUCCEEDED: Entry("Applied through a connector", wording.application_succeeded),
    Action.APPLICATION_ATTEMPT_FAILED: Entry("An apply attempt failed", wording.application_attempt_failed),
    Action.APPLICATION_FAILED: Entry("Applying failed for good", wording.application_failed),
    Action.APPLICATION_RETRIED: Entry("A failed apply was retried", wording.application_retried),
    Action.SPEND_TEST_STARTED: Entry("Spend test started", wording.spend_test_started),
    Action.SPEND_TEST_ENDED: Entry("Spend test ended: its budget returned", wording.spend_test_ended),
    Action.GUARDRAIL_CREATED: Entry("Guardrail created", wording.guardrail_created),
    Action.GUARDRAIL_UPDATED: Entry("Guardrail changed", wording.guardrail_updated),
    Action.GUARDRAIL_DEACTIVATED: Entry("Guardrail switched off", wording.guardrail_deactivated),
    Action.OBJECTIVE_CREATED: Entry("Objective created", wording.objective_created),
    Action.OBJECTIVE_CHANGED: Entry("Objective changed", wording.objective_changed),
    Action.AUTO_APPROVAL_CHANGED: Entry("Auto-approval policy changed", wording.auto_approval_changed),
    Action.AUTO_APPROVAL_STOPPED: Entry("Auto-approval stopped", wording.auto_approval_stopped),
    Action.GENERATION_STARTED: Entry("Engine run started", wording.generation_started),
    Action.GENERATION_SUCCEEDED: Entry("Engine run finished", wording.generation_succeeded),
    Action.GENERATION_FAILED: Entry("Engine run failed", wording.generation_failed),
    Action.DATA_IMPORTED: Entry("Data imported", wording.data_imported),
    Action.IMPORT_FAILED: Entry("Import failed", wording.import_failed),
    Action.CAMPAIGN_ARCHIVED: Entry("Campaign archived", wording.campaign_archived),
    Action.CAMPAIGN_RESTORED: Entry("Campaign restored", wording.campaign_restored),
    Action.DEALS_IMPORTED: Entry("CRM deals imported", wording.deals_imported),
    Action.CAMPAIGN_ALIAS_ADDED: Entry("Campaign alias added", wording.campaign_alias_added),
    Action.CAMPAIGN_ALIAS_REMOVED: Entry("Campaign alias removed", wording.campaign_alias_removed),
    Action.LEARNING_RETRAINED: Entry("Acceptance model retrained", wording.learning_retrained),
    Action.ROLE_GRANTED: Entry("Role granted", wording.role_granted),
    Action.EXPERIMENT_IMPORTED: Entry("Experiment imported", wording.experiment_imported),
    Action.EXPERIMENT_ACTION_CHANGED: Entry("Experiment action changed", wording.experiment_action_changed),
    Action.EXPERIMENT_REANALYSED: Entry("Experiment analysed again", wording.experiment_reanalysed),
    Action.WORKFLOWS_IMPORTED: Entry("Workflows imported", wording.workflows_imported),
    Action.WORKFLOW_AUDIT_CHANGED: Entry("Workflow audit threshold changed", wording.workflow_audit_changed),
    Action.AUDIENCE_LIST_PUBLISHED: Entry("Audience list published", wording.audience_list_published),
    Action.AUDIENCE_LIST_WITHDRAWN: Entry("Audience list withdrawn", wording.audience_list_withdrawn),
    Action.EXPERIMENT_FOLLOW_UP_RECORDED: Entry("Follow-up test measured", wording.experiment_follow_up_recorded),
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

# How proposals leave the queue, in registry order: the decisions first, then expiry and supersession.
EXIT_ACTIONS: tuple[Action, ...] = tuple(action for action, e in REGISTRY.items() if e.exit is not None)
EXITS: dict[str, Exit] = {REGISTRY[action].exit.code: REGISTRY[action].exit for action in EXIT_ACTIONS}
DECISION_ACTIONS: tuple[Action, ...] = tuple(action for action in EXIT_ACTIONS if REGISTRY[action].exit.is_decision)
# "Reviewed by people": the decisions a person made (not the policy's).
PERSON_DECISION_ACTIONS: tuple[Action, ...] = tuple(
    action for action in DECISION_ACTIONS if REGISTRY[action].exit.by_person
)
# Overrides that are decisions themselves (edit, rejection); the others flag the decision they override.
OVERRIDING_DECISION_ACTIONS: tuple[Action, ...] = tuple(
    action for action in DECISION_ACTIONS if action in OVERRIDE_ACTIONS
)

# The words every page uses for these counts (History's summary, the report, its email and CSV).
DEFINITIONS = {
    "decision": (
        "A proposal approved as proposed, edited and approved, or rejected by a person, or approved by the "
        "auto-approval policy. A proposal that expired before anyone decided, or that a newer proposal "
        "superseded, left the queue without a decision: it is neither approved as proposed nor an override."
    ),
    "override": (
        "A decision that departs from the machine: an edit, a rejection, an approval over a failing warn- or "
        "block-level guardrail, or an approval later rolled back. Each decision counts once, however many of "
        "these it carries."
    ),
    "override_rate": "Overridden decisions ÷ decisions.",
}
