"""One row per proposal decided in the week: the report page's lists and its CSV download.

A decision is one of the registry's four (approved as proposed, edited, rejected, auto-approved), so the
CSV has exactly as many rows as the report's "decisions". Each row says who decided, whether it was an
override and why — a rejection's reason and note, an edit's note, the written reason of an approval over a
block, the verdict a confirmed warning overrode (a warning asks for no reason), a rollback's reason — and
what it was worth (decisions/reports/money.py), in the objective's unit.

Two queries whatever the week's size: the decisions with their proposal, review and outcome, then the
override and rollback events of those proposals; rows stream for the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import F, Q, QuerySet
from django.urls import reverse

from decisions import csvsafe, units
from decisions.audit.actions import Action
from decisions.models import AuditEvent, Review
from decisions.reports import money
from decisions.review import attribution

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
]


def _rows_query(decisions: QuerySet) -> QuerySet:
    return decisions.annotate(
        channel=attribution.channel_of("proposal__"),
        machine=money.machine_value(),
        reviewer=money.reviewer_value(),
        left=money.left_on_table(),
        gap=money.who_gap(),
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
        kind=F("proposal__kind"),
        status=F("proposal__status"),
        changes=F("proposal__changes"),
        metric=F("proposal__expected_metric"),
        weights=F("proposal__run__objective__weights"),
        expected_mean=F("proposal__expected_mean"),
        expected_low=F("proposal__expected_low"),
        expected_high=F("proposal__expected_high"),
        reason_code=F("proposal__review__reason_code"),
        note=F("proposal__review__note"),
        realised=F("proposal__outcome__realised"),
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
        return [_shape(row, flags.get(row["proposal_id"], {})) for row in fetched]
    return _streamed(query, decisions, since)


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
        "texts": _texts(row, metric, weights),
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
    return csvsafe.safe_row([_cell(values[column]) for column in CSV_COLUMNS])


def csv_lines(week: str, rows: Iterable[dict], *, site_url: str = "") -> Iterator[str]:
    """The header, then one line per decision, as each is made (a week of thousands streams)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow(csv_row(week, row, site_url=site_url))
