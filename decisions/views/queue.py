"""The review queue page: pending proposals, best first, filtered and paged.

One proposal's page is in proposal.py, the decisions taken from either page in review.py,
and the words and numbers of a row in presenters.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from decisions.models import Proposal
from decisions.review import selectors
from decisions.review.filters import QueueFilter
from decisions.views.presenters import decorate

PAGE = "decisions/queue.html"
RESULTS = f"{PAGE}#queue-results"
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
# Far past any real queue, and small enough that the row offset fits the database's 64-bit integers.
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue without an exact COUNT(*): one row past the page says whether another follows."""

    rows: list[Proposal]
    number: int
    size: int
    has_next: bool
    total: int
    total_capped: bool

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _positive_int(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def queue_page(queryset, *, number: int, size: int) -> QueuePage:
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    # When the whole queue fits on the first page there is nothing left to count.
    total = len(rows) if number == 1 and not has_next else selectors.capped_count(queryset)
    return QueuePage(
        rows=rows,
        number=number,
        size=size,
        has_next=has_next,
        total=total,
        total_capped=total > selectors.QUEUE_COUNT_CAP,
    )


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    size = _positive_int(request.GET.get("per_page"), DEFAULT_PAGE_SIZE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    filterset = QueueFilter(request.GET or None, queryset=selectors.queue_proposals())
    number = min(_positive_int(request.GET.get("page"), 1), MAX_PAGE)
    page = queue_page(filterset.qs, number=number, size=size)
    decorate(page.rows)
    context = {
        "page": page,
        "filter": filterset,
        "page_sizes": PAGE_SIZES,
        "passing_ids": [p.pk for p in page.rows if p.guard.status == "pass"],
        "query": _query_without_page(request),
        "next_url": request.get_full_path(),
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, RESULTS, context)
    return render(request, PAGE, context)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
