"""A stored test's analysis: the balance check of its randomisation and the uplift model's audiences.

Loads the customers, hands arrays to the pure engine (decisions/engine/uplift.py, balance.py), stores what they
found on the experiment. The outcome analysed is the active objective's metric when the test has it, else the
test's first outcome column. When the objective is customer lifetime value, a test is judged in it from the
customers' transactions: each customer's outcome is their lifetime value as campaigns' lifetime value counts it
(decisions/data/transactions.py), 0 for a customer who has not bought. Purchases from before the test add noise
to every arm alike, not a difference between them: the arms were drawn at random.
"""

from __future__ import annotations

import logging

import numpy as np
from django.utils import timezone

from decisions.data import transactions
from decisions.data.health import data_health_check_on_commit
from decisions.engine import balance, uplift
from decisions.models import Experiment, ExperimentCustomer
from objectives import selectors as objective_selectors
from objectives.models import Metric

logger = logging.getLogger(__name__)
CHUNK = 5000
LIFETIME_VALUE = Metric.CUSTOMER_LIFETIME_VALUE


def analysed_metric(experiment: Experiment) -> str:
    """The objective's metric when the test has it (or, for lifetime value, customer ids to look it up by)."""
    objective = objective_selectors.active_objective()
    if objective is not None and objective.metric in experiment.outcomes:
        return objective.metric
    if objective is not None and objective.metric == LIFETIME_VALUE and _has_customer_ids(experiment):
        return LIFETIME_VALUE
    return experiment.outcomes[0]


def _has_customer_ids(experiment: Experiment) -> bool:
    return ExperimentCustomer.objects.filter(experiment=experiment).exclude(customer_id="").exists()


def load_trial(experiment: Experiment, metric: str, lifetime_values: dict[str, float] | None = None) -> uplift.Trial:
    """The test as the engine reads it: arms, the metric's outcome, attributes typed as the import found them.
    Judged in lifetime value, a customer's outcome is theirs in `lifetime_values` (0 when they have not bought)."""
    arms, outcomes, rows = [], [], []
    customers = ExperimentCustomer.objects.filter(experiment=experiment).order_by("pk")
    column = "customer_id" if metric == LIFETIME_VALUE else metric
    for arm, outcome, attributes in customers.values_list("arm", column, "attributes").iterator(chunk_size=CHUNK):
        arms.append(arm)
        outcomes.append((lifetime_values or {}).get(outcome, 0.0) if metric == LIFETIME_VALUE else outcome)
        rows.append(attributes)
    columns = []
    for name, kind in experiment.attributes.items():
        if kind == "number":
            values = np.array([np.nan if row.get(name) is None else row[name] for row in rows], dtype=float)
        else:
            values = np.array(["" if row.get(name) is None else str(row[name]) for row in rows], dtype=str)
        columns.append(uplift.Attribute(name, values, kind == "number"))
    return uplift.Trial(
        arms=np.array(arms, dtype=str),
        outcome=np.array(outcomes, dtype=float),
        control=experiment.control_arm,
        attributes=tuple(columns),
    )


def experiment_analyse(*, experiment_id: int, settings: uplift.Settings | None = None) -> Experiment | None:
    """Check the randomisation and fit the audiences; a failure is recorded on the experiment, not raised."""
    experiment = Experiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        return None
    metric, lifetime_values, judged = analysed_metric(experiment), None, {}
    if metric == LIFETIME_VALUE:
        lifetime_values = transactions.customer_lifetime_values()
        if lifetime_values:
            judged = {"customers_valued": _customers_valued(experiment, lifetime_values)}
        else:  # the transactions cannot carry a model (yet): judged in the test's own outcome, and said so
            metric = experiment.outcomes[0]
            judged = {"metric_note": "lifetime value needs transactions from which a model can be fitted"}
    trial = load_trial(experiment, metric, lifetime_values)
    experiment.balance = balance.check_balance(
        [(a.name, a.values, a.numeric) for a in trial.attributes], trial.arms, trial.control
    ).to_dict()
    try:
        analysis = uplift.analyse(trial, settings or uplift.Settings())
    except ValueError as exc:
        experiment.analysis, experiment.analysis_error = None, str(exc)
    except Exception:
        logger.exception("uplift analysis of experiment %s failed", experiment_id)
        experiment.analysis, experiment.analysis_error = None, "the analysis stopped unexpectedly"
    else:
        experiment.analysis, experiment.analysis_error = {"metric": metric, **judged, **analysis.to_dict()}, ""
    experiment.analysed_at = timezone.now()
    experiment.save(update_fields=["balance", "analysis", "analysis_error", "analysed_at"])
    # Its balance check is data health too (a broken randomisation): checked once the analysis is stored.
    data_health_check_on_commit(trigger="experiment analysis")
    if experiment.follows_id is not None:
        from decisions.experiments import follow_ups  # it reads this module's stored analyses

        follow_ups.follow_up_record_safely(experiment=experiment)
    return experiment


def _customers_valued(experiment: Experiment, lifetime_values: dict[str, float]) -> int:
    """How many of the test's customers have a lifetime value (have bought); the rest count 0."""
    ids = ExperimentCustomer.objects.filter(experiment=experiment).exclude(customer_id="")
    return sum(
        1 for customer_id in ids.values_list("customer_id", flat=True).iterator() if customer_id in lifetime_values
    )


# What the stored analysis holds beside the engine's Analysis: the metric judged, and how lifetime value was read.
JUDGED_KEYS = ("metric", "customers_valued", "metric_note")


def stored_analysis(experiment: Experiment) -> uplift.Analysis | None:
    if not experiment.analysis:
        return None
    data = {key: value for key, value in experiment.analysis.items() if key not in JUDGED_KEYS}
    return uplift.Analysis.from_dict(data)


def analysis_queue(experiment_id: int) -> None:
    """Analyse the test once the transaction that asked commits (a worker, or in process without a broker)."""
    from decisions.experiments.tasks import analyse_experiment  # the task module imports this one
    from decisions.queueing import queue_follow_up_on_commit

    queue_follow_up_on_commit(analyse_experiment, experiment_id)


def reanalyse_tests_judged_in_lifetime_value() -> int:
    """After new transactions, when the objective is lifetime value: analyse again every test it judges (those
    whose customers have ids). Returns how many were queued."""
    objective = objective_selectors.active_objective()
    if objective is None or objective.metric != LIFETIME_VALUE:
        return 0
    judged = ExperimentCustomer.objects.exclude(customer_id="").values_list("experiment_id", flat=True).distinct()
    ids = sorted(set(judged))
    for experiment_id in ids:
        analysis_queue(experiment_id)
    return len(ids)
