"""Celery tasks of outcome tracking: refresh every outcome whose window is in (daily by beat, and after an import)."""

from celery import shared_task
from django.db import transaction

from decisions.models import ImportRun
from decisions.outcomes import service as outcomes


@shared_task(name="decisions.outcome_tasks.refresh_outcomes")
def refresh_outcomes() -> dict[str, int]:
    return outcomes.outcomes_refresh()


def queue_after_import(run: ImportRun) -> None:
    """New days may complete some outcome's window: refresh once the import has committed."""
    if run.status == ImportRun.Status.SUCCEEDED and not run.dry_run:
        # robust: a broker outage must not fail an import that already committed; beat refreshes daily anyway.
        transaction.on_commit(refresh_outcomes.delay, robust=True)
