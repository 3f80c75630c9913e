"""The weekly override report: what people did with the machine's proposals in one ISO week.

`weekly_report("2026-W47")` returns one plain dict (JSON-safe) that the page, the `override_report`
command, the weekly email and the report's CSV all render. Every figure is aggregated by the database from
the audit log, joined to proposals, reviews and outcomes; Python only shapes the rows. The words come from
the audit registry (decisions/audit/actions.py) that History uses too, so the two count alike:

    created  =  decided + expired + superseded + still pending      (this week's proposals, by where they are)
    decisions = approved as proposed + edited + rejected + auto-approved      (decision events of the week)
    reviewed by people = approved as proposed + edited + rejected = the reviewer table's total
    the kind, channel and reason tables add up to the decisions (or the overrides) of the week

A decision counts under one channel, the one decisions/review/attribution.py defines. Medians and the 90th
percentile are PERCENTILE_CONT on PostgreSQL; SQLite has no percentile function, so there the per-row
values of one week (edits, decisions: hundreds, not the whole log) are read and the same linear
interpolation is done in `percentile()`. Money and who-was-right figures are in decisions/reports/money.py,
the one-row-per-decision lists and CSV in decisions/reports/rows.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, TruncWeek
from django.utils import timezone

from decisions import csvsafe, date_window, units
from decisions.audit import actions as audit_actions
from decisions.audit.actions import Action
from decisions.learning import service as learning
from decisions.models import AuditEvent
from decisions.reports import money
from decisions.reports import rows as decision_rows
from decisions.reports.pacing import pacing_section
from decisions.reports.sql import PercentileCont, array_has, edit_ratio, postgres
from decisions.review import attribution, backtest
from decisions.workflows import report as workflow_report
from objectives import selectors as objective_selectors
from objectives.models import Guardrail

# --- audit actions the report reads (registered in decisions/audit/actions.py) ----------------

CREATED = Action.PROPOSAL_CREATED
APPROVED = Action.PROPOSAL_APPROVED
EDITED = Action.PROPOSAL_EDITED
REJECTED = Action.PROPOSAL_REJECTED
EXPIRED = Action.PROPOSAL_EXPIRED
AUTO_APPROVED = Action.PROPOSAL_AUTO_APPROVED
SUPERSEDED = Action.PROPOSAL_SUPERSEDED
ROLLED_BACK = Action.PROPOSAL_ROLLED_BACK
OVERRIDE_WARN = Action.PROPOSAL_OVERRIDE_WARN
OVERRIDE_BLOCK = Action.PROPOSAL_OVERRIDE_BLOCK
SUCCEEDED = Action.APPLICATION_SUCCEEDED

# Approving over a guardrail is written beside the decision: it flags the decision, it is not one.
GUARDRAIL_OVERRIDES = audit_actions.GUARDRAIL_OVERRIDE_ACTIONS
# Each decided proposal has exactly one of these; expiry and supersession take a proposal out undecided.
DECISIONS = audit_actions.DECISION_ACTIONS
HUMAN_DECISIONS = audit_actions.PERSON_DECISION_ACTIONS
UNDECIDED = tuple(action for action in audit_actions.EXIT_ACTIONS if action not in DECISIONS)
# The decisions that are overrides in themselves; the rest count when flagged (a guardrail, a later rollback).
OVERRIDING = audit_actions.OVERRIDING_DECISION_ACTIONS
TREND_WEEKS = 4
MARGIN = dt.timedelta(hours=1)
OVERRIDE_LIST_LIMIT = 200
# A rate over fewer decisions says so: one decision more or less moves it by 20 points or more.
SMALL_SAMPLE = 5

DEFINITIONS = {
    "week": "An ISO week, Monday 00:00 to the next Monday 00:00 in the site's time zone.",
    "decisions": "Decisions recorded in the week. " + audit_actions.DEFINITIONS["decision"],
    "override": (
        audit_actions.DEFINITIONS["override"] + " A rollback counts against the decision it reverses, in that "
        "decision's week, as History counts it; a week's rate can therefore rise when a change is rolled back later."
    ),
    "override_rate": audit_actions.DEFINITIONS["override_rate"] + " By-reason rates add up to the overall rate.",
    "reviewed": (
        "Decisions by a person: approved as proposed, edited or rejected (the policy's approvals excluded). "
        "The reviewer table adds up to it."
    ),
    "flow": (
        "Each proposal created in the week is now decided, expired, superseded by a newer one, or still pending: "
        "the four add up to the proposals created. Decisions of the week may concern proposals of earlier weeks."
    ),
    "channel": attribution.CHANNEL_DEFINITION,
    "edit_ratio": (
        "For an edit: Σ|reviewer's budget − before| ÷ Σ|machine's budget − before| over the proposal's "
        "daily-budget changes. 1 = the reviewer kept the size of the move, 0.5 = halved it, 0 = cancelled it."
    ),
    "time_to_decision": "From the proposal's creation to a person's decision (approve, edit, reject).",
    "guardrail_rate": (
        "Per guardrail: decisions on proposals the guardrail flagged when they were proposed, the overrides "
        "among them, and how often a reviewer approved over it (warn confirmations and admin block overrides). "
        "A decision two guardrails flagged counts under both, so this table does not add up to the total."
    ),
    "outcomes": (
        "For proposals decided in the week, in the objective's unit per week. Followed (approved as proposed or by "
        "the policy): the machine's change ran; judged against its expected interval, error = realised − expected "
        "mean. Overridden (edited, rejected): human − machine = what the human's version did (realised, else "
        "estimated; a rejection keeps things as they were, 0) minus what the machine's version would have done "
        "(the model's estimate). Positive: the human was right. Outcomes arrive 14 days after a change ran; one "
        "outcome is noisy, the count over many is what tells."
    ),
    "left_on_table": (
        "The model's weekly value of the machine's versions of the edited and rejected proposals minus that of "
        "what the reviewers chose (a rejection: nothing, 0). Positive: the machine's versions were expected to "
        "do better; negative: people avoided a loss. An estimate, not an outcome: the realised figures beside it "
        "say how approved proposals did against what was expected."
    ),
    "small_numbers": f"Rates over fewer than {SMALL_SAMPLE} decisions are marked: one decision more or less moves "
    "them by 20 points or more.",
}


# --- ISO weeks ------------------------------------------------------------------------------------

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def iso_week(value: dt.date | dt.datetime | None = None) -> str:
    """ "2026-W47" for a date or datetime (local time), or for now."""
    if value is None:
        value = timezone.now()
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> dt.date:
    match = WEEK_RE.match(week or "")
    if not match:
        raise ValueError(f"Not an ISO week: {week!r} (expected e.g. 2026-W47).")
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"{week} does not exist.") from None


def week_bounds(week: str) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) as aware datetimes in the current time zone.

    ValueError for a week outside the dates Waypoint holds (decisions/date_window.py): the report also
    reads the weeks around it, and 0001-W01 or 9999-W52 would overflow the calendar there.
    """
    monday = week_monday(week)
    if not date_window.contains(monday):
        raise ValueError(f"{week} is outside the weeks Waypoint reports on ({date_window.describe()}).")
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min))
    return start, end


def shift_week(week: str, weeks: int) -> str:
    return iso_week(week_monday(week) + dt.timedelta(weeks=weeks))


def previous_week(now: dt.datetime | None = None) -> str:
    """The last complete week: what Monday morning's email reports on."""
    return shift_week(iso_week(now), -1)


# --- pure helpers ------------------------------------------------------------------------------------


def percentile(values: Iterable, fraction: float):
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont does; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def duration_text(seconds: float | None) -> str:
    """4 min, 3.5 h, 2.1 d: a wait as people say it."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- the week's events ---------------------------------------------------------------------------------


def _postgres() -> bool:
    return postgres()


def _events(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end).order_by()


def _decisions(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    """Decision events of the period, each flagged when its proposal was approved over a guardrail, or rolled back.

    The override event is written in the same transaction as the approval, so the period's own override
    events (with a margin for a transaction straddling midnight) are all there is to look up: one small
    uncorrelated set PostgreSQL hashes once, rather than a lookup per decision. A rollback comes after the
    approval it reverses, however long after: every rollback since the period began, hashed the same way.
    """
    guarded = (
        AuditEvent.objects.filter(
            action__in=GUARDRAIL_OVERRIDES, created_at__gte=start - MARGIN, created_at__lt=end + MARGIN
        )
        .order_by()
        .values("proposal_id")
    )
    rolled_back = AuditEvent.objects.filter(action=ROLLED_BACK, created_at__gte=start).order_by().values("proposal_id")
    return (
        _events(start, end)
        .filter(action__in=DECISIONS)
        .annotate(
            over_guardrail=ExpressionWrapper(Q(proposal_id__in=Subquery(guarded)), output_field=BooleanField()),
            rolled_back=ExpressionWrapper(Q(proposal_id__in=Subquery(rolled_back)), output_field=BooleanField()),
        )
    )


def week_decisions(week: str) -> QuerySet[AuditEvent]:
    """The decision events of one ISO week (what the report's CSV lists); ValueError on a bad week."""
    return _decisions(*week_bounds(week))


# A decision is overridden when it is an edit or a rejection, was approved over a guardrail, or was rolled
# back since: flags read from the log's own small sets, so counting needs no join to the proposals.
IS_OVERRIDE = Q(action__in=OVERRIDING) | Q(over_guardrail=True) | Q(rolled_back=True)


def _flagged_by(name: str):
    """The proposal was proposed with a failing verdict of this guardrail."""
    return array_has("proposal__guardrail_verdicts", {"name": name, "passed": False})


def _overrode(name: str):
    """An override event whose overridden verdicts name this guardrail."""
    return array_has("machine_payload__verdicts", {"name": name})


# --- sections ---------------------------------------------------------------------------------------------


def _counts(start, end) -> dict:
    return _counts_by_week(start, end, split=start)["this"]


def _counts_by_week(start, end, *, split) -> dict[str, dict]:
    """Each count of the period [start, end), split in two at `split` ("previous", "this"): one pass over the
    events for the week and the one before it, as its tiles compare them."""

    def of(action):
        return Count("id", filter=Q(action=action))

    which = Case(When(created_at__gte=split, then=Value("this")), default=Value("previous"), output_field=CharField())
    found = {
        row.pop("which"): row
        for row in _events(start, end)
        .annotate(which=which)
        .values("which")
        .annotate(
            created=of(CREATED),
            approved_as_proposed=of(APPROVED),
            edited=of(EDITED),
            rejected=of(REJECTED),
            auto_approved=of(AUTO_APPROVED),
            expired_unreviewed=of(EXPIRED),
            superseded=of(SUPERSEDED),
            # One per proposal: a change across platforms succeeds once per platform.
            applied=Count("proposal_id", distinct=True, filter=Q(action=SUCCEEDED, machine_payload__direction="apply")),
            rolled_back=of(ROLLED_BACK),
            override_warn=of(OVERRIDE_WARN),
            override_block=of(OVERRIDE_BLOCK),
        )
    }
    overrides = dict(
        _decisions(start, end)
        .filter(IS_OVERRIDE)
        .annotate(which=which)
        .values_list("which")
        .annotate(n=Count("id"))
        .values_list("which", "n")
    )
    weeks = {}
    for label in ("previous", "this"):
        counts = found.get(label) or dict.fromkeys(COUNTED, 0)
        counts["reviewed"] = counts["approved_as_proposed"] + counts["edited"] + counts["rejected"]
        counts["decisions"] = counts["reviewed"] + counts["auto_approved"]
        counts["overrides"] = overrides.get(label, 0)
        weeks[label] = counts
    return weeks


COUNTED = (
    "created",
    "approved_as_proposed",
    "edited",
    "rejected",
    "auto_approved",
    "expired_unreviewed",
    "superseded",
    "applied",
    "rolled_back",
    "override_warn",
    "override_block",
)


def _flow(start, end) -> dict:
    """Where the proposals created in the period are now: decided, expired, superseded, or still pending.

    Each proposal leaves the queue by exactly one exit event, written after its creation: the exits since
    the period began of the period's proposals say where they went, and the rest are still pending.
    """
    created = _events(start, end).filter(action=CREATED, proposal__isnull=False)
    exits = AuditEvent.objects.filter(
        action__in=audit_actions.EXIT_ACTIONS, created_at__gte=start, proposal_id__in=created.values("proposal_id")
    ).aggregate(
        decided=Count("proposal_id", distinct=True, filter=Q(action__in=DECISIONS)),
        expired=Count("proposal_id", distinct=True, filter=Q(action=EXPIRED)),
        superseded=Count("proposal_id", distinct=True, filter=Q(action=SUPERSEDED)),
    )
    total = created.count()
    return {"created": total, **exits, "pending": total - sum(exits.values())}


def _cube(decisions: QuerySet) -> list[dict]:
    """Decisions and overrides counted by the database per (kind, channel, person, reason) combination.

    One grouped query instead of one per dimension: the combinations number in the hundreds whatever the
    number of events, and adding them up per dimension below is the whole of the Python part.
    """
    return list(
        decisions.values(
            kind=F("proposal__kind"),
            channel=attribution.channel_of("proposal__"),
            person=Case(When(action__in=HUMAN_DECISIONS, then=F("actor_label")), default=Value(None)),
            why=Case(When(IS_OVERRIDE, then=_reason_label()), default=Value(None)),
        ).annotate(decisions=Count("id"), overrides=Count("id", filter=IS_OVERRIDE))
    )


def _rates(cube: list[dict], dimension: str) -> list[dict]:
    totals: dict = defaultdict(lambda: [0, 0])
    for cell in cube:
        if dimension == "person" and cell["person"] is None:
            continue  # the policy's approvals are nobody's review
        totals[cell[dimension] or attribution.NO_CHANNEL][0] += cell["decisions"]
        totals[cell[dimension] or attribution.NO_CHANNEL][1] += cell["overrides"]
    rows = [
        {"key": key, "decisions": d, "overrides": o, "rate": rate(o, d), "few": d < SMALL_SAMPLE}
        for key, (d, o) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row["decisions"], row["key"]))


def _by_reason(cube: list[dict], total: int) -> list[dict]:
    counts: dict = defaultdict(int)
    for cell in cube:
        if cell["why"] is not None:
            counts[cell["why"]] += cell["overrides"]
    rows = [{"key": key, "overrides": n, "rate": rate(n, total)} for key, n in counts.items()]
    return sorted(rows, key=lambda row: (-row["overrides"], row["key"]))


def _reason_label():
    """Each override once, by what made it one first: the decision itself, then a guardrail, then a rollback."""
    return Case(
        When(action=REJECTED, then=Concat(Value("rejected: "), Coalesce("proposal__review__reason_code", Value("")))),
        When(action=EDITED, then=Value("edited")),
        When(over_guardrail=True, then=Value("approved over a guardrail")),
        default=Value("approved, later rolled back"),
        output_field=CharField(),
    )


def _by_guardrail(decisions: QuerySet, start, end) -> list[dict]:
    names = list(Guardrail.objects.order_by("name").values_list("name", flat=True))
    if not names:
        return []
    # Only proposals with some failing verdict can count for any guardrail: filter once, then count per name.
    flagged = decisions.filter(array_has("proposal__guardrail_verdicts", {"passed": False})).aggregate(
        **{f"f{i}": Count("id", filter=Q(_flagged_by(name))) for i, name in enumerate(names)},
        **{f"o{i}": Count("id", filter=Q(_flagged_by(name)) & IS_OVERRIDE) for i, name in enumerate(names)},
    )
    overridden = (
        _events(start, end)
        .filter(action__in=GUARDRAIL_OVERRIDES)
        .aggregate(
            **{
                f"{severity}{i}": Count("id", filter=Q(_overrode(name), action=action))
                for i, name in enumerate(names)
                for severity, action in (("w", OVERRIDE_WARN), ("b", OVERRIDE_BLOCK))
            }
        )
    )
    rows = []
    for i, name in enumerate(names):
        row = {
            "key": name,
            "decisions": flagged[f"f{i}"],
            "overrides": flagged[f"o{i}"],
            "approved_over_warn": overridden[f"w{i}"],
            "approved_over_block": overridden[f"b{i}"],
        }
        if row["decisions"] or row["approved_over_warn"] or row["approved_over_block"]:
            few = row["decisions"] < SMALL_SAMPLE
            rows.append({**row, "rate": rate(row["overrides"], row["decisions"]), "few": few})
    return sorted(rows, key=lambda r: (-r["decisions"], r["key"]))


def _edit_ratios(start, end) -> list[dict]:
    edits = _events(start, end).filter(action=EDITED)
    if _postgres():
        rows = (
            edits.annotate(ratio=edit_ratio())
            .filter(ratio__isnull=False)
            .values(kind=F("proposal__kind"))
            .annotate(edits=Count("id"), median=PercentileCont(edit_ratio(), 0.5, output_field=FloatField()))
            .order_by("kind")
        )
        return [{**row, "median": _round(row["median"])} for row in rows]
    by_kind = defaultdict(list)
    for kind, ratio in (
        edits.annotate(ratio=edit_ratio()).filter(ratio__isnull=False).values_list("proposal__kind", "ratio")
    ):
        by_kind[kind].append(ratio)
    return [
        {"kind": kind, "edits": len(ratios), "median": _round(percentile(ratios, 0.5))}
        for kind, ratios in sorted(by_kind.items())
    ]


def _time_to_decision(start, end) -> dict:
    decisions = _events(start, end).filter(action__in=HUMAN_DECISIONS, proposal__isnull=False)
    waited = ExpressionWrapper(F("created_at") - F("proposal__created_at"), output_field=DurationField())
    if _postgres():
        figures = decisions.aggregate(
            decisions=Count("id"),
            median=PercentileCont(waited, 0.5, output_field=DurationField()),
            p90=PercentileCont(waited, 0.9, output_field=DurationField()),
        )
    else:
        values = list(decisions.annotate(waited=waited).values_list("waited", flat=True))
        figures = {"decisions": len(values), "median": percentile(values, 0.5), "p90": percentile(values, 0.9)}
    median, p90 = _seconds(figures["median"]), _seconds(figures["p90"])
    return {
        "decisions": figures["decisions"],
        "median_seconds": median,
        "p90_seconds": p90,
        "median_text": duration_text(median),
        "p90_text": duration_text(p90),
    }


def _guardrail_overrides(start, end) -> list[dict]:
    events = (
        _events(start, end)
        .filter(action__in=GUARDRAIL_OVERRIDES)
        .order_by("created_at", "id")
        .values(
            "created_at",
            "actor_label",
            "action",
            "reason",
            "proposal_id",
            "machine_payload",
            kind=F("proposal__kind"),
            channel=attribution.channel_of("proposal__"),
        )[:OVERRIDE_LIST_LIMIT]
    )
    return [_guardrail_override(event) for event in events]


def _guardrail_override(event: dict) -> dict:
    verdicts = (event["machine_payload"] or {}).get("verdicts", [])
    severity = "block" if event["action"] == OVERRIDE_BLOCK else "warn"
    overridden = [f"{v.get('name', '?')}: {v.get('message', '')}".rstrip(": ") for v in verdicts]
    # A warning is confirmed, not justified: no reason is asked, so the verdict it overrode is its "why".
    why_shown = event["reason"] or ("Warning confirmed over: " + "; ".join(overridden) if overridden else "")
    return {
        "at": event["created_at"].isoformat(),
        "who": event["actor_label"],
        "severity": severity,
        "guardrails": sorted({v.get("name", "?") for v in verdicts}),
        "overridden": overridden,
        "why": event["reason"],
        "why_shown": why_shown or "—",
        "proposal": event["proposal_id"],
        "kind": event["kind"],
        "channel": event["channel"] or "",
    }


def _outcomes(start, end) -> dict:
    return money.who_was_right(_events(start, end).filter(action__in=DECISIONS))


def _trend(week: str) -> list[dict]:
    """Decisions, overrides and proposals created for this week and the TREND_WEEKS before it."""
    week_start, end = week_bounds(week)
    # Wall-clock arithmetic on the aware Monday: still local midnight TREND_WEEKS Mondays back, across DST.
    start = week_start - dt.timedelta(weeks=TREND_WEEKS)
    weekly = {
        iso_week(row["monday"]): row
        for row in _decisions(start, end)
        .annotate(monday=TruncWeek("created_at"))
        .values("monday")
        .annotate(decisions=Count("id"), overrides=Count("id", filter=IS_OVERRIDE))
    }
    created = {
        iso_week(row["monday"]): row["n"]
        for row in _events(start, end)
        .filter(action=CREATED)
        .annotate(monday=TruncWeek("created_at"))
        .values("monday")
        .annotate(n=Count("id"))
    }
    rows = []
    for offset in range(-TREND_WEEKS, 1):
        label = shift_week(week, offset)
        figures = weekly.get(label, {"decisions": 0, "overrides": 0})
        rows.append(
            {
                "week": label,
                "created": created.get(label, 0),
                "decisions": figures["decisions"],
                "overrides": figures["overrides"],
                "override_rate": rate(figures["overrides"], figures["decisions"]),
            }
        )
    return rows


def _round(value, digits: int = 4):
    return None if value is None else round(float(value), digits)


def _seconds(value) -> float | None:
    if value is None:
        return None
    return round(value.total_seconds() if isinstance(value, dt.timedelta) else float(value), 1)


# --- week over week: the tiles ---------------------------------------------------------------------------

# (key in counts or flow, label) for each count tile, in the page's order.
COUNT_TILES = (
    ("decisions", "decisions"),
    ("created", "proposals created"),
    ("reviewed", "reviewed by people"),
    ("approved_as_proposed", "approved as proposed"),
    ("edited", "edited"),
    ("rejected", "rejected"),
    ("auto_approved", "auto-approved by policy"),
    ("expired_unreviewed", "expired unreviewed"),
    ("superseded", "superseded"),
    ("pending", "of this week's still pending"),
    ("applied", "applied"),
    ("rolled_back", "rolled back"),
)


def _signed(number: float, text: str) -> str:
    return f"{'+' if number > 0 else units.MINUS}{text}"


def _count_change(now: int, before: int) -> str:
    difference = now - before
    return "same as last week" if difference == 0 else _signed(difference, f"{abs(difference):,} vs last week")


def _tiles(this: dict, previous: dict) -> list[dict]:
    """Every tile with last week's value and the change, so a leader sees the direction without a lookup."""
    counts, before = this["counts"], previous["counts"]
    decisions = counts["decisions"]
    tiles = [_rate_tile(this["override_rate"], previous["override_rate"], counts, decisions)]
    for key, label in COUNT_TILES:
        source, earlier = (this["flow"], previous["flow"]) if key == "pending" else (counts, before)
        tiles.append(
            {
                "key": key,
                "label": label,
                "text": f"{source[key]:,}",
                "previous_text": f"{earlier[key]:,}",
                "change_text": _count_change(source[key], earlier[key]),
                "caveat": "",
            }
        )
    tiles.append(_time_tile(this["time_to_decision"], previous["time_to_decision"]))
    tiles.append(_left_tile(this["left_on_table"], previous["left_on_table"]))
    return tiles


def _rate_tile(now: float | None, before: float | None, counts: dict, decisions: int) -> dict:
    text = "—" if now is None else f"{now:.0%}"
    change = "no rate to compare"
    if now is not None and before is not None:
        points = round(100 * (now - before))
        change = "same as last week" if points == 0 else _signed(points, f"{abs(points)} pp vs last week")
    caveat = ""
    if 0 < decisions < SMALL_SAMPLE:
        caveat = f"only {decisions} decision{'s' if decisions != 1 else ''}: too few to read as a rate"
    return {
        "key": "override_rate",
        "label": f"override rate ({counts['overrides']} of {decisions} decisions)",
        "text": text,
        "previous_text": "—" if before is None else f"{before:.0%}",
        "change_text": change,
        "caveat": caveat,
        "headline": True,
    }


def _time_tile(now: dict, before: dict) -> dict:
    change = "no time to compare"
    if now["median_seconds"] is not None and before["median_seconds"] is not None:
        difference = now["median_seconds"] - before["median_seconds"]
        change = _signed(difference, f"{duration_text(abs(difference))} vs last week") if difference else "same"
    return {
        "key": "time_to_decision",
        "label": f"median time to decision (p90 {now['p90_text']})",
        "text": now["median_text"],
        "previous_text": before["median_text"],
        "change_text": change,
        "caveat": "",
    }


def _left_tile(now: dict | None, before: dict | None) -> dict:
    change = "nothing to compare"
    if now and before and now["metric"] == before["metric"]:
        change = units.amount(now["value"] - before["value"], now["metric"], signed=True) + " vs last week"
    return {
        "key": "left_on_table",
        "label": "left on the table per week (model estimate, edits and rejections)",
        "text": now["text"] if now else "—",
        "previous_text": before["text"] if before else "—",
        "change_text": change,
        "caveat": "",
    }


# --- the report ------------------------------------------------------------------------------------------


def weekly_report(week: str) -> dict:
    """Every figure of the override report for one ISO week, e.g. "2026-W47"; raises ValueError on a bad week."""
    start, end = week_bounds(week)
    with transaction.atomic():
        _without_jit()
        return _build(week, start, end)


def _without_jit() -> None:
    # PostgreSQL's JIT compiles each of these short aggregates for ~0.1 s, longer than running it; off for
    # this transaction only. And the report reads one week's events, then probes their proposals, reviews and
    # outcomes by key: at the default random_page_cost (4, a spinning disk's) the planner scans every proposal
    # instead, 3× slower over 363,000 of them. 1.1 is an SSD's; for this transaction only too.
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL random_page_cost = 1.1")


def _headline(start: dt.datetime, end: dt.datetime, counts: dict) -> dict:
    """The figures a tile shows, for one week: the report's own, and last week's to compare with."""
    left = money.left_on_the_table(_decisions(start, end))
    return {
        "counts": counts,
        "flow": _flow(start, end),
        "override_rate": rate(counts["overrides"], counts["decisions"]),
        "time_to_decision": _time_to_decision(start, end),
        "left_rows": left,
        "left_on_table": money.total_left(left),
    }


def _build(week: str, start: dt.datetime, end: dt.datetime) -> dict:
    decisions = _decisions(start, end)
    # Wall-clock arithmetic on the aware Monday, as the trend does: local midnight a week back, across DST.
    previous_start = start - dt.timedelta(weeks=1)
    both = _counts_by_week(previous_start, end, split=start)
    this = _headline(start, end, both["this"])
    previous = _headline(previous_start, start, both["previous"])
    counts = this["counts"]
    cube = _cube(decisions)
    left = this["left_rows"]
    return {
        "week": week,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "previous_week": shift_week(week, -1),
        "next_week": shift_week(week, 1),
        "generated_at": timezone.now().isoformat(),
        "definitions": DEFINITIONS,
        "counts": counts,
        "flow": this["flow"],
        "override_rate": this["override_rate"],
        "few_decisions": 0 < counts["decisions"] < SMALL_SAMPLE,
        "tiles": _tiles(this, previous),
        "previous": {key: previous[key] for key in ("counts", "flow", "override_rate")},
        "override_rate_by": {
            "kind": _rates(cube, "kind"),
            "channel": _rates(cube, "channel"),
            "reviewer": _rates(cube, "person"),
            "guardrail": _by_guardrail(decisions, start, end),
            "reason": _by_reason(cube, counts["decisions"]),
        },
        "edit_ratio_by_kind": _edit_ratios(start, end),
        "time_to_decision": this["time_to_decision"],
        "guardrail_overrides": _guardrail_overrides(start, end),
        "overrides": list(
            decision_rows.decided_rows(decisions, since=start, only=IS_OVERRIDE, limit=OVERRIDE_LIST_LIMIT)
        ),
        "outcomes": _outcomes(start, end),
        "who_was_right": list(
            decision_rows.decided_rows(
                decisions,
                since=start,
                only=Q(action__in=money.OVERRIDDEN, proposal__outcome__isnull=False),
                limit=OVERRIDE_LIST_LIMIT,
            )
        ),
        "left_on_table": {"by_metric": left, "total": money.total_left(left)},
        "trend": _trend(week),
        "learning": _learning(),
        "stale_guardrails": _stale_guardrails(end),
        "pacing": pacing_section(end),
        "workflows": workflow_report.week_line(start, end),
    }


def _stale_guardrails(end: dt.datetime) -> list[dict]:
    """Guardrails silent for 90 days at the week's end: candidates to retire (prune what never fires)."""
    active = backtest.with_activity(list(objective_selectors.guardrails(active_only=True)), now=end)
    return [{"name": g.name, "kind": g.kind, "since": g.created_at} for g in backtest.stale(active, now=end)]


def _learning() -> dict:
    """What the engine learnt from reviewers: the acceptance model in force and the steps it now shrinks."""
    model = learning.active_acceptance()
    if model is None:
        return {"model": None, "step_calibration": []}
    return {
        "model": {"fitted_at": model.fitted_at, "decisions": model.n_decisions, "auc": model.auc, "brier": model.brier},
        "step_calibration": learning.step_calibration(model),
    }


# --- renderers -------------------------------------------------------------------------------------------


def to_json(report: dict) -> str:
    return json.dumps(report, cls=DjangoJSONEncoder, indent=2)


def csv_rows(report: dict) -> Iterable[list]:
    """One figure per row: section, dimension, key, metric, value — easy to pivot in a spreadsheet."""
    week = report["week"]
    for name, value in report["counts"].items():
        yield [week, "counts", "", "", name, value]
    yield [week, "override_rate", "", "", "rate", _blank(report["override_rate"])]
    for dimension, table in report["override_rate_by"].items():
        for row in table:
            for metric, value in row.items():
                if metric not in ("key", "few"):
                    yield [week, "override_rate_by", dimension, row["key"], metric, _blank(value)]
    for row in report["edit_ratio_by_kind"]:
        yield [week, "edit_ratio", "kind", row["kind"], "median", _blank(row["median"])]
        yield [week, "edit_ratio", "kind", row["kind"], "edits", row["edits"]]
    for metric, value in report["time_to_decision"].items():
        yield [week, "time_to_decision", "", "", metric, _blank(value)]
    for group, figures in report["outcomes"].items():
        for metric, value in figures.items():
            if not isinstance(value, list):
                yield [week, "outcomes", group, "", metric, _blank(value)]
    for row in report["trend"]:
        for metric in ("created", "decisions", "overrides", "override_rate"):
            yield [week, "trend", "week", row["week"], metric, _blank(row[metric])]
    for event in report["guardrail_overrides"]:
        key = f"{event['at']} #{event['proposal']}"
        for metric in ("who", "severity", "guardrails", "why"):
            value = ";".join(event[metric]) if metric == "guardrails" else event[metric]
            yield [week, "guardrail_overrides", event["severity"], key, metric, value]
    for budget in report.get("pacing", {}).get("budgets", []):
        for metric in ("amount", "spent", "target_to_date", "pace", "projected", "projected_share", "state"):
            yield [week, "pacing", "monthly_budget", budget["name"], metric, _blank(budget[metric])]


def _blank(value):
    return "" if value is None else value


def to_csv(report: dict) -> str:
    out = io.StringIO()
    # The csv module's own line ending (\r\n, as RFC 4180 and the other exports): with "\n" a carriage return
    # inside a cell went out unquoted, and a spreadsheet starts a new row, and maybe a formula, there.
    writer = csv.writer(out)
    writer.writerow(["week", "section", "dimension", "key", "metric", "value"])
    # Channel and reviewer keys and override reasons are typed by people: they must open as text.
    writer.writerows(csvsafe.safe_row(row) for row in csv_rows(report))
    return out.getvalue()
