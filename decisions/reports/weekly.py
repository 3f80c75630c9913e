"""The weekly override report: what people did with the machine's proposals in one ISO week.

`weekly_report("2026-W47")` returns one plain dict (JSON-safe) that the page,
the `override_report` command and the weekly email all render. Every figure is
aggregated by the database from the audit log (actions registered in
`decisions.audit.actions`), joined to proposals, reviews and outcomes; Python only
shapes the rows. Medians and the 90th percentile are PERCENTILE_CONT on
PostgreSQL; SQLite has no percentile function, so there the per-row values of
one week (edits, decisions: hundreds, not the whole log) are read and the same
linear interpolation is done in `percentile()`.
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
    Aggregate,
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, TruncWeek
from django.utils import timezone

from decisions import csvsafe, date_window
from decisions.audit import actions as audit_actions
from decisions.audit.actions import Action
from decisions.learning import service as learning
from decisions.models import AuditEvent
from decisions.review import backtest
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
# Each decided proposal has exactly one of these (a rollback is a second, later decision on it).
DECISIONS = (APPROVED, EDITED, REJECTED, EXPIRED, AUTO_APPROVED, ROLLED_BACK)
HUMAN_DECISIONS = (APPROVED, EDITED, REJECTED, ROLLED_BACK)
# The decisions that are overrides in themselves; the rest count when flagged over a guardrail.
OVERRIDING = tuple(action for action in DECISIONS if action in audit_actions.OVERRIDE_ACTIONS)
TREND_WEEKS = 4
MARGIN = dt.timedelta(hours=1)
OVERRIDE_LIST_LIMIT = 200

DEFINITIONS = {
    "week": "An ISO week, Monday 00:00 to the next Monday 00:00 in the site's time zone.",
    "decisions": (
        "Decisions recorded in the week: approvals as proposed, edits, rejections, expiries (nobody looked "
        "before expires_at), auto-approvals by policy, and rollbacks. Superseded proposals are not decisions: "
        "the machine replaced its own proposal."
    ),
    "override": (
        "A decision that departs from the machine: an edit, a rejection, an expiry, a rollback, or an approval "
        "over a failing warn- or block-level guardrail. An edit over a guardrail counts once."
    ),
    "override_rate": "Overrides ÷ decisions, both counted in the week. By-reason rates add up to the overall rate.",
    "reviewed": "Decisions by a person: approved as proposed, edited or rejected (rollbacks and policy excluded).",
    "edit_ratio": (
        "For an edit: Σ|reviewer's budget − before| ÷ Σ|machine's budget − before| over the proposal's "
        "daily-budget changes. 1 = the reviewer kept the size of the move, 0.5 = halved it, 0 = cancelled it."
    ),
    "time_to_decision": "From the proposal's creation to a person's decision (approve, edit, reject).",
    "guardrail_rate": (
        "Per guardrail: decisions on proposals the guardrail flagged when they were proposed, the overrides "
        "among them, and how often a reviewer approved over it (warn confirmations and admin block overrides)."
    ),
    "outcomes": (
        "For proposals decided in the week. Followed: the machine's change ran; judged against its expected "
        "interval, error = realised − expected mean. Overridden (edited, rejected): human − machine = what the "
        "human's version did (realised, else estimated; a rejection keeps things as they were, 0) minus what "
        "the machine's version would have done. Positive: the human was right. Missing outcomes are not yet known."
    ),
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


# --- SQL building blocks -------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the fraction-th percentile, interpolated."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _events(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end).order_by()


def _decisions(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    """Decision events of the period, each flagged when its proposal was approved over a guardrail.

    The override event is written in the same transaction as the approval, so the period's own override
    events (with a margin for a transaction straddling midnight) are all there is to look up: one small
    uncorrelated set PostgreSQL hashes once, rather than a lookup per decision.
    """
    guarded = (
        AuditEvent.objects.filter(
            action__in=GUARDRAIL_OVERRIDES, created_at__gte=start - MARGIN, created_at__lt=end + MARGIN
        )
        .order_by()
        .values("proposal_id")
    )
    flag = ExpressionWrapper(Q(proposal_id__in=Subquery(guarded)), output_field=BooleanField())
    return _events(start, end).filter(action__in=DECISIONS).annotate(over_guardrail=flag)


IS_OVERRIDE = Q(action__in=OVERRIDING) | Q(over_guardrail=True)


class _JSONSQL(Func):
    """A vendor-specific SQL fragment over one JSON column expression (aliased by the ORM, so joins work)."""

    def __init__(self, column, *, postgres: str, sqlite: str, params: list, output_field):
        super().__init__(column, output_field=output_field)
        self.vendor_sql = {"postgresql": postgres, "sqlite": sqlite}
        self.params = params

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        template = self.vendor_sql[connection.vendor]
        return template.format(column=column), [*params, *self.params]


def _budget_move(payload_key: str) -> _JSONSQL:
    """Σ|to − from| over a JSON array of changes, daily-budget changes only."""
    return _JSONSQL(
        F(payload_key),
        postgres=(
            "(SELECT SUM(ABS((c->>'to')::float - (c->>'from')::float)) FROM jsonb_array_elements("
            "COALESCE({column}, '[]'::jsonb)) AS c WHERE c->>'field' = 'daily_budget')"
        ),
        sqlite=(
            "(SELECT SUM(ABS(1.0 * json_extract(c.value, '$.to') - json_extract(c.value, '$.from'))) "
            "FROM json_each({column}) AS c WHERE json_extract(c.value, '$.field') = 'daily_budget')"
        ),
        params=[],
        output_field=FloatField(),
    )


def _edit_ratio():
    human, machine = _budget_move("human_payload__final_changes"), _budget_move("machine_payload__changes")
    return ExpressionWrapper(human / NullIf(machine, Value(0.0)), output_field=FloatField())


def _array_has(column: str, wanted: dict) -> _JSONSQL:
    """The JSON array holds an object with these keys and values (a verdict list searched per row)."""
    keys = sorted(wanted)
    conditions = " AND ".join(f"json_extract(v.value, '$.{key}') = %s" for key in keys)
    return _JSONSQL(
        F(column),
        postgres="COALESCE({column} @> %s::jsonb, false)",
        # The keys are this module's constants; the values go as params.
        sqlite="EXISTS (SELECT 1 FROM json_each({column}) AS v WHERE " + conditions + ")",  # noqa: S608
        params=[json.dumps([wanted])] if _postgres() else [wanted[key] for key in keys],
        output_field=BooleanField(),
    )


def _flagged_by(name: str) -> _JSONSQL:
    """The proposal was proposed with a failing verdict of this guardrail."""
    return _array_has("proposal__guardrail_verdicts", {"name": name, "passed": False})


def _overrode(name: str) -> _JSONSQL:
    """An override event whose overridden verdicts name this guardrail."""
    return _array_has("machine_payload__verdicts", {"name": name})


# --- sections ---------------------------------------------------------------------------------------------


def _counts(start, end) -> dict:
    def of(action):
        return Count("id", filter=Q(action=action))

    counts = _events(start, end).aggregate(
        created=of(CREATED),
        approved_as_proposed=of(APPROVED),
        edited=of(EDITED),
        rejected=of(REJECTED),
        expired_unreviewed=of(EXPIRED),
        auto_approved=of(AUTO_APPROVED),
        superseded=of(SUPERSEDED),
        applied=Count("id", filter=Q(action=SUCCEEDED, machine_payload__direction="apply")),
        rolled_back=of(ROLLED_BACK),
        override_warn=of(OVERRIDE_WARN),
        override_block=of(OVERRIDE_BLOCK),
    )
    counts["reviewed"] = counts["approved_as_proposed"] + counts["edited"] + counts["rejected"]
    return counts


def _cube(decisions: QuerySet) -> list[dict]:
    """Decisions and overrides counted by the database per (kind, channel, person, reason) combination.

    One grouped query instead of one per dimension: the combinations number in the hundreds whatever the
    number of events, and adding them up per dimension below is the whole of the Python part.
    """
    return list(
        decisions.values(
            kind=F("proposal__kind"),
            channel=F("proposal__campaign__channel"),
            person=Case(When(action__in=HUMAN_DECISIONS, then=F("actor_label")), default=Value(None)),
            why=Case(When(IS_OVERRIDE, then=_reason_label()), default=Value(None)),
        ).annotate(decisions=Count("id"), overrides=Count("id", filter=IS_OVERRIDE))
    )


def _rates(cube: list[dict], dimension: str) -> list[dict]:
    totals: dict = defaultdict(lambda: [0, 0])
    for cell in cube:
        if dimension == "person" and cell["person"] is None:
            continue  # expiries and the policy's approvals are nobody's review
        totals[cell[dimension] or "—"][0] += cell["decisions"]
        totals[cell[dimension] or "—"][1] += cell["overrides"]
    rows = [{"key": key, "decisions": d, "overrides": o, "rate": rate(o, d)} for key, (d, o) in totals.items()]
    return sorted(rows, key=lambda row: (-row["decisions"], row["key"]))


def _by_reason(cube: list[dict], total: int) -> list[dict]:
    counts: dict = defaultdict(int)
    for cell in cube:
        if cell["why"] is not None:
            counts[cell["why"]] += cell["overrides"]
    rows = [{"key": key, "overrides": n, "rate": rate(n, total)} for key, n in counts.items()]
    return sorted(rows, key=lambda row: (-row["overrides"], row["key"]))


def _reason_label():
    return Case(
        When(action=REJECTED, then=Concat(Value("rejected: "), Coalesce("proposal__review__reason_code", Value("")))),
        When(action=EDITED, then=Value("edited")),
        When(action=EXPIRED, then=Value("expired unreviewed")),
        When(action=ROLLED_BACK, then=Value("rolled back")),
        default=Value("approved over a guardrail"),
        output_field=CharField(),
    )


def _by_guardrail(decisions: QuerySet, start, end) -> list[dict]:
    names = list(Guardrail.objects.order_by("name").values_list("name", flat=True))
    if not names:
        return []
    # Only proposals with some failing verdict can count for any guardrail: filter once, then count per name.
    flagged = decisions.filter(_array_has("proposal__guardrail_verdicts", {"passed": False})).aggregate(
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
            rows.append({**row, "rate": rate(row["overrides"], row["decisions"])})
    return sorted(rows, key=lambda r: (-r["decisions"], r["key"]))


def _edit_ratios(start, end) -> list[dict]:
    edits = _events(start, end).filter(action=EDITED)
    if _postgres():
        rows = (
            edits.annotate(ratio=_edit_ratio())
            .filter(ratio__isnull=False)
            .values(kind=F("proposal__kind"))
            .annotate(edits=Count("id"), median=PercentileCont(_edit_ratio(), 0.5, output_field=FloatField()))
            .order_by("kind")
        )
        return [{**row, "median": _round(row["median"])} for row in rows]
    by_kind = defaultdict(list)
    for kind, ratio in (
        edits.annotate(ratio=_edit_ratio()).filter(ratio__isnull=False).values_list("proposal__kind", "ratio")
    ):
        by_kind[kind].append(ratio)
    return [
        {"kind": kind, "edits": len(ratios), "median": _round(percentile(ratios, 0.5))}
        for kind, ratios in sorted(by_kind.items())
    ]


def _time_to_decision(start, end) -> dict:
    decisions = _events(start, end).filter(action__in=(APPROVED, EDITED, REJECTED), proposal__isnull=False)
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
            channel=F("proposal__campaign__channel"),
        )[:OVERRIDE_LIST_LIMIT]
    )
    return [
        {
            "at": event["created_at"].isoformat(),
            "who": event["actor_label"],
            "severity": "block" if event["action"] == OVERRIDE_BLOCK else "warn",
            "guardrails": sorted({v.get("name", "?") for v in (event["machine_payload"] or {}).get("verdicts", [])}),
            "why": event["reason"],
            "proposal": event["proposal_id"],
            "kind": event["kind"],
            "channel": event["channel"] or "",
        }
        for event in events
    ]


def _outcomes(start, end) -> dict:
    decided = _events(start, end).filter(action__in=(APPROVED, AUTO_APPROVED, EDITED, REJECTED))
    realised = F("proposal__outcome__realised")
    followed = decided.filter(action__in=(APPROVED, AUTO_APPROVED)).aggregate(
        decisions=Count("id"),
        known=Count("id", filter=Q(proposal__outcome__realised__isnull=False)),
        hit=Count("id", filter=Q(proposal__outcome__verdict="hit", proposal__outcome__realised__isnull=False)),
        above=Count("id", filter=Q(proposal__outcome__verdict="above", proposal__outcome__realised__isnull=False)),
        below=Count("id", filter=Q(proposal__outcome__verdict="below", proposal__outcome__realised__isnull=False)),
        mean_error=Avg(realised - F("proposal__outcome__expected_mean")),
    )
    human = Case(
        When(action=REJECTED, then=Coalesce(realised, "proposal__outcome__human_estimate", Value(0.0))),
        default=Coalesce(realised, "proposal__outcome__human_estimate"),
        output_field=FloatField(),
    )
    gap = ExpressionWrapper(human - F("proposal__outcome__machine_estimate"), output_field=FloatField())
    overridden = (
        decided.filter(action__in=(EDITED, REJECTED), proposal__outcome__isnull=False)
        .annotate(gap=gap)
        .aggregate(
            known=Count("id", filter=Q(gap__isnull=False)),
            human_right=Count("id", filter=Q(gap__gt=0)),
            machine_right=Count("id", filter=Q(gap__lt=0)),
            tie=Count("id", filter=Q(gap=0)),
            mean_gap=Avg("gap"),
            total_gap=Sum("gap"),
        )
    )
    overridden["decisions"] = decided.filter(action__in=(EDITED, REJECTED)).count()
    for section in (followed, overridden):
        section["not_yet_known"] = section["decisions"] - section["known"]
        for key in ("mean_error", "mean_gap", "total_gap"):
            if key in section:
                section[key] = _round(section[key])
    return {"followed": followed, "overridden": overridden}


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


# --- the report ------------------------------------------------------------------------------------------


def weekly_report(week: str) -> dict:
    """Every figure of the override report for one ISO week, e.g. "2026-W47"; raises ValueError on a bad week."""
    start, end = week_bounds(week)
    with transaction.atomic():
        _without_jit()
        return _build(week, start, end)


def _without_jit() -> None:
    # PostgreSQL's JIT compiles each of these short aggregates for ~0.1 s, longer than running it; off for
    # this transaction only.
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _build(week: str, start: dt.datetime, end: dt.datetime) -> dict:
    decisions = _decisions(start, end)
    trend = _trend(week)
    this_week = trend[-1]
    counts = _counts(start, end)
    cube = _cube(decisions)
    counts.update(decisions=this_week["decisions"], overrides=this_week["overrides"])
    return {
        "week": week,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "previous_week": shift_week(week, -1),
        "next_week": shift_week(week, 1),
        "generated_at": timezone.now().isoformat(),
        "definitions": DEFINITIONS,
        "counts": counts,
        "override_rate": this_week["override_rate"],
        "override_rate_by": {
            "kind": _rates(cube, "kind"),
            "channel": _rates(cube, "channel"),
            "reviewer": _rates(cube, "person"),
            "guardrail": _by_guardrail(decisions, start, end),
            "reason": _by_reason(cube, this_week["decisions"]),
        },
        "edit_ratio_by_kind": _edit_ratios(start, end),
        "time_to_decision": _time_to_decision(start, end),
        "guardrail_overrides": _guardrail_overrides(start, end),
        "outcomes": _outcomes(start, end),
        "trend": trend,
        "learning": _learning(),
        "stale_guardrails": _stale_guardrails(end),
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
    for dimension, rows in report["override_rate_by"].items():
        for row in rows:
            for metric, value in row.items():
                if metric != "key":
                    yield [week, "override_rate_by", dimension, row["key"], metric, _blank(value)]
    for row in report["edit_ratio_by_kind"]:
        yield [week, "edit_ratio", "kind", row["kind"], "median", _blank(row["median"])]
        yield [week, "edit_ratio", "kind", row["kind"], "edits", row["edits"]]
    for metric, value in report["time_to_decision"].items():
        yield [week, "time_to_decision", "", "", metric, _blank(value)]
    for group, figures in report["outcomes"].items():
        for metric, value in figures.items():
            yield [week, "outcomes", group, "", metric, _blank(value)]
    for row in report["trend"]:
        for metric in ("created", "decisions", "overrides", "override_rate"):
            yield [week, "trend", "week", row["week"], metric, _blank(row[metric])]
    for event in report["guardrail_overrides"]:
        key = f"{event['at']} #{event['proposal']}"
        for metric in ("who", "severity", "guardrails", "why"):
            value = ";".join(event[metric]) if metric == "guardrails" else event[metric]
            yield [week, "guardrail_overrides", event["severity"], key, metric, value]


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
