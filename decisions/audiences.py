"""Audiences of a randomised test: what identifies one, who is in it, and what it gets now.

An audience is a test and a segment — attribute → allowed values (a list) or, for numbers,
{"min": …, "max": …} (min inclusive, max exclusive); a customer is in it when every condition holds. Its
identity is the digest of the segment's canonical JSON (`segment_key`), so the same conditions written in
another order are the same audience. What it gets now is the action of its live AudienceList, else the test's
control (decisions/models.py).
"""

from __future__ import annotations

import hashlib
import json

from decisions.models import AudienceList, Experiment, ExperimentCustomer


def canonical(segment: dict) -> dict:
    """The segment with its attributes sorted and its category lists sorted: one spelling per audience."""
    out = {}
    for name in sorted(segment):
        condition = segment[name]
        if isinstance(condition, dict):
            out[name] = {"min": condition.get("min"), "max": condition.get("max")}
        else:
            out[name] = sorted(str(value) for value in condition)
    return out


def segment_key(segment: dict) -> str:
    text = json.dumps(canonical(segment), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def holds(condition, value) -> bool:
    """Whether one attribute value meets one condition (None, a missing value, meets none)."""
    if value is None:
        return False
    if isinstance(condition, dict):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        low, high = condition.get("min"), condition.get("max")
        return (low is None or number >= low) and (high is None or number < high)
    return str(value) in {str(allowed) for allowed in condition}


def matches(segment: dict, attributes: dict) -> bool:
    """Whether a customer with these attributes is in the audience: every condition holds."""
    return all(holds(condition, attributes.get(name)) for name, condition in segment.items())


def live_list(experiment: Experiment, segment: dict) -> AudienceList | None:
    return AudienceList.objects.filter(
        experiment=experiment, segment_key=segment_key(segment), withdrawn_at__isnull=True
    ).first()


def current_action(experiment: Experiment, segment: dict) -> str:
    """The action the audience gets now: its live list's, else the control."""
    found = live_list(experiment, segment)
    return found.action if found is not None else experiment.control_arm


def live_actions(experiments) -> dict[tuple[int, str], str]:
    """(test pk, segment key) → action of every live list of these tests: one query."""
    pks = [test.pk for test in experiments]
    if not pks:
        return {}
    rows = AudienceList.objects.filter(experiment_id__in=pks, withdrawn_at__isnull=True)
    return {
        (test_pk, key): action for test_pk, key, action in rows.values_list("experiment_id", "segment_key", "action")
    }


def members(experiment: Experiment, segment: dict) -> tuple[list[str], int]:
    """The test's customers in the audience: their ids, and how many the file gave no id."""
    ids, without_id = [], 0
    rows = ExperimentCustomer.objects.filter(experiment=experiment).order_by("pk")
    for customer_id, attributes in rows.values_list("customer_id", "attributes").iterator(chunk_size=5000):
        if matches(segment, attributes):
            if customer_id:
                ids.append(customer_id)
            else:
                without_id += 1
    return ids, without_id


def set_action(change: dict, action: str, *, now) -> bool:
    """Give the audience an action: its live list (if any) is withdrawn, and unless the action is the control a
    new list of its customers is published. False when the test is gone or has no such arm."""
    experiment = Experiment.objects.filter(name=change.get("experiment")).first()
    if experiment is None or action not in set(experiment.arm_sizes) | {experiment.control_arm}:
        return False
    segment = canonical(change.get("segment") or {})
    key = segment_key(segment)
    AudienceList.objects.filter(experiment=experiment, segment_key=key, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    if action != experiment.control_arm:
        ids, without_id = members(experiment, segment)
        AudienceList.objects.create(
            experiment=experiment,
            segment=segment,
            segment_key=key,
            action=action,
            customer_ids=ids,
            without_id=without_id,
            published_at=now,
        )
    return True
