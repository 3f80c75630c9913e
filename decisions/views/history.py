"""History: every decided proposal with its overrides and timeline, filterable, and the same rows as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from decisions import csvsafe
from decisions.audit import timeline, wording
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


def _filter_problems(filters: HistoryFilter) -> str:
    """Each filter that could not be read, by its query name ("date_to: Pick a date from …"); empty if none."""
    if not filters.is_bound:
        return ""
    return " ".join(f"{name}: {' '.join(messages)}" for name, messages in filters.form.errors.items())


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    filters = _filtered(request)
    proposals = filters.qs
    page = Paginator(history_selectors.with_timelines(proposals), PAGE_SIZE).get_page(request.GET.get("page"))
    for proposal in page:
        _describe_row(proposal)
    query = _without_page(request)
    # A filter that cannot be read (a malformed or implausible date) is left out, and the results say so.
    problems = _filter_problems(filters)
    context = {
        "filters": filters,
        "page": page,
        "summary": history_selectors.history_summary(proposals),
        "filtered": bool(query),
        "export_query": query,
        "filter_problems": problems,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{TEMPLATE}#history-results", context)
    context["activity"] = timeline.describe_all(history_selectors.other_activity())
    return render(request, TEMPLATE, context)


def _describe_row(proposal: Proposal) -> None:
    proposal.overrides = history_selectors.overrides_of(proposal)
    proposal.change_lines = [wording.format_change(c, short=True) for c in proposal.changes]
    timeline.describe_all(proposal.timeline_events)


def _without_page(request: HttpRequest) -> str:
    """The filters in use (empty fields and the page dropped), for the CSV link and "Clear filters"."""
    return urlencode([(key, value) for key, value in request.GET.items() if value and key != "page"])


# --- CSV -----------------------------------------------------------------------------


class _Echo:
    """csv.writer writes into this and gets the line back, so each row streams as soon as it is made."""

    def write(self, value: str) -> str:
        return value


def _override_cell(proposal: Proposal) -> str:
    overrides = history_selectors.overrides_of(proposal)
    return "yes: " + "; ".join(code for code, _ in overrides) if overrides else "no"


def csv_row(proposal: Proposal) -> list:
    """One History row; every text cell goes through csvsafe, so ids, names and notes open as text."""
    record = exporting.proposal_record(proposal)
    return csvsafe.safe_row(
        [
            record["id"],
            record["kind"],
            ";".join(c["campaign_id"] for c in record["changes"]),
            record["status"],
            record["decision"] or "",
            record["decided_by"] or "",
            record["decided_at"].isoformat() if record["decided_at"] else "",
            record["reason"] or "",
            record["note"] or "",
            _override_cell(proposal),
            json.dumps(record["changes"]),
            json.dumps(record["final_changes"]) if record["final_changes"] else "",
            record["expected_impact"]["mean"],
            record["p_loss"],
        ]
    )


def csv_lines(proposals: Iterable[Proposal]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for proposal in proposals:
        yield writer.writerow(csv_row(proposal))


@require_GET
def history_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The rows the page shows under the same filters, all pages, streamed so memory stays flat."""
    filters = _filtered(request)
    if problems := _filter_problems(filters):
        # A file without the filter asked for would pass for the filtered one: refuse it.
        message = f"The History export was not made. {problems}\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    proposals = filters.qs.iterator(chunk_size=1000)
    response = StreamingHttpResponse(csv_lines(proposals), content_type="text/csv; charset=utf-8")
    filename = f"waypoint-history-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
