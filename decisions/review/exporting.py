"""Proposals as plain records for `export_proposals` (JSON and CSV); the README documents the format."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from decisions import csvsafe
from decisions.models import Proposal

CSV_COLUMNS = [
    "id",
    "kind",
    "status",
    "campaign_ids",
    "changes",
    "expected_metric",
    "expected_per",
    "expected_mean",
    "expected_low",
    "expected_high",
    "p_loss",
    "rationale",
    "guardrails_failed",
    "created_at",
    "decision",
    "decided_by",
    "final_changes",
    "reason",
    "note",
]


def proposals_for_export(status: str | None = None):
    queryset = Proposal.objects.select_related("review").order_by("id")
    return queryset.filter(status=status) if status else queryset


def _changes(changes: list[dict]) -> list[dict]:
    return [{"campaign_id": c["campaign"], "field": c["field"], "from": c["from"], "to": c["to"]} for c in changes]


def proposal_record(proposal: Proposal) -> dict:
    review = getattr(proposal, "review", None)
    return {
        "id": proposal.pk,
        "kind": proposal.kind,
        "status": proposal.status,
        "changes": _changes(proposal.changes),
        "expected_impact": {
            "metric": proposal.expected_metric,
            "per": proposal.expected_per,
            "mean": proposal.expected_mean,
            "low": proposal.expected_low,
            "high": proposal.expected_high,
        },
        "p_loss": proposal.p_loss,
        "rationale": proposal.rationale,
        "guardrails": [
            {k: v.get(k) for k in ("name", "kind", "severity", "passed", "message")}
            for v in proposal.guardrail_verdicts
        ],
        "created_at": proposal.created_at,
        "expires_at": proposal.expires_at,
        "decision": review.decision if review else None,
        "decided_by": review.reviewer_label if review else None,
        "decided_at": proposal.decided_at,
        "final_changes": _changes(review.final_changes) if review and review.final_changes else None,
        "reason": review.reason_code or None if review else None,
        "note": review.note or None if review else None,
        "model_version": proposal.model_version,
        "run_id": proposal.run_id,
    }


def write_json(proposals: Iterable[Proposal], out) -> int:
    """A JSON list, written one record at a time so memory stays flat."""
    count = 0
    out.write("[")
    for proposal in proposals:
        out.write(",\n " if count else "\n ")
        out.write(json.dumps(proposal_record(proposal), cls=DjangoJSONEncoder))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def csv_rows(proposals: Iterable[Proposal]) -> Iterator[list]:
    """The header, then one row per proposal; text cells go through csvsafe so a spreadsheet never runs them."""
    yield CSV_COLUMNS
    for proposal in proposals:
        yield csvsafe.safe_row(_csv_row(proposal))


def _csv_row(proposal: Proposal) -> list:
    record = proposal_record(proposal)
    impact = record["expected_impact"]
    return [
        record["id"],
        record["kind"],
        record["status"],
        ";".join(c["campaign_id"] for c in record["changes"]),
        json.dumps(record["changes"]),
        impact["metric"],
        impact["per"],
        impact["mean"],
        impact["low"],
        impact["high"],
        record["p_loss"],
        record["rationale"],
        ";".join(g["name"] for g in record["guardrails"] if not g["passed"]),
        record["created_at"].isoformat(),
        record["decision"] or "",
        record["decided_by"] or "",
        json.dumps(record["final_changes"]) if record["final_changes"] else "",
        record["reason"] or "",
        record["note"] or "",
    ]


def write_csv(proposals: Iterable[Proposal], out) -> int:
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(csv_rows(proposals)):  # noqa: B007 - the header is row 0
        writer.writerow(row)
    return count
