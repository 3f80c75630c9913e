"""Celery tasks: each takes ids, loads, and calls one service. Queue them on commit."""

from celery import shared_task

from decisions import importing
from decisions.models import ImportRun


@shared_task
def import_performance_file(import_run_id: int) -> str:
    """Import an uploaded file. Safe to run twice: a finished run is left alone, and an interrupted one
    wrote nothing (one transaction), so it simply runs again."""
    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    importing.import_run_execute(run=run)
    return run.status
