"""Celery tasks of outcome tracking: refresh every outcome whose window is in (daily by beat, and after an import)."""

from celery import shared_task

from decisions.outcomes import service as outcomes


@shared_task(name="decisions.outcome_tasks.refresh_outcomes")
def refresh_outcomes() -> dict[str, int]:
    return outcomes.outcomes_refresh()
