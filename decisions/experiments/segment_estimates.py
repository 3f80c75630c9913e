"""An audience's uplift read straight from a test's customers (decisions/engine/segment_uplift.py): what the edit
form shows for a reviewer's edited audience, and what a follow-up test measures of an applied action.

Reading the test's own customers again is in-sample for the edit form (the audience was chosen on them), so the
pages say "re-estimated from the test's customers" and not more; a follow-up test's customers are new ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decisions import audiences
from decisions.data import transactions
from decisions.engine import segment_uplift
from decisions.experiments import analysing
from decisions.experiments.lists import in_sentence
from decisions.models import Experiment, ExperimentCustomer
from decisions.review import kinds
from objectives import formatting
from objectives.guardrails import fields

CHUNK = 5000


@dataclass(frozen=True)
class SegmentEstimate:
    action: str  # the arm compared with the control
    size: int  # the test's customers in the audience, every arm
    per_customer: segment_uplift.Difference | None  # None: too few customers in the action's or the control's arm

    @property
    def per_send(self) -> tuple[float, float, float] | None:
        """(mean, low, high) for one send to the whole audience: per customer × its size."""
        if self.per_customer is None:
            return None
        d = self.per_customer
        return round(d.mean * self.size, 2), round(d.low * self.size, 2), round(d.high * self.size, 2)


def metric_of(experiment: Experiment) -> str:
    """The outcome the test was analysed on, else its first outcome column."""
    return (experiment.analysis or {}).get("metric") or (experiment.outcomes or ["closed_revenue"])[0]


def arm_outcomes(experiment: Experiment, segment: dict, metric: str) -> tuple[dict[str, list[float]], int]:
    """The outcome of every customer in the audience, by arm, and how many customers it has. In lifetime value
    (a test judged in it, decisions/experiments/analysing.py) a customer's outcome is their lifetime value."""
    by_arm: dict[str, list[float]] = {}
    size = 0
    rows = ExperimentCustomer.objects.filter(experiment=experiment).order_by("pk")
    judged_in_value = metric == analysing.LIFETIME_VALUE
    values = transactions.customer_lifetime_values() if judged_in_value else {}
    column = "customer_id" if judged_in_value else metric
    for arm, outcome, attributes in rows.values_list("arm", column, "attributes").iterator(chunk_size=CHUNK):
        if judged_in_value:
            outcome = values.get(outcome, 0.0)
        if audiences.matches(segment, attributes):
            size += 1
            if outcome is not None:
                by_arm.setdefault(arm, []).append(outcome)
    return by_arm, size


def compared_arm(change: dict, control: str) -> str:
    """The action a change is about: the one it sends, or (a change back to the control) the one it stops."""
    return str(change.get("from")) if change.get("to") == control else str(change.get("to"))


def estimate(experiment: Experiment, segment: dict, action: str, *, control: str | None = None) -> SegmentEstimate:
    """`action` minus the control inside the audience, per customer, with its 80% bootstrap interval."""
    control = control or experiment.control_arm
    by_arm, size = arm_outcomes(experiment, audiences.canonical(segment), metric_of(experiment))
    treated = np.array(by_arm.get(action, []), dtype=float)
    base = np.array(by_arm.get(control, []), dtype=float)
    return SegmentEstimate(action=action, size=size, per_customer=segment_uplift.difference(treated, base))


def edit_summary(proposal, changes: list[dict]) -> dict:
    """What the edit form shows live for an audience proposal: the edited audience and action, and what the test's
    customers say it adds, per customer and for one send (against the engine's own figure)."""
    change = changes[0]
    experiment = Experiment.objects.filter(name=change.get("experiment")).first()
    if experiment is None:
        return {"audience": True, "missing": True}
    names = dict(experiment.actions.values_list("arm", "name"))
    unit = formatting.objective_unit(metric_of(experiment))
    action = compared_arm(change, experiment.control_arm)
    found = estimate(experiment, change.get("segment") or {}, action)
    words = {
        "audience": True,
        "missing": False,
        "segment": audiences.segment_words(audiences.canonical(change.get("segment") or {})),
        "segment_in_sentence": in_sentence(audiences.segment_words(audiences.canonical(change.get("segment") or {}))),
        "action": names.get(str(change.get("to")), change.get("to")),
        "compared": names.get(action, action),
        "control": names.get(experiment.control_arm, experiment.control_arm),
        "stops": change.get("to") == experiment.control_arm,
        "size": found.size,
        "metric": formatting.metric_label(metric_of(experiment)),
        "machine_mean": unit.amount(proposal.expected_mean),
        "machine_interval": unit.interval(proposal.expected_low, proposal.expected_high),
        "edited": _differs(change, proposal.changes[0]),
        "too_few": found.per_customer is None,
        "min_customers": segment_uplift.MIN_CUSTOMERS,
    }
    if found.per_customer is not None:
        d, (mean, low, high) = found.per_customer, found.per_send
        words |= {
            "per_customer": unit.amount(d.mean),
            "per_customer_interval": unit.interval(d.low, d.high),
            "per_send": unit.amount(mean),
            "per_send_interval": unit.interval(low, high),
            "p_loss": formatting.percent(d.p_loss),
            "treated": d.treated,
            "control_customers": d.control,
        }
    return words


def _differs(change: dict, machine: dict) -> bool:
    return change.get("to") != machine.get("to") or audiences.segment_key(
        change.get("segment") or {}
    ) != audiences.segment_key(machine.get("segment") or {})


def is_audience_kind(kind: str) -> bool:
    return kinds.get(kind).target == fields.AUDIENCE_TARGET
