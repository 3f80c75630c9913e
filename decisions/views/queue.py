"""The review queue page: pending proposals, best first, filtered and paged.

One proposal's page is in proposal.py, the decisions taken from either page in review.py,
and the words and numbers of a row in presenters.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from decisions.models import BulkApproval, Proposal
from decisions.review import selectors
from decisions.review import transitions as reviewing
from decisions.review.filters import QueueFilter
from decisions.views.objectives import vanity_notice
from decisions.views.presenters import EXPIRING_SOON, Guard, decorate, guard_of, mark_out_of_date, objective_words
from objectives import formatting

PAGE = "decisions/queue.html"
RESULTS = f"{PAGE}#queue-results"
WAITING = f"{PAGE}#waiting-value-text"
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
        "passing_ids": [p.pk for p in page.rows if _bulk_approvable(p)],
        "query": _query_without_page(request),
        "next_url": request.get_full_path(),
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, RESULTS, context)
    extra = {"vanity_notice": vanity_notice(), "bulk_result": bulk_result(request.GET.get("bulk"))}
    return render(request, PAGE, {**context, **extra})


@require_GET
def queue_waiting(request: HttpRequest) -> HttpResponse:
    """The expected value waiting in the whole queue. The queue page asks for it once drawn and again after each
    decision (at most once a second), so neither the page nor a decision waits for a sum over every pending row."""
    return render(request, WAITING, {"waiting": waiting_value(unit=_queue_unit())})


def _queue_unit() -> formatting.Unit:
    """What the queue's proposals are counted in: its first proposal's objective (all share the one in force)."""
    top = selectors.queue_proposals().values("run_id", "expected_metric").first()
    if top is None:
        return formatting.MONEY
    metric, weights = selectors.run_objectives([top["run_id"]]).get(top["run_id"], (top["expected_metric"], {}))
    return objective_words(metric or top["expected_metric"], weights).unit


# Proposals a bulk approval approved that an undo can still reach (applied) or will once applied (approved).
UNDOABLE = (Proposal.Status.APPROVED, Proposal.Status.APPLIED)


def bulk_result(batch_id: str | None) -> dict | None:
    """What one bulk approval did (?bulk=<id>, where "Approve all that pass" lands): its proposals as they are
    now, and whether "Undo these N approvals" can still be offered."""
    if not (batch_id or "").isdigit():
        return None
    batch = BulkApproval.objects.filter(pk=int(batch_id)).first()
    if batch is None:
        return None
    proposals = decorate(
        list(Proposal.objects.filter(pk__in=batch.proposal_ids).select_related("campaign").order_by("-priority", "id"))
    )
    return {
        "batch": batch,
        "proposals": proposals,
        "undoable": batch.undone_at is None and any(p.status in UNDOABLE for p in proposals),
    }


def _bulk_approvable(proposal: Proposal, guard: Guard | None = None) -> bool:
    """What "Approve all that pass" offers: every guardrail passes, still current, within the P(loss) cap."""
    guard = guard or proposal.guard
    return guard.status == "pass" and not proposal.out_of_date and not reviewing.above_p_loss_cap(proposal)


def waiting_value(*, now: dt.datetime | None = None, unit: formatting.Unit = formatting.MONEY) -> dict:
    """The expected weekly value of every proposal that can still be decided, and how much expires soon: one query.
    Proposals valued otherwise (an audience action: per send, maybe in another metric) are counted, not summed:
    adding a send's value to weeks' would say nothing true."""
    now = now or timezone.now()
    weekly = Q(expected_per="week")
    soon = Q(expires_at__lte=now + EXPIRING_SOON)
    totals = selectors.queue_proposals(now=now).aggregate(
        total=Sum("expected_mean", filter=weekly),
        expiring=Sum("expected_mean", filter=weekly & soon),
        count=Count("pk"),
        weekly=Count("pk", filter=weekly),
    )
    total, expiring = totals["total"] or 0.0, totals["expiring"] or 0.0
    return {
        "count": totals["count"],
        "not_weekly": totals["count"] - totals["weekly"],
        "total": total,
        "total_text": unit.amount(total),
        "expiring": expiring,
        "expiring_text": unit.amount(expiring),
        "hours": int(EXPIRING_SOON.total_seconds() // 3600),
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("bulk", None)  # a bulk approval's result is shown once, where the approval landed
    return query.urlencode()


# --- After a decision taken on this page: decisions/views/responses.py redraws these out of band ---------------


@dataclass(frozen=True)
class QueueCount:
    total: int
    total_capped: bool


def summary_after_decision(request: HttpRequest) -> dict | None:
    """The queue's counts and bulk button as they stand now, for the queue page the decision came from; else None.

    The count follows that page's filters (read from the address htmx reports). The bulk button keeps only the
    proposals it showed (the decision form sends them back) that still qualify: never one the reviewer has not seen.
    """
    current = request.htmx.current_url_abs_path if request.htmx else None
    address = urlsplit(current or "")
    if address.path != reverse("decisions:queue"):
        return None
    filterset = QueueFilter(QueryDict(address.query) or None, queryset=selectors.queue_proposals())
    total = selectors.capped_count(filterset.qs)
    shown = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    return {
        "page": QueueCount(total=total, total_capped=total > selectors.QUEUE_COUNT_CAP),
        "filter": filterset,
        "passing_ids": still_bulk_approvable(shown),
        "next_url": current,
    }


def still_bulk_approvable(ids: list[int]) -> list[int]:
    """Which of these proposals "Approve all that pass" may still take (`_bulk_approvable`), read without
    presenting them: their stored verdicts, P(loss) and changes, and one query for their campaigns' values."""
    if not ids:
        return []
    fields = ("pk", "status", "changes", "guardrail_verdicts", "p_loss")
    proposals = list(selectors.queue_proposals().filter(pk__in=ids).select_related(None).only(*fields))
    mark_out_of_date(proposals)
    return [p.pk for p in proposals if _bulk_approvable(p, guard_of(p.guardrail_verdicts))]
