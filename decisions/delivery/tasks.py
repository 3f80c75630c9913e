"""Celery tasks of the apply outbox: each takes ids, loads, and calls one service."""

from celery import shared_task

from decisions.delivery import outbox as applying


# No Celery retry limit: the service counts attempts in the row and marks it
# failed after WAYPOINT_APPLY_MAX_ATTEMPTS, so the database is the one place
# that knows how many tries a change has had. No result either: the row is the
# record, and keeping a result makes every publish first subscribe to the
# result store, which blocks a reviewer for ~20 s while Redis is down.
@shared_task(
    name="decisions.outbox_tasks.apply_application", bind=True, max_retries=None, acks_late=True, ignore_result=True
)
def apply_application(self, application_id: int) -> str:
    application = applying.application_apply(application_id=application_id)
    # Run eagerly (no broker) there is nowhere to park a countdown, and an
    # eager Retry would surface as an error: try again here, at once, until
    # the row succeeds or runs out of attempts (the service counts them).
    while self.request.is_eager and applying.awaits_retry(application):
        application = applying.application_apply(application_id=application_id)
    if application is None:
        return "missing"
    if applying.awaits_retry(application):
        raise self.retry(countdown=applying.backoff_seconds(application.attempts))
    # Succeeded, failed, or still pending because another worker is sending
    # it: that worker records the outcome (or the sweep, if it dies).
    return application.status


@shared_task(name="decisions.outbox_tasks.sweep_outbox")
def sweep_outbox() -> int:
    """Beat task: re-queue outbox rows whose task was lost (Redis down, a worker died)."""
    return len(applying.applications_requeue_stale())


@shared_task(name="decisions.outbox_tasks.end_spend_tests")
def end_spend_tests() -> dict:
    """Beat task: send the return of every spend test whose days are over (decisions/spend_tests.py)."""
    from decisions import spend_tests

    return spend_tests.spend_tests_sweep()
