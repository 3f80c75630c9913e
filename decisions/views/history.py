"""History: every decided proposal with its overrides and timeline, filterable, and the same rows as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from decisions.models import Proposal
from decisions.review import exporting
from decisions.review import history as history_selectors
from decisions.review.history_filters import HistoryFilter

TEMPLATE = "decisions/history.html"
PAGE_SIZE = 25
CSV_COLUMNS = [
    "proposal_id",
    "kind",
    "campaign_ids",
    "status",
    "decision",
    "decided_by",
    "decided_at",
    "reason",
    "note",
    "override",
    "machine_changes",
    "final_changes",
    "expected_mean",
    "p_loss",
]


def _filtered(request: HttpRequest) -> HistoryFilter:
    return HistoryFilter(request.GET or None, queryset=history_selectors.decided_proposals(), request=request)


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    filters = _filtered(request)
    proposals = filters.qs
    page = Paginator(history_selectors.with_timelines(proposals), PAGE_SIZE).get_page(request.GET.get("page"))
    for proposal in page:
        _describe_row(proposal)
    query = _without_page(request)
    context = {
        "filters": filters,
        "page": page,
        "summary": history_selectors.history_summary(proposals),
        "filtered": bool(query),
        "export_query": query,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{TEMPLATE}#history-results", context)
    context["activity"] = history_selectors.describe_all(history_selectors.other_activity())
    return render(request, TEMPLATE, context)


def _describe_row(proposal: Proposal) -> None:
    proposal.overrides = history_selectors.overrides_of(proposal)
    proposal.change_lines = [history_selectors.format_change(c, short=True) for c in proposal.changes]
    history_selectors.describe_all(proposal.timeline_events)


def _without_page(request: HttpRequest) -> str:
    """The filters in use (empty fields and the page dropped), for the CSV link and "Clear filters"."""
    return urlencode([(key, value) for key, value in request.GET.items() if value and key != "page"])


# --- CSV -----------------------------------------------------------------------------


class _Echo:
    """csv.writer writes into this and gets the line back, so each row streams as soon as it is made."""

    def write(self, value: str) -> str:
        return value


def _safe_text(value: str) -> str:
    # Spreadsheets run a cell that starts with = + - @ as a formula; a reviewer's note must stay text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _override_cell(proposal: Proposal) -> str:
    overrides = history_selectors.overrides_of(proposal)
    return "yes: " + "; ".join(code for code, _ in overrides) if overrides else "no"


def csv_row(proposal: Proposal) -> list:
    record = exporting.proposal_record(proposal)
    return [
        record["id"],
        record["kind"],
        ";".join(c["campaign_id"] for c in record["changes"]),
        record["status"],
        record["decision"] or "",
        _safe_text(record["decided_by"] or ""),
        record["decided_at"].isoformat() if record["decided_at"] else "",
        record["reason"] or "",
        _safe_text(record["note"] or ""),
        _override_cell(proposal),
        json.dumps(record["changes"]),
        json.dumps(record["final_changes"]) if record["final_changes"] else "",
        record["expected_impact"]["mean"],
        record["p_loss"],
    ]


def csv_lines(proposals: Iterable[Proposal]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for proposal in proposals:
        yield writer.writerow(csv_row(proposal))


@require_GET
def history_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The rows the page shows under the same filters, all pages, streamed so memory stays flat."""
    proposals = _filtered(request).qs.iterator(chunk_size=1000)
    response = StreamingHttpResponse(csv_lines(proposals), content_type="text/csv; charset=utf-8")
    filename = f"waypoint-history-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
