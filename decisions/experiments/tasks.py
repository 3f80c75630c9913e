"""Celery tasks of experiments: each takes ids, loads, and calls one service."""

from celery import shared_task

from decisions.experiments import analysing


@shared_task(name="decisions.tasks.analyse_experiment")
def analyse_experiment(experiment_id: int) -> str:
    """Fit the uplift model and the balance check of one test; safe to run twice (it replaces the last analysis)."""
    experiment = analysing.experiment_analyse(experiment_id=experiment_id)
    return "missing" if experiment is None else ("failed" if experiment.analysis_error else "analysed")
