"""What a proposal's change moves: a campaign, an automation workflow or an audience of a randomised test, each
looked up, named, read and written here.

A change names its target by a key (fields.TARGET_KEYS): `"campaign": external id` for the campaign kinds,
`"workflow_id"` beside `"platform"` for retire_workflow, `"experiment"` (the test's name) beside `"segment"` for
audience_action. Everything that must find the thing a change moves asks this module — freshness (is it still
where the change starts?), routing (which platform's connector?), the ledger (write the value), the pages (what
is it called?) — so a new target is one `Target` here and its fields in objectives/guardrails/fields.py; the
review, apply and rollback paths stay as they are. A change's inverse is the same for every target: swap "from"
and "to" (decisions/review/kinds.py).

A ref is the target's name and the thing's identity, e.g. ("campaign", "SIM-0003"),
("workflow", "hubspot", "1234") or ("audience", "Spring e-mail test", <the segment's digest>): ids of different
targets (or of two platforms) never collide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from decisions import audiences
from decisions.engine import workflows as audit_rules
from decisions.models import Campaign, Experiment, Workflow
from objectives import guardrails
from objectives.guardrails import fields

Ref = tuple[str, ...]


class CampaignTarget:
    name = fields.CAMPAIGN

    @staticmethod
    def ref(change: dict) -> Ref:
        return (fields.CAMPAIGN, str(change.get("campaign")))

    @staticmethod
    def columns() -> list[str]:
        # Read at each call: a kind registered at run time may bring a field of its own.
        names = {f.name for f in Campaign._meta.concrete_fields}
        return sorted(name for name in fields.FIELDS if name in names)

    def values(self, changes: list[dict], *, lock: bool) -> dict[Ref, dict]:
        ids = sorted({str(c.get("campaign")) for c in changes})
        if not ids:
            return {}
        rows = Campaign.objects.filter(external_id__in=ids).order_by("pk")
        if lock:
            rows = rows.select_for_update()
        found = {}
        for row in rows.values("external_id", "name", "platform", *self.columns()):
            external_id = row.pop("external_id")
            row["name"] = row["name"] or external_id
            found[(fields.CAMPAIGN, external_id)] = row
        return found

    @staticmethod
    def write(change: dict, value, *, now: dt.datetime, proposal_id: int | None = None) -> bool:
        if isinstance(fields.of(change), fields.MoneyField):
            value = Decimal(str(value)).quantize(Decimal("0.01"))
        return bool(
            Campaign.objects.filter(external_id=change["campaign"]).update(**{change["field"]: value}, updated_at=now)
        )

    @staticmethod
    def writable(field: fields.Field) -> bool:
        # The campaign columns a change may set; everything else stays the import's business.
        return field.name in (fields.BUDGET, fields.STATUS, fields.AUDIENCE)

    @staticmethod
    def label(change: dict) -> str:
        return f'campaign "{change.get("campaign")}"'


class WorkflowTarget:
    name = fields.WORKFLOW

    @staticmethod
    def ref(change: dict) -> Ref:
        return (fields.WORKFLOW, str(change.get("platform") or ""), str(change.get("workflow_id")))

    def values(self, changes: list[dict], *, lock: bool) -> dict[Ref, dict]:
        pairs = {self.ref(c)[1:] for c in changes}
        if not pairs:
            return {}
        which = Q()
        for platform, workflow_id in sorted(pairs):
            which |= Q(platform=platform, workflow_id=workflow_id)
        rows = Workflow.objects.filter(which).order_by("pk")
        if lock:
            rows = rows.select_for_update()
        today = timezone.localdate()
        return {
            (fields.WORKFLOW, w.platform, w.workflow_id): {
                "platform": w.platform,
                "workflow_id": w.workflow_id,
                "name": w.name or w.workflow_id,
                "status": w.status,
                # Why it may go, as the queue's headline says it: "last fired 214 days ago, 0 enrolments …".
                "why": audit_rules.why_stale(as_audited(w), today),
            }
            for w in rows
        }

    def write(self, change: dict, value, *, now: dt.datetime, proposal_id: int | None = None) -> bool:
        _, platform, workflow_id = self.ref(change)
        retired_at = now if value == Workflow.Status.RETIRED else None
        return bool(
            Workflow.objects.filter(platform=platform, workflow_id=workflow_id).update(
                status=value, retired_at=retired_at
            )
        )

    @staticmethod
    def writable(field: fields.Field) -> bool:
        return field.name == fields.STATUS

    @staticmethod
    def label(change: dict) -> str:
        return f'{change.get("platform") or "unknown platform"} workflow "{change.get("workflow_id")}"'


class AudienceTarget:
    """An audience of a randomised test: the test (by name) and a segment. What it gets now is its live
    AudienceList's action, else the control (decisions/audiences.py); applying an action publishes the list
    of its customers, a rollback withdraws it."""

    name = fields.AUDIENCE_TARGET
    # A list a remote connector (the webhook) delivered is recorded in Waypoint too, on the row's success: it
    # can then be downloaded, and withdrawn by a rollback (decisions/delivery/outbox.py).
    recorded_locally = True

    @staticmethod
    def delivery(change: dict) -> dict:
        """What a remote connector sends beside the change: the list it publishes or withdraws."""
        return {"audience_list": audiences.publication(change)}

    @staticmethod
    def ref(change: dict) -> Ref:
        segment = change.get("segment") if isinstance(change.get("segment"), dict) else {}
        return (fields.AUDIENCE_TARGET, str(change.get("experiment")), audiences.segment_key(segment))

    def values(self, changes: list[dict], *, lock: bool) -> dict[Ref, dict]:
        names = sorted({str(c.get("experiment")) for c in changes})
        tests = Experiment.objects.filter(name__in=names).order_by("pk")
        if lock:
            tests = tests.select_for_update()  # one writer of a test's lists at a time
        by_name = {test.name: test for test in tests}
        live = audiences.live_actions(by_name.values())
        found = {}
        for change in changes:
            test = by_name.get(str(change.get("experiment")))
            if test is None:
                continue
            key = self.ref(change)
            found[key] = {
                "experiment": test.name,
                "name": audiences.segment_words(change.get("segment") or {}),
                "platform": AUDIENCE_PLATFORM,
                "action": live.get((test.pk, key[2]), test.control_arm),
            }
        return found

    @staticmethod
    def write(change: dict, value, *, now: dt.datetime, proposal_id: int | None = None) -> bool:
        # `proposal_id`: the proposal whose application writes the change; its list is linked to it.
        return audiences.set_action(change, value, now=now, proposal_id=proposal_id)

    @staticmethod
    def writable(field: fields.Field) -> bool:
        return field.name == fields.ACTION

    @staticmethod
    def label(change: dict) -> str:
        return f'audience of the test "{change.get("experiment")}"'


# Audience lists go where WAYPOINT_CONNECTORS sends this platform ("audiences=webhook"); the ledger by default.
AUDIENCE_PLATFORM = "audiences"

TARGETS = {
    fields.CAMPAIGN: CampaignTarget(),
    fields.WORKFLOW: WorkflowTarget(),
    fields.AUDIENCE_TARGET: AudienceTarget(),
}


def of(change: dict):
    return TARGETS[fields.target_of(change)]


def ref(change: dict) -> Ref:
    return of(change).ref(change)


def current_values(changes: Iterable[dict], *, lock: bool = False) -> dict[Ref, dict]:
    """Each changed thing's name, platform and the current value of every field a change may name, by ref: one
    query per target. `lock` holds the rows until the transaction ends (PostgreSQL; SQLite serialises writers)."""
    by_target: dict[str, list[dict]] = {}
    for change in changes:
        by_target.setdefault(fields.target_of(change), []).append(change)
    found: dict[Ref, dict] = {}
    for target, own in by_target.items():
        found.update(TARGETS[target].values(own, lock=lock))
    return found


def platforms(changes: Iterable[dict]) -> dict[Ref, str]:
    """The platform of each changed thing Waypoint knows; a workflow's change names its own, an audience's list
    goes to AUDIENCE_PLATFORM."""
    changes = list(changes)
    known = {key: row.get("platform") or "" for key, row in current_values(changes).items()}
    for change in changes:
        if fields.target_of(change) == fields.WORKFLOW:
            known[ref(change)] = str(change.get("platform") or "")
        elif fields.target_of(change) == fields.AUDIENCE_TARGET:
            known[ref(change)] = AUDIENCE_PLATFORM
    return known


def names(changes: Iterable[dict]) -> dict[Ref, str]:
    return {key: row["name"] for key, row in current_values(changes).items()}


def campaign_ids(changes: Iterable[dict]) -> set[str]:
    """The campaigns among the changed things (a workflow change names none)."""
    return {c["campaign"] for c in changes if fields.target_of(c) == fields.CAMPAIGN and "campaign" in c}


# --- what the guardrail checker reads ---------------------------------------------------------------


def checker_id(change: dict) -> str:
    """How the guardrail checker names the changed thing: a campaign's external id, a workflow's "platform/id"."""
    if fields.target_of(change) == fields.CAMPAIGN:
        return str(change.get("campaign"))
    return "/".join(ref(change)[1:])


def checked_changes(changes: Iterable[dict], *, from_now: bool) -> list[guardrails.Change]:
    """The changes as the guardrail checker takes them. `from_now`: measure each move from the thing's current
    value (a decision: the change is applied as an absolute value), else from the change's own "from"."""
    return [
        guardrails.Change(
            checker_id(c), c["field"], None if from_now else c.get("from"), c["to"], target=fields.target_of(c)
        )
        for c in changes
    ]


def workflow_facts(changes: Iterable[dict]) -> dict[str, guardrails.WorkflowFacts]:
    """The changed workflows as the guardrail checker sees them, by checker id (no query without one)."""
    wanted = [c for c in changes if fields.target_of(c) == fields.WORKFLOW]
    if not wanted:
        return {}
    which = Q()
    for change in wanted:
        _, platform, workflow_id = ref(change)
        which |= Q(platform=platform, workflow_id=workflow_id)
    return _facts(Workflow.objects.filter(which))


def all_workflow_facts() -> dict[str, guardrails.WorkflowFacts]:
    """Every workflow's facts (a guardrail backtest replays retirements of any of them)."""
    return _facts(Workflow.objects.all())


def _facts(rows) -> dict[str, guardrails.WorkflowFacts]:
    return {
        f"{w.platform}/{w.workflow_id}": guardrails.WorkflowFacts(
            external_id=f"{w.platform}/{w.workflow_id}",
            name=w.name or w.workflow_id,
            tags=tuple(w.tags or ()),
            status=w.status,
        )
        for w in rows
    }


def as_audited(workflow: Workflow) -> audit_rules.Workflow:
    """The stored workflow as the audit's pure rules read it (dates in the site's time zone)."""

    def day(moment):
        return timezone.localdate(moment) if moment is not None else None

    return audit_rules.Workflow(
        platform=workflow.platform,
        workflow_id=workflow.workflow_id,
        name=workflow.name,
        status=workflow.status,
        created_at=day(workflow.created_at),
        last_triggered_at=day(workflow.last_triggered_at),
        enrolled_90d=workflow.enrolled_90d,
        used_by=tuple(workflow.used_by or ()),
        tags=tuple(workflow.tags or ()),
        trigger=workflow.trigger,
        goal=workflow.goal,
        activity_known=workflow.activity_known,
    )
