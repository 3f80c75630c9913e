"""Celery tasks of data import: each takes ids, loads, and calls one service."""

from celery import shared_task

from decisions.data import importing
from decisions.models import ImportRun
from decisions.outcomes.tasks import queue_after_import
from decisions.review.tasks import refresh_pending_verdicts


# Registered names are the ones beat rows and queued messages already carry.
@shared_task(name="decisions.tasks.import_performance_file")
def import_performance_file(import_run_id: int) -> str:
    """Import an uploaded file. Safe to run twice: a finished run is left alone, and an interrupted one
    wrote nothing (one transaction), so it simply runs again."""
    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    importing.import_run_execute(run=run)
    queue_after_import(run)
    if run.status == ImportRun.Status.SUCCEEDED and not run.dry_run:
        refresh_pending_verdicts.delay_on_commit()  # budgets and evidence changed
    return run.status
