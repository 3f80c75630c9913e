"""Read-only pages: reports and the data overview."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions import selectors


def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "decisions/reports.html", {})


def data(request: HttpRequest) -> HttpResponse:
    context = {
        "campaigns": selectors.campaigns_with_latest_figures(),
        "imports": selectors.recent_imports(),
    }
    return render(request, "decisions/data.html", context)
