"""Template filters for the words and numbers every page prints: `{% load formatting %}`.

Numbers go through objectives/formatting.py and labels through their registries (proposal kinds,
statuses, reasons, audit actions, metrics), so a template never prints a stored code or a bare float.
"""

from __future__ import annotations

from django import template

from decisions.audit import actions, wording
from decisions.models import Proposal, Review
from decisions.review import kinds
from objectives import formatting, guardrails

register = template.Library()


def _number(value):
    """None and "" stay empty (an unknown figure is not $0)."""
    return None if value in (None, "") else value


@register.filter
def money(value) -> str:
    """{{ 1234.5|money }} → $1,234; {{ 12.345|money }} → $12.35."""
    value = _number(value)
    return "—" if value is None else formatting.money(value)


@register.filter
def signed_money(value) -> str:
    value = _number(value)
    return "—" if value is None else formatting.signed_money(value)


@register.filter
def percent(fraction) -> str:
    """{{ 0.123|percent }} → 12%."""
    fraction = _number(fraction)
    return "—" if fraction is None else formatting.percent(fraction)


@register.filter
def amount(value, metric: str = "") -> str:
    """{{ value|amount:"leads" }} → +12 leads; a money metric → +$1,234."""
    value = _number(value)
    return "—" if value is None else formatting.objective_unit(metric).amount(value)


@register.filter
def metric_label(metric) -> str:
    """{{ "pipeline_value"|metric_label }} → Pipeline value."""
    return formatting.metric_label(metric)


@register.filter
def run_objective(run) -> str:
    """An engine run's objective as what it is: "Pipeline value", "Closed revenue + 50 × leads"."""
    if not run.metric:
        return "—"
    objective = getattr(run, "objective", None)
    return formatting.objective_label(run.metric, objective.weights if objective is not None else None)


@register.filter
def platform_label(platform) -> str:
    """{{ "microsoft_ads"|platform_label }} → Microsoft Ads; empty stays empty."""
    return wording.platform_label(platform) if platform else ""


@register.filter
def kind_label(kind) -> str:
    """{{ "budget_shift"|kind_label }} → Budget shift."""
    return kinds.label(kind)


@register.filter
def status_label(status) -> str:
    """{{ "rolled_back"|status_label }} → Rolled back."""
    return _choice_label(Proposal.Status, status)


@register.filter
def reason_label(code) -> str:
    """{{ "too_risky"|reason_label }} → Too risky."""
    return _choice_label(Review.Reason, code)


@register.filter
def decision_label(code) -> str:
    """How a proposal left the queue, in the audit registry's words: "edited" → Edited and approved."""
    exit_ = actions.EXITS.get(code)
    return exit_.label if exit_ else _choice_label(Review.Decision, code)


@register.filter
def override_reason(key) -> str:
    """The report's override reasons: "rejected: too_risky" → "Rejected: too risky", "edited" → "Edited"."""
    key = str(key or "")
    if key.startswith("rejected: "):
        code = key.removeprefix("rejected: ")
        return f"Rejected: {reason_label(code).lower()}" if code else "Rejected (no reason given)"
    return key[:1].upper() + key[1:]


@register.filter
def override_label(code) -> str:
    """{{ "override_warn"|override_label }} → Over a warning (the audit registry's override kinds)."""
    found = actions.OVERRIDE_KINDS.get(str(code or ""))
    return found.label if found else str(code or "").replace("_", " ").capitalize()


@register.filter
def guardrail_kind_label(kind) -> str:
    """{{ "max_budget_change_pct"|guardrail_kind_label }} → Max budget change % (the guardrail registry's label)."""
    found = guardrails.kind_named(kind)
    return found.label if found else str(kind or "").replace("_", " ")


@register.filter
def action_label(action) -> str:
    """{{ "proposal.created"|action_label }} → Proposed by the engine (the audit registry's label)."""
    entry = actions.entry(action)
    return entry.label if entry else str(action)


@register.filter
def words(code) -> str:
    """A stored code with nothing better to say for it, as words: "no_outcomes" → "no outcomes"."""
    return str(code or "").replace("_", " ")


def _choice_label(choices, value) -> str:
    if value in choices.values:
        return choices(value).label
    return str(value or "").replace("_", " ").capitalize()
