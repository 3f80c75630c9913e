"""Objective and guardrail pages (read-only for now; editing comes with guardrail administration)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from objectives import selectors
from objectives.models import VANITY_METRICS, Metric


def guardrails(request: HttpRequest) -> HttpResponse:
    return render(request, "objectives/guardrails.html", {"guardrails": selectors.guardrails()})


def objectives(request: HttpRequest) -> HttpResponse:
    context = {
        "objective": selectors.active_objective(),
        "metrics": [(m, m in VANITY_METRICS) for m in Metric],
    }
    return render(request, "objectives/objectives.html", context)
