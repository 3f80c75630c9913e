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

from decisions.audit import events
from decisions.models import AudienceList, Experiment, ExperimentCustomer


def canonical(segment: dict) -> dict:
    """The segment with its attributes sorted and its category lists sorted: one spelling per audience."""
    out = {}
    for name in sorted(segment):
        condition = segment[name]
        if isinstance(condition, dict):
            # Numbers as floats: 25 and 25.0 are one bound (an edit's typed bound and the engine's).
            out[name] = {bound: _bound(condition.get(bound)) for bound in ("min", "max")}
        else:
            out[name] = sorted(str(value) for value in condition)
    return out


def _bound(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return value  # not a number: kept as written, so it matches nothing rather than something else


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


# --- an audience in words (the pages, guardrail verdicts, the audit log) ----------------------------------------


def _number_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def attribute_label(name: str) -> str:
    return name.replace("_", " ")


def condition_words(name: str, condition) -> str:
    """ "age 23 or more", "days since purchase under 170", "age 23 to under 40", "region is North or East"."""
    label = attribute_label(name)
    if isinstance(condition, dict):
        low, high = condition.get("min"), condition.get("max")
        if low is not None and high is not None:
            return f"{label} {_number_text(low)} to under {_number_text(high)}"
        if low is not None:
            return f"{label} {_number_text(low)} or more"
        return f"{label} under {_number_text(high)}"
    values = list(condition)
    said = values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"
    return f"{label} is {said}"


def segment_words(segment: dict) -> str:
    if not segment:
        return "Everyone"
    said = " and ".join(condition_words(name, condition) for name, condition in segment.items())
    return said[0].upper() + said[1:]


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


def set_action(change: dict, action: str, *, now, proposal_id: int | None = None) -> bool:
    """Give the audience an action: its live list (if any) is withdrawn, and unless the action is the control a
    new list of its customers is published, linked to `proposal_id` (the proposal whose application sets it).
    False when the test is gone or has no such arm.

    A proposal that withdraws its own list is being rolled back: the action it re-publishes (the one its list
    had replaced) is linked to the proposal whose list that was. Each publication and withdrawal is audited.
    The audience already getting `action` from its live list is left as it is (a resend changes nothing).
    """
    experiment = Experiment.objects.filter(name=change.get("experiment")).first()
    if experiment is None or action not in set(experiment.arm_sizes) | {experiment.control_arm}:
        return False
    segment = canonical(change.get("segment") or {})
    key = segment_key(segment)
    live = AudienceList.objects.filter(experiment=experiment, segment_key=key, withdrawn_at__isnull=True).first()
    if live is not None and live.action == action:
        return True
    if live is None and action == experiment.control_arm:
        return True  # the audience gets the control already: nothing was published, nothing to withdraw
    if live is not None:
        AudienceList.objects.filter(pk=live.pk, withdrawn_at__isnull=True).update(withdrawn_at=now)
        live.withdrawn_at = now
        events.audience_list_withdrawn(live, by_proposal=proposal_id)
    if action != experiment.control_arm:
        source = proposal_id
        if live is not None and proposal_id is not None and live.proposal_id == proposal_id:
            source = _earlier_publisher(experiment, key, action, before=live)
        ids, without_id = members(experiment, segment)
        published = AudienceList.objects.create(
            experiment=experiment,
            proposal_id=source,
            segment=segment,
            segment_key=key,
            action=action,
            customer_ids=ids,
            without_id=without_id,
            published_at=now,
        )
        events.audience_list_published(published, by_proposal=proposal_id)
    return True


def _earlier_publisher(experiment: Experiment, key: str, action: str, *, before: AudienceList) -> int | None:
    """The proposal whose list gave the audience `action` before `before` replaced it (a rollback re-publishes
    that list's action, so the new list is that proposal's again)."""
    earlier = (
        AudienceList.objects.filter(experiment=experiment, segment_key=key, action=action, withdrawn_at__isnull=False)
        .exclude(pk=before.pk)
        .filter(published_at__lte=before.published_at)
        .order_by("-published_at", "-pk")
        .first()
    )
    return earlier.proposal_id if earlier is not None else None


def action_facts(experiment: Experiment, arm: str) -> dict:
    """An arm as a receiver needs it: its value in the test's file, its name and copy."""
    action = experiment.actions.filter(arm=arm).first()
    return {
        "arm": arm,
        "name": action.name if action is not None else arm,
        "subject_line": action.subject_line if action is not None else "",
        "message": action.message if action is not None else "",
        "control": arm == experiment.control_arm,
    }


def publication(change: dict) -> dict | None:
    """What applying one audience change sends an e-mail or ad platform: the list it withdraws (the audience's
    live list's action, when it has one) and the list it publishes (customer ids, the action and its copy, how
    many customers, how many the file gave no id); None when the test is gone.

    `operation` is "publish" (a list goes out, maybe replacing another) or "withdraw" (the audience goes back to
    the control: a rollback, or a proposal to stop an action): the receiver removes the withdrawn list either way.
    """
    experiment = Experiment.objects.filter(name=change.get("experiment")).first()
    if experiment is None:
        return None
    segment = canonical(change.get("segment") or {})
    live = live_list(experiment, segment)
    action = str(change.get("to"))
    document = {
        "experiment": experiment.name,
        "segment": segment,
        "segment_key": segment_key(segment),
        "operation": "withdraw" if action == experiment.control_arm else "publish",
        "withdraw": None,
        "publish": None,
    }
    if live is not None and live.action != action:
        document["withdraw"] = {
            "action": action_facts(experiment, live.action),
            "list": live.pk,
            "count": len(live.customer_ids),
        }
    if action != experiment.control_arm:
        ids, without_id = members(experiment, segment)
        document["publish"] = {
            "action": action_facts(experiment, action),
            "customer_ids": ids,
            "count": len(ids),
            "without_id": without_id,
        }
    return document
