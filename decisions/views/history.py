"""History: every proposal out of the queue with its overrides, outcome and timeline, filterable, and as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from decisions import csvsafe, units
from decisions.audit import timeline, wording
from decisions.models import Proposal
from decisions.review import exporting
from decisions.review import history as history_selectors
from decisions.review.history_filters import HistoryFilter, start_of
from decisions.views.presenters import decorate, final_changes_of

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
    # Appended, so spreadsheets built on the columns above keep working: the measured outcome, once known.
    "outcome",
    "realised_per_week",
    "outcome_metric",
    # Appended likewise: an edit's weekly impact re-estimated for the reviewer's values (expected_mean and
    # p_loss above stay the machine's).
    "reestimated_mean",
    "reestimated_low",
    "reestimated_high",
    "reestimated_p_loss",
]
# Filters about the decision itself: with any of them, the queue's pending proposals are beside the point.
DECISION_FILTERS = ("reviewer", "decision", "reason", "override")


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
    decorate(list(page))  # names, units, and an edit's values beside the machine's with the re-estimate
    for proposal in page:
        _describe_row(proposal)
    query = _without_page(request)
    # A filter that cannot be read (a malformed or implausible date) is left out, and the results say so.
    problems = _filter_problems(filters)
    context = {
        "filters": filters,
        "page": page,
        "summary": history_selectors.history_summary(proposals, pending=_pending(filters)),
        "filtered": bool(query),
        "export_query": query,
        "filter_problems": problems,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{TEMPLATE}#history-results", context)
    context["activity"] = timeline.describe_all(history_selectors.other_activity())
    return render(request, TEMPLATE, context)


def _pending(filters: HistoryFilter) -> int | None:
    """Pending proposals matching the kind, campaign, channel and dates (created in them), or None."""
    cleaned = getattr(filters.form, "cleaned_data", {})
    if any(cleaned.get(name) for name in DECISION_FILTERS):
        return None
    pending = Proposal.objects.filter(status=Proposal.Status.PENDING)
    if cleaned.get("kind"):
        pending = pending.filter(kind=cleaned["kind"])
    if cleaned.get("campaign"):
        pending = filters.filter_campaign(pending, "campaign", cleaned["campaign"])
    if cleaned.get("channel"):
        pending = filters.filter_channel(pending, "channel", cleaned["channel"])
    if cleaned.get("date_from"):
        pending = pending.filter(created_at__gte=start_of(cleaned["date_from"]))
    if cleaned.get("date_to"):
        pending = pending.filter(created_at__lt=start_of(cleaned["date_to"] + dt.timedelta(days=1)))
    return pending.count()


def _describe_row(proposal: Proposal) -> None:
    proposal.overrides = history_selectors.overrides_of(proposal)
    proposal.exit = history_selectors.exit_of(proposal)
    proposal.exit_label = history_selectors.EXIT_LABELS.get(proposal.exit, proposal.get_status_display())
    names = {line["campaign"]: line["name"] for line in proposal.lines}
    chosen = {(c.get("campaign"), c.get("field")): c for c in final_changes_of(proposal) or []}
    proposal.change_items = [
        (c.get("campaign", ""), wording.format_change(c, short=True, names=names, chosen=chosen.get(_key(c))))
        for c in proposal.changes
    ]
    # The machine's expected impact, or (for an edit) the re-estimate for the reviewer's values, in its unit.
    proposal.expected_text = f"{proposal.impact['mean']}/{proposal.expected_per} ({proposal.objective.label.lower()})"
    proposal.outcome_row = timeline.outcome_of(proposal)
    if proposal.outcome_row is not None:
        proposal.realised_text = units.amount(
            proposal.outcome_row.realised, proposal.outcome_row.metric, signed=True, per="week"
        )
    objectives = timeline.objectives_of([proposal])
    described = timeline.describe_all(proposal.timeline_events, names=names, objectives=objectives)
    proposal.timeline_events = timeline.with_outcome(described, proposal)


def _key(change: dict) -> tuple:
    return change.get("campaign"), change.get("field")


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
            ";".join(c["campaign_id"] for c in record["changes"] if "campaign_id" in c),
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
            *_outcome_cells(proposal),
            *exporting.reestimated_cells(record),
        ]
    )


def _outcome_cells(proposal: Proposal) -> list:
    """outcome (hit, above, below; empty until measured), realised_per_week and the metric it is in."""
    outcome = timeline.outcome_of(proposal)
    if outcome is None:
        return ["", "", ""]
    return [outcome.verdict, "" if outcome.realised is None else outcome.realised, outcome.metric]


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
