"""Read-only pages: the data overview."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions.review import selectors


def data(request: HttpRequest) -> HttpResponse:
    context = {
        "campaigns": selectors.campaigns_with_latest_figures(),
        "imports": selectors.recent_imports(),
    }
    return render(request, "decisions/data.html", context)
