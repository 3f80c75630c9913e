"""Reads of the workflow audit: the inventory as the audit's rules see it, the audit of today, and the page's rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from decisions import targets
from decisions.audit.actions import Action
from decisions.engine import workflows as rules
from decisions.models import AuditEvent, Proposal, Workflow
from decisions.workflows import services
from objectives import guardrails
from objectives import selectors as objective_selectors

RETIRE = "retire_workflow"


def protection_for(guardrail_rules: list[guardrails.Rule]):
    """The audit's `protection`: why a block-level guardrail keeps a workflow out of the proposals."""

    def protection(workflow: rules.Workflow) -> str:
        facts = guardrails.WorkflowFacts(
            external_id=f"{workflow.platform}/{workflow.workflow_id}",
            name=workflow.label,
            tags=workflow.tags,
            status=workflow.status,
        )
        return guardrails.workflow_protection(facts, guardrail_rules)

    return protection


def audit_today(*, today: dt.date | None = None, guardrail_rules: list[guardrails.Rule] | None = None) -> rules.Audit:
    """The audit of every stored workflow under today's threshold, block-level guardrails and recent decisions."""
    today = today or timezone.localdate()
    guardrail_rules = objective_selectors.active_rules() if guardrail_rules is None else guardrail_rules
    days = services.stale_after_days()
    protected = protection_for(guardrail_rules)
    kept = kept_by_people(since=today - dt.timedelta(days=days), days=days)
    return rules.audit(
        [targets.as_audited(w) for w in Workflow.objects.all()],
        today=today,
        stale_after_days=days,
        protection=lambda workflow: kept.get(workflow.key) or protected(workflow),
    )


def kept_by_people(*, since: dt.date, days: int) -> dict[tuple[str, str], str]:
    """Workflows a person kept (rejected their retirement, or rolled it back) since `since`, with the words the
    page says: a kept workflow is not proposed again for one audit period, so a "no" is not asked again daily."""
    events = (
        AuditEvent.objects.filter(
            proposal__kind=RETIRE,
            action__in=(Action.PROPOSAL_REJECTED, Action.PROPOSAL_ROLLED_BACK),
            created_at__date__gte=since,
        )
        .order_by("created_at")
        .values_list("proposal__changes", "created_at", "actor_label", "action")
    )
    kept = {}
    for changes, at, who, action in events:
        how = "rejected its retirement" if action == Action.PROPOSAL_REJECTED else "rolled back its retirement"
        again = timezone.localdate(at) + dt.timedelta(days=days)
        for change in changes or ():
            key = (str(change.get("platform") or ""), str(change.get("workflow_id")))
            kept[key] = (
                f"kept: {who} {how} on {timezone.localdate(at):%-d %b %Y}; proposed again after {again:%-d %b %Y}"
            )
    return kept


@dataclass(frozen=True)
class Row:
    workflow: Workflow
    last_fired: str
    stale: bool
    why: str
    uses: list[Workflow]  # the workflows this one relies on
    used_by: list[Workflow]  # the workflows that rely on this one
    held: str  # why a stale one is kept for now
    pending: Proposal | None  # its retirement waiting in the queue


def inventory(audit: rules.Audit, *, today: dt.date | None = None) -> list[Row]:
    """Every workflow with when it last fired, what relies on it, and what the audit says of it."""
    today = today or timezone.localdate()
    workflows = list(Workflow.objects.all())
    by_key = {(w.platform, w.workflow_id): w for w in workflows}
    uses: dict[tuple, list[Workflow]] = {}
    for workflow in workflows:
        for user in workflow.used_by or ():
            if (workflow.platform, user) in by_key:
                uses.setdefault((workflow.platform, user), []).append(workflow)
    retiring = {w.key for group in audit.retire for w in group}
    held = {hold.workflow.key: hold.reason for hold in audit.held}
    pending = pending_retirements()
    rows = []
    for workflow in workflows:
        key = (workflow.platform, workflow.workflow_id)
        audited = targets.as_audited(workflow)
        rows.append(
            Row(
                workflow=workflow,
                last_fired=_last_fired(audited, today),
                stale=key in retiring or key in held,
                why=rules.why_stale(audited, today),
                uses=uses.get(key, []),
                used_by=[
                    by_key[(workflow.platform, u)] for u in workflow.used_by or () if (workflow.platform, u) in by_key
                ],
                held=held.get(key, ""),
                pending=pending.get(key),
            )
        )
    # What to act on first: stale ones, then by name.
    return sorted(rows, key=lambda row: (not row.stale, row.workflow.platform, row.workflow.name.lower()))


def _last_fired(workflow: rules.Workflow, today: dt.date) -> str:
    if not workflow.activity_known:
        return "not in the export"
    idle = rules.days_idle(workflow, today)
    if idle is None:
        return "never"
    return "today" if idle == 0 else f"{idle:,} day{'' if idle == 1 else 's'} ago"


def pending_retirements() -> dict[tuple[str, str], Proposal]:
    found = {}
    for proposal in Proposal.objects.filter(kind=RETIRE, status=Proposal.Status.PENDING).order_by("created_at"):
        for change in proposal.changes:
            found[(str(change.get("platform") or ""), str(change.get("workflow_id")))] = proposal
    return found


def retired_by_month(months: int = 12) -> list[dict]:
    """How many workflows Waypoint retired each month (a rollback takes one back): is the bloat shrinking?"""
    since = timezone.now() - dt.timedelta(days=31 * months)
    rows = (
        Workflow.objects.filter(retired_at__gte=since)
        .annotate(month=TruncMonth("retired_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return [{"month": row["month"].strftime("%b %Y"), "n": row["n"]} for row in rows]


def counts() -> dict[str, int]:
    by_status = dict(Workflow.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: by_status.get(status, 0) for status in Workflow.Status.values}
