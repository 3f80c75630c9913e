"""Work a lost task left behind: generation runs and imports that stopped showing signs of life.

A run or an import whose task never reached a worker (the broker was down when it was queued) or whose worker
died (killed mid-run; the broker hands the unacknowledged task back only hours later) would look busy forever,
and an unfinished run would keep later runs over its window from starting. Workers bump `heartbeat_at` as
they go; the sweep (a beat task, and `manage.py sweep_stuck_work`) queues again, once, what has been silent
longer than WAYPOINT_STUCK_AFTER_MINUTES, and fails it, with the reason and an audit event, when it stays
silent as long again. Both tasks are safe to run twice (a run's proposals carry idempotency keys; an import is
one transaction), so a late redelivery of the lost task does no harm.

A worker that is still busy holds its row inside its transaction (an import's, a run's finish): the sweep
skips locked rows rather than wait for them or fail them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.models import GenerationRun, ImportRun
from decisions.queueing import queue_follow_up

logger = logging.getLogger(__name__)

RUN_ACTIVE = [GenerationRun.Status.RUNNING]
IMPORT_ACTIVE = [ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]


def stuck_after() -> dt.timedelta:
    return dt.timedelta(minutes=float(getattr(settings, "WAYPOINT_STUCK_AFTER_MINUTES", 15)))


def last_sign_of_life(work: GenerationRun | ImportRun) -> dt.datetime:
    opened = work.started_at if isinstance(work, GenerationRun) else work.created_at
    return max(moment for moment in (opened, work.heartbeat_at, work.requeued_at) if moment is not None)


def is_silent(work: GenerationRun | ImportRun, *, now: dt.datetime | None = None) -> bool:
    """Unfinished and without a sign of life for longer than the limit."""
    active = RUN_ACTIVE if isinstance(work, GenerationRun) else IMPORT_ACTIVE
    return work.status in active and last_sign_of_life(work) < (now or timezone.now()) - stuck_after()


def silence_reason(work: GenerationRun | ImportRun) -> str:
    minutes = round(stuck_after().total_seconds() / 60)
    started = "no worker picked it up" if work.heartbeat_at is None else "its worker stopped"
    again = " after it was queued again" if work.requeued_at else ""
    return f"No sign of life for {minutes} minutes{again} ({started}); failed so it can be started anew."


def heartbeat(model: type[GenerationRun] | type[ImportRun], pk: int) -> None:
    model.objects.filter(pk=pk).update(heartbeat_at=timezone.now())


# --- the sweep ------------------------------------------------------------------------------------------------


@dataclass
class Swept:
    runs_requeued: list[int] = field(default_factory=list)
    runs_failed: list[int] = field(default_factory=list)
    imports_requeued: list[int] = field(default_factory=list)
    imports_failed: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [
            f"{len(ids)} {what}"
            for what, ids in (
                ("runs queued again", self.runs_requeued),
                ("runs failed", self.runs_failed),
                ("imports queued again", self.imports_requeued),
                ("imports failed", self.imports_failed),
            )
        ]
        return ", ".join(parts)


def stuck_work_sweep(*, now: dt.datetime | None = None) -> Swept:
    """Queue again (once) or fail every run and import silent past the limit; returns what it did."""
    now = now or timezone.now()
    swept = Swept()
    for run in GenerationRun.objects.filter(status__in=RUN_ACTIVE).order_by("pk"):
        if is_silent(run, now=now):
            _requeue_or_fail(run, now=now, requeued=swept.runs_requeued, failed=swept.runs_failed)
    for run in ImportRun.objects.filter(status__in=IMPORT_ACTIVE).order_by("pk"):
        if is_silent(run, now=now):
            _requeue_or_fail(run, now=now, requeued=swept.imports_requeued, failed=swept.imports_failed)
    if any((swept.runs_requeued, swept.runs_failed, swept.imports_requeued, swept.imports_failed)):
        logger.warning("stuck work swept: %s", swept)
    return swept


def _requeue_or_fail(work, *, now: dt.datetime, requeued: list[int], failed: list[int]) -> None:
    # An upload imported within its request kept no file: a task queued again would have nothing to read.
    may_requeue = not (isinstance(work, ImportRun) and not work.stored_path)
    if work.requeued_at is None and may_requeue:
        if _requeue(work, now=now):
            requeued.append(work.pk)
    elif work_fail(work, reason=silence_reason(work), now=now):
        failed.append(work.pk)


def _requeue(work, *, now: dt.datetime) -> bool:
    """Mark it queued again, then publish its task; a broker still away leaves it for the next sweep."""
    model = type(work)
    with transaction.atomic():
        locked = model.objects.select_for_update(skip_locked=True).filter(pk=work.pk).first()
        if locked is None or locked.requeued_at is not None or not is_silent(locked, now=now):
            return False
        model.objects.filter(pk=work.pk).update(requeued_at=now)
    task, args = _task_of(locked)
    if not queue_follow_up(task, *args):
        model.objects.filter(pk=work.pk).update(requeued_at=None)
        return False
    logger.warning("%s #%s was silent; queued again", model.__name__, work.pk)
    return True


def _task_of(work) -> tuple:
    # Imported here: the task modules import the services, which import this module.
    if isinstance(work, GenerationRun):
        from decisions.generation.tasks import generate_proposals

        return generate_proposals, (work.pk,)
    from decisions.data.tasks import import_deals_file, import_performance_file

    if work.kind == "deals":
        return import_deals_file, (work.pk,)
    if work.kind == "transactions":
        from decisions.data.tasks import import_transactions_file

        return import_transactions_file, (work.pk,)
    if work.kind == "experiment":
        # Its name, control arm and earlier test are kept on the run (ImportRun.options); the task reads them there.
        from decisions.data.tasks import import_experiment_file

        return import_experiment_file, (work.pk,)
    return import_performance_file, (work.pk, work.create_campaigns)


def work_fail(work: GenerationRun | ImportRun, *, reason: str, now: dt.datetime | None = None) -> bool:
    """Fail a silent run or import with `reason`, audited; False when it finished or is busy meanwhile."""
    now = now or timezone.now()
    model = type(work)
    with transaction.atomic():
        # A worker still inside its transaction holds the row: it is alive, whatever its heartbeat says.
        locked = model.objects.select_for_update(skip_locked=True).filter(pk=work.pk).first()
        if locked is None or not is_silent(locked, now=now):
            return False
        if model is GenerationRun:
            errors = [*locked.errors, {"error": reason}]
            model.objects.filter(pk=work.pk).update(status=GenerationRun.Status.FAILED, errors=errors, finished_at=now)
            audit_events.generation_finished(locked, succeeded=False, counts=locked.counts, errors=errors)
        else:
            model.objects.filter(pk=work.pk).update(
                status=ImportRun.Status.FAILED, errors=[*locked.errors, reason], finished_at=now
            )
            audit_events.import_failed(locked, reason=reason)
    work.refresh_from_db()
    return True
