"""Reads of objectives and guardrails; `decisions` reads them only through here."""

from django.db.models import QuerySet

from objectives.models import Guardrail, Objective


def active_objective() -> Objective | None:
    return Objective.objects.filter(is_active=True).first()


def guardrails(*, active_only: bool = False) -> QuerySet[Guardrail]:
    queryset = Guardrail.objects.order_by("name")
    return queryset.filter(is_active=True) if active_only else queryset
