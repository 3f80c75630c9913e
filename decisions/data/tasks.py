"""Celery tasks of data import: each takes ids, loads, and calls one service."""

from celery import shared_task

from decisions.data import deal_figures, experiments, importing
from decisions.models import ImportRun


# Registered names are the ones beat rows and queued messages already carry.
@shared_task(name="decisions.tasks.import_performance_file")
def import_performance_file(import_run_id: int, create_campaigns: bool = False) -> str:
    """Import an uploaded file. Safe to run twice: a finished run is left alone, and an interrupted one
    wrote nothing (one transaction), so it simply runs again. The import queues its own follow-ups.
    `create_campaigns`: the uploader asked for campaigns for unknown ids even from a metric-only file."""
    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    importing.import_run_execute(run=run, create_campaigns=create_campaigns)
    return run.status


@shared_task(name="decisions.tasks.import_deals_file")
def import_deals_file(import_run_id: int) -> str:
    """Import an uploaded CRM deals export; safe to run twice, as above."""
    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    deal_figures.deal_run_execute(run=run)
    return run.status


@shared_task(name="decisions.tasks.import_transactions_file")
def import_transactions_file(import_run_id: int) -> str:
    """Import an uploaded transactions file and fit the lifetime value model; safe to run twice, as above."""
    from decisions.data import transactions

    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    transactions.transaction_run_execute(run=run)
    return run.status


@shared_task(name="decisions.tasks.import_experiment_file")
def import_experiment_file(import_run_id: int) -> str:
    """Import an uploaded test with the name, control arm and earlier test kept on its run (so that the sweep
    queues it again as it was asked for); safe to run twice, as above."""
    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    options = run.options or {}
    experiments.experiment_run_execute(
        run=run,
        name=options.get("name", ""),
        control=options.get("control", ""),
        follows=options.get("follows", ""),
    )
    return run.status


@shared_task(name="decisions.tasks.check_data_health")
def check_data_health(trigger: str = "import") -> int:
    """After an import commits (or on demand): check the data's health and store the findings."""
    from decisions.data import health

    return health.data_health_check(trigger=trigger).pk
