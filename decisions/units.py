"""An objective's values in its own unit, for the report, its email and CSV, the timeline's outcome entry and
the campaign page: "+$1,234/week", "+12.5 leads/week", "−3 value points/week", never a bare number.

The words and numbers are objectives.formatting's (the one module every page formats through); this adds
what these pages need on top: "per week", a missing value shown as "—", and a unit's name for a CSV column.
"""

from __future__ import annotations

from objectives import formatting

MINUS = formatting.MINUS


def unit_of(metric: str | None, weights: dict | None = None) -> formatting.Unit:
    return formatting.objective_unit(metric, weights)


def is_money(metric: str | None, weights: dict | None = None) -> bool:
    return unit_of(metric, weights).is_money


def unit_name(metric: str | None, weights: dict | None = None) -> str:
    """What a CSV column or a table header names: "USD", "leads", "value points"."""
    unit = unit_of(metric, weights)
    return "USD" if unit.is_money else unit.noun


def label(metric: str | None, weights: dict | None = None) -> str:
    """ "Pipeline value", or a composite as what it is: "Closed revenue + 50 × leads"."""
    return formatting.objective_label(metric, weights)


def amount(
    value: float | None, metric: str | None, *, weights: dict | None = None, signed: bool = False, per: str = ""
) -> str:
    """Like "$1,234", "+$1,234/week", "−12.5 leads/week"; "—" for an unknown value."""
    if value is None:
        return "—"
    text = unit_of(metric, weights).amount(value, signed=signed)
    return f"{text}/{per}" if per else text
