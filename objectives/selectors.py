"""Reads of objectives and guardrails; `decisions` reads them only through here."""

from django.db.models import QuerySet

from objectives.guardrails import Rule
from objectives.models import Guardrail, Objective


def active_objective() -> Objective | None:
    return Objective.objects.filter(is_active=True).first()


def guardrails(*, active_only: bool = False) -> QuerySet[Guardrail]:
    queryset = Guardrail.objects.order_by("name")
    return queryset.filter(is_active=True) if active_only else queryset


def active_rules() -> list[Rule]:
    """The active guardrails as the pure checker's rules."""
    return [
        Rule(name=g.name, kind=g.kind, scope=g.scope, severity=g.severity, params=g.params)
        for g in guardrails(active_only=True)
    ]
