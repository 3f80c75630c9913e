"""Celery task that retrains the acceptance model (scheduled weekly by beat, migration 0009)."""

from celery import shared_task

from decisions.learning import service as learning


@shared_task(name="decisions.learning_tasks.retrain_acceptance_model")
def retrain_acceptance_model() -> int | None:
    """Retrain from the recent human decisions; the new model's id, or None while there are too few.

    Safe to run twice: a second run fits the same decisions again and simply becomes the active model.
    """
    model = learning.acceptance_retrain()
    return model.pk if model else None
