"""The parameters a guardrail kind takes: each knows its key, its form label and what values it accepts.

Messages start with the key ("pct: must be …"): the policy file places them
under the guardrail, the form puts them on the field of that key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from objectives.guardrails.base import number_text


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Param:
    key: str
    label: str  # the form field's label
    optional: bool = False  # may be left out of the params altogether
    help: str = ""  # the form field's help text: what the value means, with an example

    def problem(self, value) -> str:
        """What is wrong with the value, prefixed with the key; "" when it is fine."""
        raise NotImplementedError


@dataclass(frozen=True)
class Number(Param):
    low: float = 0
    high: float | None = None

    def problem(self, value) -> str:
        if self.high is None:
            if not is_number(value) or value < self.low:
                return f"{self.key}: must be a number of at least {number_text(self.low)}"
        elif not is_number(value) or not self.low <= value <= self.high:
            return f"{self.key}: must be a number between {number_text(self.low)} and {number_text(self.high)}"
        return ""


@dataclass(frozen=True)
class WholeNumber(Param):
    low: int = 0

    def problem(self, value) -> str:
        if not is_number(value) or not float(value).is_integer() or value < self.low:
            return f"{self.key}: must be a whole number of at least {self.low}"
        return ""


@dataclass(frozen=True)
class Text(Param):
    max_length: int = 64

    def problem(self, value) -> str:
        if not isinstance(value, str) or not value.strip():
            return f"{self.key}: must be a non-empty text"
        return ""


@dataclass(frozen=True)
class Phrases(Param):
    """A list of texts (audience segments, phrases); typed one per line in the form."""

    may_be_empty: bool = False

    def problem(self, value) -> str:
        if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
            return f"{self.key}: must be a list of non-empty texts"
        if not value and not self.may_be_empty:
            return f"{self.key}: must name at least one"
        return ""
