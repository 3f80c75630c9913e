"""Proposals as plain records for `export_proposals` (JSON and CSV) and History's CSV; the README documents
the format. An edited proposal carries the reviewer's values (`final_changes`) beside the machine's
(`changes`) and its weekly impact re-estimated for them from the curves it stored (`reestimated_impact`,
decisions/engine/estimates.py); `expected_impact` stays the machine's.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from decisions import csvsafe
from decisions.engine import estimates
from decisions.models import Proposal, Review
from objectives.guardrails import fields

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
    # Appended, so sheets built on the columns above keep working: an edit's impact re-estimated for the
    # reviewer's values (empty for the other proposals).
    "reestimated_mean",
    "reestimated_low",
    "reestimated_high",
    "reestimated_p_loss",
]
REESTIMATED_KEYS = ("mean", "low", "high", "p_loss")


def proposals_for_export(status: str | None = None):
    queryset = Proposal.objects.select_related("review").order_by("id")
    return queryset.filter(status=status) if status else queryset


def changes_record(changes: list[dict]) -> list[dict]:
    """Changes as the exports write them: `campaign_id`, `field`, `from`, `to`; a workflow's change names it by
    `workflow_id` and `platform` instead, an audience's by `experiment` and `segment` (decisions/targets.py)."""
    return [{**_named(c), "field": c["field"], "from": c["from"], "to": c["to"]} for c in changes]


def _named(change: dict) -> dict:
    if fields.target_of(change) == fields.WORKFLOW:
        return {"workflow_id": change["workflow_id"], "platform": change.get("platform", "")}
    if fields.target_of(change) == fields.AUDIENCE_TARGET:
        # The test's name and the audience's definition; "from" and "to" are the test's arm values.
        return {"experiment": change["experiment"], "segment": change.get("segment") or {}}
    return {"campaign_id": change["campaign"]}


def reestimated_impact(proposal: Proposal) -> dict | None:
    """An edit's weekly impact, 80% interval and P(loss) re-estimated for the reviewer's values; else None."""
    review = getattr(proposal, "review", None)
    if review is None or review.decision != Review.Decision.EDITED or not review.final_changes:
        return None
    machine = estimates.Estimate(
        proposal.expected_mean, proposal.expected_low, proposal.expected_high, proposal.p_loss, reestimated=False
    )
    estimate = estimates.reestimate(
        review.final_changes, evidence=proposal.evidence, machine_changes=proposal.changes, machine=machine
    )
    return {
        "metric": proposal.expected_metric,
        "per": proposal.expected_per,
        "mean": estimate.mean,
        "low": estimate.low,
        "high": estimate.high,
        "p_loss": estimate.p_loss,
    }


def reestimated_cells(record: dict) -> list:
    """The CSVs' reestimated_mean, _low, _high and _p_loss cells: empty unless the proposal was edited."""
    impact = record["reestimated_impact"] or {}
    return ["" if impact.get(key) is None else impact[key] for key in REESTIMATED_KEYS]


def proposal_record(proposal: Proposal) -> dict:
    review = getattr(proposal, "review", None)
    return {
        "id": proposal.pk,
        "kind": proposal.kind,
        "status": proposal.status,
        "changes": changes_record(proposal.changes),
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
        "final_changes": changes_record(review.final_changes) if review and review.final_changes else None,
        "reason": review.reason_code or None if review else None,
        "note": review.note or None if review else None,
        "model_version": proposal.model_version,
        "run_id": proposal.run_id,
        "reestimated_impact": reestimated_impact(proposal),
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
        ";".join(c["campaign_id"] for c in record["changes"] if "campaign_id" in c),
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
        *reestimated_cells(record),
    ]


def write_csv(proposals: Iterable[Proposal], out) -> int:
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(csv_rows(proposals)):  # noqa: B007 - the header is row 0
        writer.writerow(row)
    return count
