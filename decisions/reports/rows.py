"""One row per proposal decided in the week: the report page's lists and its CSV download.

A decision is one of the registry's four (approved as proposed, edited, rejected, auto-approved), so the
CSV has exactly as many rows as the report's "decisions". Each row says who decided, whether it was an
override and why — a rejection's reason and note, an edit's note, the written reason of an approval over a
block, the verdict a confirmed warning overrode (a warning asks for no reason), a rollback's reason — and
what it was worth (decisions/reports/money.py), in the objective's unit.

An edit shows the reviewer's values beside the machine's ("Search – Brand: $143 → $120 (proposed $99.94)")
and its weekly impact re-estimated for them from the curves the proposal stored (decisions/engine/estimates.py,
the figures the proposal page and History show), labelled so. Until an outcome holds the model's estimate of
the reviewer's version, that re-estimate is the row's reviewer_estimate and left_on_table follows from it.
The week's totals (money.py) are summed in SQL, which cannot read curves: there an unmeasured edit counts the
engine's mean times the share of the move kept, so for edits on curves a list's rows may not add up to them.

Two queries whatever the week's size: the decisions with their proposal, review and outcome, then the
override and rollback events of those proposals (and, for the page's lists, one for the campaigns' names);
rows stream for the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Case, F, JSONField, Q, QuerySet, Value, When
from django.urls import reverse

from decisions import csvsafe, units
from decisions.audit import wording
from decisions.audit.actions import Action
from decisions.engine import estimates
from decisions.models import AuditEvent, Campaign, Review
from decisions.reports import money
from decisions.review import attribution, exporting
from objectives import formatting

EDITED = Action.PROPOSAL_EDITED
REJECTED = Action.PROPOSAL_REJECTED
ROLLED_BACK = Action.PROPOSAL_ROLLED_BACK
OVERRIDE_WARN = Action.PROPOSAL_OVERRIDE_WARN
OVERRIDE_BLOCK = Action.PROPOSAL_OVERRIDE_BLOCK
DECISION_WORDS = {
    Action.PROPOSAL_APPROVED: "approved",
    Action.PROPOSAL_EDITED: "edited",
    Action.PROPOSAL_REJECTED: "rejected",
    Action.PROPOSAL_AUTO_APPROVED: "auto_approved",
}
REASON_LABELS = dict(Review.Reason.choices)
# An approval's override event is written in its transaction, which may straddle the period's start.
MARGIN = dt.timedelta(hours=1)

CSV_COLUMNS = [
    "week",
    "proposal_id",
    "proposal_url",
    "decided_at",
    "decision",
    "decided_by",
    "kind",
    "channel",
    "campaign_ids",
    "overridden",
    "override_kinds",
    "why",
    "guardrails_overridden",
    "metric",
    "unit",
    "expected_mean",
    "expected_low",
    "expected_high",
    "machine_estimate",
    "reviewer_estimate",
    "left_on_table",
    "realised_per_week",
    "verdict",
    # Appended, so sheets built on the columns above keep working: an edit's values beside the machine's, and
    # its weekly impact re-estimated for the reviewer's values (empty for the other decisions).
    "machine_changes",
    "final_changes",
    "reestimated_mean",
    "reestimated_low",
    "reestimated_high",
    "reestimated_p_loss",
]


def _rows_query(decisions: QuerySet) -> QuerySet:
    return decisions.annotate(
        channel=attribution.channel_of("proposal__"),
        machine=money.machine_value(),
        reviewer=money.reviewer_value(),
        left=money.left_on_table(),
        gap=money.who_gap(),
        # The stored curves are read for edits only: the other decisions have no values of their own.
        curves=Case(When(action=EDITED, then=F("proposal__evidence")), default=Value(None), output_field=JSONField()),
    ).values(
        "proposal_id",
        "action",
        "actor_label",
        "created_at",
        "over_guardrail",
        "channel",
        "machine",
        "reviewer",
        "left",
        "gap",
        "curves",
        kind=F("proposal__kind"),
        status=F("proposal__status"),
        changes=F("proposal__changes"),
        metric=F("proposal__expected_metric"),
        weights=F("proposal__run__objective__weights"),
        expected_mean=F("proposal__expected_mean"),
        expected_low=F("proposal__expected_low"),
        expected_high=F("proposal__expected_high"),
        p_loss=F("proposal__p_loss"),
        final_changes=F("proposal__review__final_changes"),
        reason_code=F("proposal__review__reason_code"),
        note=F("proposal__review__note"),
        realised=F("proposal__outcome__realised"),
        human_estimate=F("proposal__outcome__human_estimate"),
        verdict=F("proposal__outcome__verdict"),
        has_outcome=F("proposal__outcome__id"),
    )


def decided_rows(decisions: QuerySet, *, since: dt.datetime, only: Q | None = None, limit: int | None = None):
    """The period's decisions as plain dicts, oldest first: every one, streamed (the CSV), or the first
    `limit` matching `only` (the page's lists). `since` is when the period began: the override and rollback
    events of its decisions come after it."""
    query = _rows_query(decisions.filter(only) if only is not None else decisions).order_by("created_at", "id")
    if limit is not None:
        fetched = list(query[:limit])
        flags = _override_events([row["proposal_id"] for row in fetched], since=since)
        shaped = [_shape(row, flags.get(row["proposal_id"], {})) for row in fetched]
        _name_changes(shaped)
        return shaped
    return _streamed(query, decisions, since)


def _name_changes(rows: list[dict]) -> None:
    """`change_texts`: each change by its campaign's name, an edit's value beside the machine's; one query."""
    ids = {c.get("campaign") for row in rows for c in row["changes"]}
    names = dict(Campaign.objects.filter(external_id__in=ids).values_list("external_id", "name"))
    for row in rows:
        chosen = {(c.get("campaign"), c.get("field")): c for c in row["final_changes"] or []}
        row["change_texts"] = [
            wording.format_change(
                change, short=True, names=names, chosen=chosen.get((change.get("campaign"), change.get("field")))
            )
            for change in row["changes"]
        ]


def _streamed(query: QuerySet, decisions: QuerySet, since: dt.datetime) -> Iterator[dict]:
    flags = _override_events(decisions.values("proposal_id"), since=since)
    for row in query.iterator(chunk_size=2000):
        yield _shape(row, flags.get(row["proposal_id"], {}))


def _override_events(proposal_ids, *, since: dt.datetime) -> dict[int, dict]:
    """Per proposal: its approvals over a guardrail (reason, verdicts) and its rollback (reason)."""
    events = AuditEvent.objects.filter(
        proposal_id__in=proposal_ids,
        action__in=(OVERRIDE_WARN, OVERRIDE_BLOCK, ROLLED_BACK),
        created_at__gte=since - MARGIN,
    ).values_list("proposal_id", "action", "reason", "machine_payload")
    found: dict[int, dict] = defaultdict(dict)
    for proposal_id, action, reason, payload in events.order_by("id").iterator(chunk_size=2000):
        found[proposal_id][action] = {"reason": reason, "verdicts": (payload or {}).get("verdicts", [])}
    return found


def _shape(row: dict, flags: dict) -> dict:
    decision = DECISION_WORDS.get(row["action"], row["action"])
    kinds_of_override = [
        code
        for code, present in (
            ("edited", row["action"] == EDITED),
            ("rejected", row["action"] == REJECTED),
            ("override_warn", OVERRIDE_WARN in flags),
            ("override_block", OVERRIDE_BLOCK in flags),
            ("rolled_back", row["status"] == "rolled_back"),
        )
        if present
    ]
    verdicts = [v for action in (OVERRIDE_BLOCK, OVERRIDE_WARN) for v in flags.get(action, {}).get("verdicts", [])]
    metric, weights = row["metric"] or "", row["weights"] or {}
    final = row["final_changes"] if row["action"] == EDITED and row["final_changes"] else None
    reestimated = _reestimate(row, final) if final else None
    if reestimated is not None and row["human_estimate"] is None:
        # Not measured yet: what the model expects from the reviewer's values, as History shows it.
        row = {**row, "reviewer": reestimated.mean}
        row["left"] = None if row["machine"] is None else row["machine"] - reestimated.mean
    return {
        "proposal_id": row["proposal_id"],
        "decided_at": row["created_at"],
        "decision": decision,
        "decided_by": row["actor_label"],
        "kind": row["kind"],
        "channel": row["channel"],
        "campaign_ids": [c.get("campaign", "") for c in row["changes"] or []],
        "overridden": bool(kinds_of_override),
        "override_kinds": kinds_of_override,
        "why": _why(row, flags),
        "guardrails_overridden": sorted({v.get("name", "?") for v in verdicts}),
        "metric": metric,
        "unit": units.unit_name(metric, weights),
        "expected_mean": row["expected_mean"],
        "expected_low": row["expected_low"],
        "expected_high": row["expected_high"],
        "machine_estimate": _round(row["machine"]),
        "reviewer_estimate": _round(row["reviewer"]),
        "left_on_table": _round(row["left"]),
        "realised_per_week": _round(row["realised"]),
        "verdict": row["verdict"] or "",
        "gap": _round(row["gap"]) if row["has_outcome"] else None,
        "changes": row["changes"] or [],
        "final_changes": final,
        "machine_changes_record": exporting.changes_record(row["changes"] or []),
        "final_changes_record": exporting.changes_record(final) if final else None,
        "reestimated": _estimate_record(reestimated),
        "texts": {**_texts(row, metric, weights), **_reestimate_texts(reestimated, metric, weights)},
    }


def _reestimate(row: dict, final: list[dict]) -> estimates.Estimate | None:
    """The weekly impact of the reviewer's values, re-estimated from the proposal's stored curves."""
    if row["expected_mean"] is None:
        return None
    machine = estimates.Estimate(
        row["expected_mean"], row["expected_low"], row["expected_high"], row["p_loss"] or 0.0, reestimated=False
    )
    return estimates.reestimate(final, evidence=row["curves"], machine_changes=row["changes"] or [], machine=machine)


def _estimate_record(estimate: estimates.Estimate | None) -> dict | None:
    if estimate is None:
        return None
    return {"mean": estimate.mean, "low": estimate.low, "high": estimate.high, "p_loss": estimate.p_loss}


def _reestimate_texts(estimate: estimates.Estimate | None, metric: str, weights: dict) -> dict:
    """ "+$210/week", "+$60 to +$360", "P(loss) 4%": an edit's re-estimate as the lists show it."""
    if estimate is None:
        return {}
    unit = units.unit_of(metric, weights)
    return {
        "reestimated": units.amount(estimate.mean, metric, weights=weights, signed=True, per="week"),
        "reestimated_interval": unit.interval(estimate.low, estimate.high),
        "reestimated_p_loss": formatting.percent(estimate.p_loss),
    }


def _why(row: dict, flags: dict) -> list[str]:
    """Every reason on record for the override, in words; a confirmed warning shows the verdict it overrode."""
    reasons = []
    if row["action"] == REJECTED:
        label = REASON_LABELS.get(row["reason_code"] or "", row["reason_code"] or "no reason code")
        reasons.append(f"Rejected: {label}" + (f" — {row['note']}" if row["note"] else ""))
    elif row["action"] == EDITED:
        reasons.append("Edited: " + (row["note"] or "no note"))
    if OVERRIDE_BLOCK in flags:
        reasons.append("Over a block: " + (flags[OVERRIDE_BLOCK]["reason"] or "no reason recorded"))
    if OVERRIDE_WARN in flags:
        overridden = "; ".join(_verdict_text(v) for v in flags[OVERRIDE_WARN]["verdicts"]) or "a warning"
        reason = flags[OVERRIDE_WARN]["reason"]
        reasons.append(f"Warning confirmed ({overridden})" + (f": {reason}" if reason else ""))
    if ROLLED_BACK in flags:
        reasons.append("Rolled back: " + (flags[ROLLED_BACK]["reason"] or "no reason recorded"))
    return reasons


def _verdict_text(verdict: dict) -> str:
    return f"{verdict.get('name', '?')}: {verdict.get('message', '')}".rstrip(": ")


def _texts(row: dict, metric: str, weights: dict) -> dict:
    def amount(key: str) -> str:
        return units.amount(row[key], metric, weights=weights, signed=True, per="week")

    return {key: amount(key) for key in ("machine", "reviewer", "left", "realised", "gap", "expected_mean")}


def _round(value):
    return None if value is None else round(float(value), 2)


# --- CSV ---------------------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return value


def csv_row(week: str, row: dict, *, site_url: str = "") -> list:
    url = site_url + reverse("decisions:proposal", args=[row["proposal_id"]])
    values = {**row, "week": week, "proposal_url": url, "why": " | ".join(row["why"])}
    values["machine_changes"] = json.dumps(row["machine_changes_record"])
    values["final_changes"] = json.dumps(row["final_changes_record"]) if row["final_changes_record"] else ""
    for key in ("mean", "low", "high", "p_loss"):
        values[f"reestimated_{key}"] = (row["reestimated"] or {}).get(key)
    return csvsafe.safe_row([_cell(values[column]) for column in CSV_COLUMNS])


def csv_lines(week: str, rows: Iterable[dict], *, site_url: str = "") -> Iterator[str]:
    """The header, then one line per decision, as each is made (a week of thousands streams)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow(csv_row(week, row, site_url=site_url))
