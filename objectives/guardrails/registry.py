"""Every guardrail kind, in the order forms, docs and error messages list them.

A new kind is a GuardrailKind subclass added here; model choices, the form,
validation and the checks all read this list, and a test holds the docs, the
demo and the example policy to it.
"""

from __future__ import annotations

from objectives.guardrails.base import shown
from objectives.guardrails.budget import BudgetBounds, MaxBudgetChange, TotalBudgetCap
from objectives.guardrails.contacts import ContactCap
from objectives.guardrails.kind import GuardrailKind
from objectives.guardrails.pacing import MonthlyBudget
from objectives.guardrails.protection import ForbiddenAudiences, ProtectedCampaigns, ProtectedWorkflows
from objectives.guardrails.timing import Cooldown, MinEvidence
from objectives.guardrails.voice import BrandVoice

REGISTRY: tuple[GuardrailKind, ...] = (
    MaxBudgetChange(),
    BudgetBounds(),
    TotalBudgetCap(),
    MonthlyBudget(),
    ProtectedCampaigns(),
    ForbiddenAudiences(),
    BrandVoice(),
    Cooldown(),
    MinEvidence(),
    ProtectedWorkflows(),
    ContactCap(),
)
_BY_NAME = {kind.name: kind for kind in REGISTRY}
KINDS = tuple(_BY_NAME)


def kind_named(name) -> GuardrailKind | None:
    """The kind of that name; None for anything else, including a value that is not a text."""
    return _BY_NAME.get(name) if isinstance(name, str) else None


def kind_choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in REGISTRY]


def unknown_kind(kind) -> str:
    return f"unknown kind {shown(kind)}; expected one of {', '.join(KINDS)}"


def validate_params(kind: str, params: dict) -> list[str]:
    """Problems with a rule's params, each starting with the key it concerns ("pct: must be …")."""
    found = kind_named(kind)
    if found is None:
        return [unknown_kind(kind)]
    if not isinstance(params, dict):
        return ["must be an object"]
    return found.validate(params)
