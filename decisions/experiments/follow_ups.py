"""Follow-up tests: what an applied audience action realised, measured in a later randomised test.

A test imported with `--follows EARLIER` (or "Follow-up of" on the upload form) records that it follows an earlier
one. Once it is analysed, every applied (or rolled back) audience_action proposal of the earlier test is measured
in the follow-up's customers: inside the proposal's audience (as applied: an edit's narrower audience or other
action), the action's arm mean minus the control's arm mean, per customer, with an 80% bootstrap interval
(decisions/engine/segment_uplift.py). New customers, so this is the out-of-sample check of what the earlier test
predicted. The verdict compares the realised mean with the predicted interval: inside, above, below, or too few
customers (either arm below segment_uplift.MIN_CUSTOMERS in the audience).

The prediction is the per-customer interval the proposal was made with (its evidence), else the earlier analysis's
held-out estimate for that audience and action; an audience neither names (a reviewer narrowed it, or chose another
action) takes the in-sample re-estimate the edit form showed, and says so. Outcome rows measure campaigns over days
and per week, so these comparisons are kept on the proposal's evidence (`evidence["follow_ups"]`, one entry per
follow-up test, replaced when that test is analysed again) and audited as experiment.follow_up_recorded.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from decisions import audiences
from decisions.audiences import segment_words
from decisions.audit import events
from decisions.engine import segment_uplift
from decisions.experiments import analysing, segment_estimates
from decisions.experiments.lists import in_sentence
from decisions.models import Experiment, Proposal, Review
from decisions.review import kinds
from objectives import formatting
from objectives.guardrails import fields

logger = logging.getLogger(__name__)

MEASURED = (Proposal.Status.APPLIED, Proposal.Status.ROLLED_BACK)
VERDICT_WORDS = {
    "inside": "inside",
    "above": "above the interval",
    "below": "below the interval",
    "too_few": "too few customers to tell",
    "no_prediction": "nothing predicted to compare with",
}


def applied_change(proposal: Proposal) -> dict:
    """The change as approved: the reviewer's edited audience or action, else the machine's."""
    review = getattr(proposal, "review", None)
    if review is not None and review.decision == Review.Decision.EDITED and review.final_changes:
        return review.final_changes[0]
    return proposal.changes[0]


def audience_proposals(earlier: Experiment) -> list[tuple[Proposal, dict]]:
    """Applied or rolled back audience actions of the earlier test, each with its change as approved."""
    names = [name for name, spec in kinds.REGISTRY.items() if spec.target == fields.AUDIENCE_TARGET]
    found = []
    rows = Proposal.objects.filter(kind__in=names, status__in=MEASURED).select_related("review").order_by("pk")
    for proposal in rows:
        change = applied_change(proposal)
        if change.get("experiment") == earlier.name:
            found.append((proposal, change))
    return found


def predicted(earlier: Experiment, change: dict, action: str, proposal: Proposal | None = None) -> dict | None:
    """The earlier test's per-customer estimate of `action` in the change's audience, with its source: the figure
    the proposal was made with (its evidence, decisions/generation/audience_drafting.py) when the change is that
    audience and action, else the stored analysis's, else the in-sample re-estimate."""
    key = audiences.segment_key(change.get("segment") or {})
    stored = ((proposal.evidence or {}) if proposal is not None else {}).get("audience") or {}
    each = stored.get("per_customer") or {}
    if (
        each
        and audiences.segment_key(stored.get("segment") or {}) == key
        and segment_estimates.compared_arm(stored, str(stored.get("control"))) == action
    ):
        return {"mean": each["mean"], "low": each["low"], "high": each["high"], "source": "proposal"}
    analysis = analysing.stored_analysis(earlier)
    for audience in analysis.audiences if analysis is not None else []:
        if audiences.segment_key(audience.segment) == key and (uplift := audience.uplift_of(action)) is not None:
            return {"mean": uplift.mean, "low": uplift.low, "high": uplift.high, "source": "analysis"}
    found = segment_estimates.estimate(earlier, change.get("segment") or {}, action)
    if found.per_customer is None:
        return None
    d = found.per_customer
    return {"mean": d.mean, "low": d.low, "high": d.high, "source": "in_sample"}


def _sentence(record: dict, unit: formatting.Unit) -> str:
    said = f"{'Stopping ' if record['stops'] else ''}{record['action_name']} to {in_sentence(record['audience'])}"
    pred, real = record["predicted"], record["realised"]
    parts = [said + ":"]
    if pred is not None:
        interval = unit.interval(pred["low"], pred["high"])
        parts.append(f"predicted {unit.amount(pred['mean'])} ({interval}) per customer;")
    if real is not None:
        parts.append(f"realised {unit.amount(real['mean'])} ({unit.interval(real['low'], real['high'])}):")
    else:
        parts.append(f"realised: {record['customers']} customers of the follow-up in the audience:")
    parts.append(VERDICT_WORDS[record["verdict"]])
    return " ".join(parts)


def comparison(follow_up: Experiment, earlier: Experiment, proposal: Proposal, change: dict) -> dict:
    """One proposal's realised uplift in the follow-up, against what the earlier test predicted."""
    action = segment_estimates.compared_arm(change, earlier.control_arm)
    realised = segment_estimates.estimate(follow_up, change.get("segment") or {}, action)
    prediction = predicted(earlier, change, action, proposal)
    if realised.per_customer is None:
        verdict = "too_few"
    elif prediction is None:
        verdict = "no_prediction"
    else:
        verdict = segment_uplift.verdict(realised.per_customer, low=prediction["low"], high=prediction["high"])
    names = dict(earlier.actions.values_list("arm", "name"))
    record = {
        "experiment_id": follow_up.pk,
        "experiment": follow_up.name,
        "follows": earlier.name,
        "proposal": proposal.pk,
        "action": action,
        "action_name": names.get(action, action),
        "stops": change.get("to") == earlier.control_arm,
        "segment": audiences.canonical(change.get("segment") or {}),
        "audience": segment_words(audiences.canonical(change.get("segment") or {})),
        "metric": segment_estimates.metric_of(follow_up),
        "customers": realised.size,
        "predicted": prediction,
        "realised": realised.per_customer.to_dict() if realised.per_customer is not None else None,
        "verdict": verdict,
        "measured_at": timezone.now().isoformat(),
    }
    record["sentence"] = _sentence(record, formatting.objective_unit(record["metric"]))
    return record


@transaction.atomic
def follow_up_record(*, experiment: Experiment) -> list[dict]:
    """Measure every applied audience action of the test this one follows; store each on its proposal's evidence
    (replacing this follow-up's earlier entry) and audit them together. Nothing to measure: nothing written."""
    earlier = experiment.follows
    if earlier is None:
        return []
    records = []
    for proposal, change in audience_proposals(earlier):
        record = comparison(experiment, earlier, proposal, change)
        kept = [e for e in (proposal.evidence or {}).get("follow_ups", []) if e.get("experiment_id") != experiment.pk]
        evidence = {**(proposal.evidence or {}), "follow_ups": [*kept, record]}
        Proposal.objects.filter(pk=proposal.pk).update(evidence=evidence)
        records.append(record)
    events.experiment_follow_up_recorded(experiment=experiment, earlier=earlier, comparisons=records)
    return records


def follow_up_record_safely(*, experiment: Experiment) -> None:
    """After an analysis: a failure is logged, never lost with the analysis it follows."""
    try:
        follow_up_record(experiment=experiment)
    except Exception:
        logger.exception("measuring the follow-up test %s failed", experiment.pk)


def comparisons_of(proposal: Proposal) -> list[dict]:
    """What follow-up tests measured of this proposal, oldest first."""
    return list((proposal.evidence or {}).get("follow_ups", []))


def comparisons_in(follow_up: Experiment) -> list[dict]:
    """What this follow-up measured of the earlier test's audience actions, by proposal."""
    if follow_up.follows_id is None:
        return []
    found = []
    for proposal, _ in audience_proposals(follow_up.follows):
        found += [e for e in comparisons_of(proposal) if e.get("experiment_id") == follow_up.pk]
    return found
