"""Read-only pages: the queue, reports and the data overview."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions import selectors

PAGE_SIZE = 50


def queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.pending_proposals(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "decisions/queue.html", {"page": page})


def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "decisions/reports.html", {})


def data(request: HttpRequest) -> HttpResponse:
    context = {
        "campaigns": selectors.campaigns_with_latest_figures(),
        "imports": selectors.recent_imports(),
    }
    return render(request, "decisions/data.html", context)
