"""A stored test's analysis: the balance check of its randomisation and the uplift model's audiences.

Loads the customers, hands arrays to the pure engine (decisions/engine/uplift.py, balance.py), stores what they
found on the experiment. The outcome analysed is the active objective's metric when the test has it, else the
test's first outcome column.
"""

from __future__ import annotations

import logging

import numpy as np
from django.utils import timezone

from decisions.data.health import data_health_check_on_commit
from decisions.engine import balance, uplift
from decisions.models import Experiment, ExperimentCustomer
from objectives import selectors as objective_selectors

logger = logging.getLogger(__name__)
CHUNK = 5000


def analysed_metric(experiment: Experiment) -> str:
    objective = objective_selectors.active_objective()
    if objective is not None and objective.metric in experiment.outcomes:
        return objective.metric
    return experiment.outcomes[0]


def load_trial(experiment: Experiment, metric: str) -> uplift.Trial:
    """The test as the engine reads it: arms, the metric's outcome, attributes typed as the import found them."""
    arms, outcomes, rows = [], [], []
    customers = ExperimentCustomer.objects.filter(experiment=experiment).order_by("pk")
    for arm, outcome, attributes in customers.values_list("arm", metric, "attributes").iterator(chunk_size=CHUNK):
        arms.append(arm)
        outcomes.append(outcome)
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
    metric = analysed_metric(experiment)
    trial = load_trial(experiment, metric)
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
        experiment.analysis, experiment.analysis_error = {"metric": metric, **analysis.to_dict()}, ""
    experiment.analysed_at = timezone.now()
    experiment.save(update_fields=["balance", "analysis", "analysis_error", "analysed_at"])
    # Its balance check is data health too (a broken randomisation): checked once the analysis is stored.
    data_health_check_on_commit(trigger="experiment analysis")
    if experiment.follows_id is not None:
        from decisions.experiments import follow_ups  # it reads this module's stored analyses

        follow_ups.follow_up_record_safely(experiment=experiment)
    return experiment


def stored_analysis(experiment: Experiment) -> uplift.Analysis | None:
    if not experiment.analysis:
        return None
    data = {key: value for key, value in experiment.analysis.items() if key != "metric"}
    return uplift.Analysis.from_dict(data)
