"""Was the test really randomised? Attributes should differ between arms no more than chance allows.

Per attribute, one test across every arm: numbers by a one-way ANOVA (are the arms' means equal?), categories by a
chi-square test of the arm × category table. With many attributes, some p-values are small by chance, so they
are judged together (Holm's step-down: the family of tests errs at most `alpha`). Beside the test, the largest
standardised mean difference of any arm against the control (for categories: of any one category's share) says
how big an imbalance is; an attribute is flagged when its test fails. A failed check is the sign of a broken
randomisation (an arm sent to a list sorted by something, a filter applied after assignment), and the uplift of
such a test cannot be trusted.

Pure numpy/scipy; missing values (NaN, "") are left out of each test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

ALPHA = 0.01
NOTABLE_DIFFERENCE = 0.1  # a standardised difference above this is worth a look even when chance could explain it
MAX_CATEGORIES = 50


@dataclass
class AttributeBalance:
    name: str
    numeric: bool
    p_value: float
    largest_difference: float  # standardised mean difference, the largest of any arm against the control
    arm: str  # the arm with that difference
    flagged: bool = False


@dataclass
class Balance:
    attributes: list[AttributeBalance]
    alpha: float

    @property
    def passed(self) -> bool:
        return not any(a.flagged for a in self.attributes)

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _standardised_difference(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or len(b) < 2:
        return 0.0
    spread = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return float(abs(a.mean() - b.mean()) / spread) if spread > 0 else 0.0


def _numeric(values: np.ndarray, arms: np.ndarray, names: list[str], control: str) -> tuple[float, float, str]:
    values = np.asarray(values, dtype=float)
    known = np.isfinite(values)
    groups = [values[known & (arms == name)] for name in names]
    if sum(len(g) >= 2 for g in groups) < 2 or np.ptp(values[known]) == 0:
        return 1.0, 0.0, ""
    p_value = float(stats.f_oneway(*[g for g in groups if len(g) >= 2]).pvalue)
    base = values[known & (arms == control)]
    differences = {name: _standardised_difference(g, base) for name, g in zip(names, groups, strict=True)}
    arm = max(differences, key=differences.get)
    return (p_value if np.isfinite(p_value) else 1.0), differences[arm], arm


def _categorical(values: np.ndarray, arms: np.ndarray, names: list[str], control: str) -> tuple[float, float, str]:
    values = np.asarray(values, dtype=str)
    known = values != ""
    categories = np.unique(values[known])
    if len(categories) < 2 or len(categories) > MAX_CATEGORIES:
        return 1.0, 0.0, ""
    table = np.array([[np.sum(known & (arms == arm) & (values == c)) for c in categories] for arm in names])
    table = table[table.sum(axis=1) > 0]
    if len(table) < 2:
        return 1.0, 0.0, ""
    p_value = float(stats.chi2_contingency(table, correction=False).pvalue)
    base = values[known & (arms == control)]
    best, where = 0.0, ""
    for name in names:
        mine = values[known & (arms == name)]
        for category in categories:
            difference = _standardised_difference((mine == category).astype(float), (base == category).astype(float))
            if difference > best:
                best, where = difference, name
    return p_value, best, where


def holm_flags(p_values: list[float], alpha: float) -> list[bool]:
    """Holm's step-down: reject the smallest p while p_(k) ≤ alpha / (m − k)."""
    order = np.argsort(p_values)
    flags = [False] * len(p_values)
    for rank, index in enumerate(order):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        flags[index] = True
    return flags


def check_balance(
    attributes: list[tuple[str, np.ndarray, bool]], arms: np.ndarray, control: str, alpha: float = ALPHA
) -> Balance:
    """`attributes`: (name, values, numeric) per attribute; `arms`: each customer's arm."""
    arms = np.asarray(arms, dtype=str)
    names = sorted(set(arms.tolist()))
    found = []
    for name, values, numeric in attributes:
        test = _numeric if numeric else _categorical
        p_value, difference, arm = test(values, arms, names, control)
        found.append(AttributeBalance(name, numeric, p_value, difference, arm))
    for attribute, flagged in zip(found, holm_flags([a.p_value for a in found], alpha), strict=True):
        attribute.flagged = flagged
    return Balance(attributes=found, alpha=alpha)
