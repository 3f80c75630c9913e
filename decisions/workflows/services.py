"""Writes of the workflow audit: importing an inventory, and changing the days that make a workflow stale.

An import upserts every record by (platform, workflow_id) in one transaction, with its audit event and its
ImportRun (kind "workflows"); any bad record writes nothing, and every problem is reported with its line or
record. A workflow Waypoint retired stays retired when a later export still lists it as enabled: the export may
predate the retirement, and only a rollback (or the platform's own status, once it says "disabled") moves it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import PermissionDenied
from django.db import transaction

from decisions import access as roles
from decisions.audit import events as audit_events
from decisions.data.health import data_health_check_on_commit
from decisions.data.importing import ImportOutcome, RollBack, finish_run, import_run_create, run_execute
from decisions.models import ImportRun, Workflow, WorkflowAuditSetting
from decisions.workflows import parsing

MIN_STALE_DAYS, MAX_STALE_DAYS = 7, 730
UPDATED_FIELDS = (
    "name",
    "status",
    "created_at",
    "updated_at",
    "last_triggered_at",
    "activity_known",
    "enrolled_90d",
    "used_by",
    "tags",
    "trigger",
    "goal",
    "raw",
)


@dataclass
class WorkflowOutcome(ImportOutcome):
    source_label: str = ""
    created: int = 0
    updated: int = 0


def import_workflows(
    *,
    stream: BinaryIO,
    filename: str,
    actor=None,
    dry_run: bool = False,
    run: ImportRun | None = None,
    size_bytes: int = 0,
    label: str | None = None,
    on_progress=None,
) -> WorkflowOutcome:
    """Read, check and upsert one inventory export; nothing is written on a problem or a dry run."""
    data = stream.read()
    parsed = parsing.parse(data)
    outcome = WorkflowOutcome(filename=filename, dry_run=dry_run, bytes_read=len(data), rows_read=parsed.rows_read)
    outcome.source_label = parsed.label
    outcome.problems = parsed.problems[: parsing.MAX_PROBLEMS]
    outcome.problem_count = len(parsed.problems)
    if on_progress is not None:
        on_progress(len(data), parsed.rows_read)
    if not outcome.ok:
        return outcome
    existing = _existing(parsed.records)
    outcome.created = sum((r.platform, r.workflow_id) not in existing for r in parsed.records)
    outcome.updated = len(parsed.records) - outcome.created
    outcome.rows_written = len(parsed.records)
    outcome.columns = [parsed.format]
    if dry_run:
        return outcome
    with contextlib.suppress(RollBack), transaction.atomic():
        _upsert(parsed.records, existing)
        run = run or ImportRun(filename=filename, size_bytes=size_bytes, uploaded_by=actor, kind="workflows")
        run = finish_run(run, outcome)
        audit_events.workflows_imported(
            actor=actor,
            label=label,
            filename=filename,
            source=parsed.label,
            counts={"workflows": outcome.rows_written, "created": outcome.created, "updated": outcome.updated},
            import_run=run.pk,
            bytes_read=outcome.bytes_read,
        )
        data_health_check_on_commit(trigger="workflows import")
    return outcome


def _existing(records: list[parsing.Record]) -> dict[tuple[str, str], Workflow]:
    platforms = {r.platform for r in records}
    ids = {r.workflow_id for r in records}
    rows = Workflow.objects.filter(platform__in=platforms, workflow_id__in=ids)
    return {(w.platform, w.workflow_id): w for w in rows}


def _upsert(records: list[parsing.Record], existing: dict[tuple[str, str], Workflow]) -> None:
    new, changed = [], []
    for record in records:
        values = {name: getattr(record, name) for name in UPDATED_FIELDS}
        row = existing.get((record.platform, record.workflow_id))
        if row is None:
            new.append(Workflow(platform=record.platform, workflow_id=record.workflow_id, **values))
            continue
        if row.status == Workflow.Status.RETIRED and record.status == Workflow.Status.ENABLED:
            values["status"] = Workflow.Status.RETIRED  # see the module's docstring
        for name, value in values.items():
            setattr(row, name, value)
        changed.append(row)
    Workflow.objects.bulk_create(new)
    Workflow.objects.bulk_update(changed, list(UPDATED_FIELDS))


def import_run_execute(*, run: ImportRun, stream: BinaryIO | None = None) -> WorkflowOutcome:
    """An upload's run: its status, progress and problems kept up to date, like every other import."""
    return run_execute(run, stream, import_workflows, outcome_type=WorkflowOutcome)


def workflow_upload(*, upload, actor, dry_run: bool = False) -> tuple[ImportRun, WorkflowOutcome]:
    """Import an uploaded export (inventories are small: read in the request, recorded as a run)."""
    # The marketers who prune their automation import its inventory themselves; viewers change nothing.
    if not roles.can_review(actor):
        raise PermissionDenied("Only marketers and guardrail admins may import workflows.")
    run = import_run_create(
        filename=upload.name, size_bytes=upload.size, actor=actor, dry_run=dry_run, kind="workflows"
    )
    outcome = import_run_execute(run=run, stream=upload)
    run.refresh_from_db()
    return run, outcome


# --- the audit's threshold ---------------------------------------------------------------------------


def stale_after_days() -> int:
    setting = WorkflowAuditSetting.objects.order_by("pk").first()
    return setting.stale_after_days if setting else 90


@transaction.atomic
def stale_after_days_change(*, actor, days: int, reason: str = "") -> int:
    """A guardrail admin sets how many days without firing make an enabled workflow stale (audited)."""
    if not roles.is_guardrail_admin(actor):
        raise PermissionDenied("Only guardrail admins may change the workflow audit.")
    if not MIN_STALE_DAYS <= days <= MAX_STALE_DAYS:
        raise ValueError(f"Choose between {MIN_STALE_DAYS} and {MAX_STALE_DAYS} days.")
    setting = WorkflowAuditSetting.objects.select_for_update().order_by("pk").first()
    before = setting.stale_after_days if setting else 90
    if setting is None:
        setting = WorkflowAuditSetting(stale_after_days=days)
    setting.stale_after_days = days
    setting.save()
    audit_events.workflow_audit_changed(actor=actor, before=before, after=days, reason=reason.strip())
    return days
