"""Numbers as people read them: money, counts, percentages and the units of an objective.

One module for every page, message and sentence: the queue's rows, History, the timeline, the
report, the engine's rationale and the guardrails' verdicts all format through it, so "$1,234" and
"$12.34" mean the same thing everywhere. It lives in objectives, the bottom layer, because the
guardrail messages (objectives.guardrails) may not import anything from decisions; the pages reach
it through decisions/templatetags/formatting.py.

Pure: no Django, no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MINUS = "−"  # U+2212: a minus sign, not a hyphen
CURRENCY = "$"


def _finite(value) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _magnitude(number: float) -> str:
    """1,234 from 100 up, 12.34 below: whole units where cents no longer matter."""
    number = abs(number)
    return f"{number:,.0f}" if round(number, 2) >= 100 else f"{number:,.2f}"


def money(value) -> str:
    """$1,234 · $12.34 · −$5.00 (a minus only when negative)."""
    number = _finite(value)
    sign = MINUS if round(number, 2) < 0 else ""
    return f"{sign}{CURRENCY}{_magnitude(number)}"


def exact_money(value) -> str:
    """$1,874.85 · $1,500: every cent unless whole, for a figure set beside a limit.

    Guardrail verdicts compare a budget with a cap or bound; rounded, a budget of
    1,500.40 would read "$1,500 is over the cap $1,500".
    """
    number = _finite(value)
    sign = MINUS if round(number, 2) < 0 else ""
    cents = round(abs(number), 2)
    # As money() below 100; from 100 up the cents stay unless there are none.
    text = f"{cents:,.0f}" if cents >= 100 and cents.is_integer() else f"{cents:,.2f}"
    return f"{sign}{CURRENCY}{text}"


def signed_money(value) -> str:
    """+$1,234 · −$12.34 · $0: a change, always with its direction."""
    number = _finite(value)
    if round(number, 2) == 0:
        return f"{CURRENCY}0"
    return f"{_sign(number)}{CURRENCY}{_magnitude(number)}"


def _count_magnitude(number: float) -> str:
    number = abs(number)
    if round(number, 1) >= 100:
        return f"{number:,.0f}"
    return f"{number:,.1f}".removesuffix(".0")


def count(value) -> str:
    """1,234 from 100 up, 12.5 below (one decimal, dropped when whole): leads, clicks, conversions."""
    number = _finite(value)
    text = _count_magnitude(number)
    return f"{MINUS}{text}" if number < 0 and text != "0" else text


def signed_count(value) -> str:
    number = _finite(value)
    text = _count_magnitude(number)
    return text if text == "0" else f"{_sign(number)}{text}"


def percent(fraction) -> str:
    """0.123 → "12%"; below 1% one decimal, so a small risk does not read as none."""
    value = 100 * _finite(fraction)
    if 0 < abs(value) < 1:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def signed_percent(value_pct) -> str:
    """A move already in %, e.g. −30 → "−30%", 12.5 → "+12.5%"."""
    number = _finite(value_pct)
    text = f"{abs(number):.1f}".removesuffix(".0")
    return f"{_sign(number)}{text}%" if text != "0" else "0%"


def _sign(number: float) -> str:
    return MINUS if number < 0 else "+"


# --- metrics and the units of an objective ----------------------------------------------


@dataclass(frozen=True)
class MetricWords:
    label: str  # as a name: "Pipeline value"
    short: str  # inside a sentence or a composite: "pipeline"
    noun: str = ""  # the counted thing, plural ("leads"); empty for money
    singular: str = ""

    @property
    def is_money(self) -> bool:
        return not self.noun


METRICS: dict[str, MetricWords] = {
    "pipeline_value": MetricWords("Pipeline value", "pipeline"),
    "closed_revenue": MetricWords("Closed revenue", "closed revenue"),
    "platform_revenue": MetricWords("Platform revenue", "platform revenue"),
    "customer_lifetime_value": MetricWords("Customer lifetime value", "lifetime value"),
    "spend": MetricWords("Spend", "spend"),
    "leads": MetricWords("Leads", "leads", "leads", "lead"),
    "clicks": MetricWords("Clicks", "clicks", "clicks", "click"),
    "platform_conversions": MetricWords(
        "Platform conversions", "platform conversions", "platform conversions", "platform conversion"
    ),
}


def metric_words(metric: str | None) -> MetricWords:
    """A metric's words; one this version does not know is named after its stored name and counted, never $."""
    if metric in METRICS:
        return METRICS[metric]
    name = str(metric or "value").replace("_", " ")
    return MetricWords(name.capitalize(), name, name, name)


def metric_label(metric: str | None) -> str:
    return metric_words(metric).label


@dataclass(frozen=True)
class Unit:
    """What an objective's numbers are counted in: dollars, one kind of thing, or value points."""

    noun: str = ""  # plural; "" = money
    singular: str = ""

    @property
    def is_money(self) -> bool:
        return not self.noun

    def amount(self, value, *, signed: bool = True) -> str:
        """+$1,234 · +12 leads · −3.5 value points."""
        if self.is_money:
            return signed_money(value) if signed else money(value)
        text = signed_count(value) if signed else count(value)
        noun = self.singular if _count_magnitude(_finite(value)) == "1" else self.noun
        return f"{text} {noun}"

    def interval(self, low, high) -> str:
        """+$100 to +$460 · +4 to +20 leads (the unit said once)."""
        if self.is_money:
            return f"{signed_money(low)} to {signed_money(high)}"
        return f"{signed_count(low)} to {self.amount(high)}"


MONEY = Unit()
VALUE_POINTS = Unit("value points", "value point")


def _terms(metric: str | None, weights: dict | None) -> dict[str, float]:
    """The objective's metrics with their weights, the primary first at weight 1 (as the engine adds them), the
    others in a fixed order: PostgreSQL's jsonb keeps no key order, and a label must not change with the database."""
    terms = {metric or "pipeline_value": 1.0}
    order = list(METRICS)
    for name, weight in sorted((weights or {}).items(), key=lambda item: (_rank(item[0], order), item[0])):
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            continue
        if weight:
            terms[name] = terms.get(name, 0.0) + weight
    return terms


def _rank(metric: str, order: list[str]) -> int:
    return order.index(metric) if metric in order else len(order)


def objective_unit(metric: str | None, weights: dict | None = None) -> Unit:
    """Money when every term is money; the one counted thing when all terms count it; else value points.

    A composite such as closed revenue + 50 × leads adds dollars to leads: its sum is a score, not dollars.
    """
    words = [metric_words(name) for name in _terms(metric, weights)]
    if all(w.is_money for w in words):
        return MONEY
    if len(words) == 1:
        return Unit(words[0].noun, words[0].singular)
    return VALUE_POINTS


def _weight_text(weight: float) -> str:
    return f"{weight:g}"


def objective_label(metric: str | None, weights: dict | None = None) -> str:
    """ "Pipeline value", or a composite as what it is: "Closed revenue + 0.3 × pipeline + 50 × leads"."""
    parts = []
    for name, weight in _terms(metric, weights).items():
        words = metric_words(name)
        if not parts:
            parts.append(words.label if weight == 1 else f"{_weight_text(weight)} × {words.short}")
        else:
            parts.append(words.short if weight == 1 else f"{_weight_text(weight)} × {words.short}")
    return " + ".join(parts)
