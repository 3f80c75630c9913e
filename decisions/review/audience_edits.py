"""A reviewer's edit of an audience action: narrow the audience or choose another action of the test, never more.

The engine chose the audience on the test's customers; a reviewer may only tighten it — a number's range narrowed
(min up, max down), category values dropped — or give it another arm of the same test. Widening (a lower min, a
higher max, a bound removed, a value added, a condition dropped or one on another attribute) would send an action
to customers the test said nothing about as an audience, so it is refused with the reason.

An audience that already gets an action from a published list keeps its segment: a narrower one would be another
audience, and both lists would then be live at once. Only its action can be changed there.
"""

from __future__ import annotations

import math

from decisions import audiences
from decisions.audiences import condition_words
from decisions.models import Experiment


class InvalidEdit(ValueError):
    """The edited audience or action is not one the reviewer may choose; the message says why."""


def _number(value, label: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidEdit(f"{label} must be a number.") from None
    if not math.isfinite(number):
        raise InvalidEdit(f"{label} must be a number.")
    return number


def narrowed_condition(name: str, machine, edited):
    """The edited condition when it lies inside the machine's, else InvalidEdit naming what widened."""
    label = name.replace("_", " ")
    engine = condition_words(name, machine)
    if isinstance(machine, dict):
        if not isinstance(edited, dict):
            raise InvalidEdit(f"{label.capitalize()} is a range of numbers.")
        low = _number(edited.get("min"), f"The lowest {label}")
        high = _number(edited.get("max"), f"The {label} limit")
        m_low, m_high = machine.get("min"), machine.get("max")
        if m_low is not None and (low is None or low < m_low):
            raise InvalidEdit(f"The engine's audience is {engine}: {label} can be raised from {m_low:g}, not lowered.")
        if m_high is not None and (high is None or high > m_high):
            raise InvalidEdit(f"The engine's audience is {engine}: {label} can be lowered from {m_high:g}, not raised.")
        if low is not None and high is not None and low >= high:
            raise InvalidEdit(f"No customer has {label} {low:g} or more and under {high:g}: the audience is empty.")
        return {"min": low, "max": high}
    if isinstance(edited, str) or not isinstance(edited, list | tuple):
        raise InvalidEdit(f"{label.capitalize()} is a list of values.")
    allowed = {str(value) for value in machine}
    chosen = [str(value) for value in edited]
    if extra := sorted(set(chosen) - allowed):
        raise InvalidEdit(f"The engine's audience is {engine}: {', '.join(extra)} would widen it.")
    if not chosen:
        raise InvalidEdit(f"Keep at least one {label} value: with none, the audience is empty.")
    return sorted(set(chosen))


def narrowed_segment(machine: dict, edited: dict) -> dict:
    """The edited segment, canonical, when every condition lies inside the machine's and none was dropped."""
    if not isinstance(edited, dict):
        raise InvalidEdit("The audience must be a set of conditions.")
    if extra := sorted(set(edited) - set(machine)):
        raise InvalidEdit(f"Only the engine's conditions can be narrowed; {', '.join(extra)} is not one of them.")
    if missing := sorted(set(machine) - set(edited)):
        raise InvalidEdit(f"Dropping the condition on {', '.join(missing)} would widen the audience.")
    return audiences.canonical({name: narrowed_condition(name, machine[name], edited[name]) for name in machine})


def clean(machine: dict, edited: dict) -> dict:
    """The reviewer's version of the machine's audience change: its test, field and "from" stay the machine's."""
    if not isinstance(edited, dict):
        raise InvalidEdit("The edited change must name the audience and the action.")
    if edited.get("experiment") != machine.get("experiment") or edited.get("field") != machine.get("field"):
        raise InvalidEdit("An edit keeps the proposal's test; change its audience or its action only.")
    experiment = Experiment.objects.filter(name=machine.get("experiment")).first()
    if experiment is None:
        raise InvalidEdit(f'The test "{machine.get("experiment")}" is gone.')
    arms = set(experiment.arm_sizes) | {experiment.control_arm}
    to = edited.get("to")
    if to not in arms:
        raise InvalidEdit(f"{to!r} is not an arm of the test {experiment.name}.")
    if to == machine.get("from"):
        raise InvalidEdit("The audience gets this action already: choose another one, or reject the proposal.")
    segment = narrowed_segment(machine.get("segment") or {}, edited.get("segment") or {})
    reshaped = audiences.segment_key(segment) != audiences.segment_key(machine.get("segment") or {})
    if reshaped and machine.get("from") != experiment.control_arm:
        raise InvalidEdit(
            "This audience gets an action from a published list already: only its action can change here "
            "(a narrower audience would leave both lists live)."
        )
    if not reshaped:
        return {**machine, "to": to}  # the machine's spelling of its segment: keeping it all is no edit
    return {**machine, "segment": segment, "to": to}


def clean_all(machine_changes: list[dict], final_changes) -> list[dict]:
    """The edited changes of an audience proposal (one change each), matched to the machine's by position: a
    narrowed segment is another audience, so its ref is not the machine's."""
    if not isinstance(final_changes, list) or len(final_changes) != len(machine_changes):
        raise InvalidEdit("Edited changes must cover every change of the proposal, in its order.")
    return [clean(machine, edited) for machine, edited in zip(machine_changes, final_changes, strict=True)]


def edited_estimate(proposal, changes: list[dict]) -> dict | None:
    """For an edited audience proposal, what the edited audience and action bring for one send, re-estimated from
    the test's customers (as the edit form showed it); None for other kinds or too few customers."""
    from decisions.experiments import segment_estimates

    if not segment_estimates.is_audience_kind(proposal.kind):
        return None
    change = changes[0]
    experiment = Experiment.objects.filter(name=change.get("experiment")).first()
    if experiment is None:
        return None
    action = segment_estimates.compared_arm(change, experiment.control_arm)
    found = segment_estimates.estimate(experiment, change.get("segment") or {}, action)
    if found.per_send is None:
        return None
    mean, low, high = found.per_send
    # A change back to the control stops the action: it brings the opposite of what the action adds.
    sign = -1.0 if change.get("to") == experiment.control_arm else 1.0
    low, high = sorted((sign * low, sign * high))
    p_loss = found.per_customer.p_loss if sign > 0 else 1.0 - found.per_customer.p_loss
    return {"mean": sign * mean, "low": low, "high": high, "p_loss": round(p_loss, 4)}
