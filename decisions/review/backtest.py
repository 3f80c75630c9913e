"""What a guardrail change would have done, and what the guardrails actually did.

`backtest()` replays the last days' proposals through the pure checker twice,
once with today's rules and once with a candidate rule in place of the one
being edited (or added), so an admin reads "this version would have blocked 12
and warned on 5 of the last 30 days' 214 proposals" before saving it. Those
counts are the version's own verdicts; what all the guardrails together would
have said, with it and as saved today, is beside them (a block-level rule that
fails nothing must not read as "warned on 4" because another guardrail warns).

`guardrail_activity()` counts, per guardrail name, the proposals a guardrail
failed on: the verdicts stored when each proposal was created plus the
overrides people approved over it. It is one grouped SQL query on either
database, so the guardrails page does not walk every proposal in Python.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from decisions import targets
from decisions.audit import actions as audit_actions
from decisions.audit import wording
from decisions.experiments.facts import audience_facts
from decisions.models import Campaign, Proposal
from decisions.review import selectors
from objectives import guardrails
from objectives import selectors as objective_selectors

BACKTEST_DAYS = 30
# The page lists the proposals the candidate affects; past this many it says "and N more".
LIST_LIMIT = 200
# The overrides whose events name the guardrails they went over (two: the SQL below has a slot for each).
GUARDRAIL_OVERRIDES = audit_actions.GUARDRAIL_OVERRIDE_ACTIONS


def outcome(verdicts: Iterable[guardrails.Verdict]) -> str:
    """block when a block-level verdict fails, warn when only warnings fail, else pass."""
    failing = {v.severity for v in verdicts if not v.passed}
    return "block" if "block" in failing else "warn" if failing else "pass"


@dataclass(frozen=True)
class BacktestRow:
    proposal_id: int
    created_at: dt.datetime
    status: str
    changes: list[dict]
    before: str  # pass | warn | block under today's rules
    after: str  # … with the candidate in place
    verdict: guardrails.Verdict | None  # the candidate's own verdict, None when out of its scope
    # The changes in words, by campaign name: "Search – Brand: $100 → $120".
    change_texts: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _worded(rows: list[BacktestRow]) -> list[BacktestRow]:
    """The listed rows with their changes in words, one query for the campaigns' names."""
    ids = {c.get("campaign") for row in rows for c in row.changes}
    names = dict(Campaign.objects.filter(external_id__in=ids).values_list("external_id", "name"))
    return [
        dataclasses.replace(row, change_texts=tuple(wording.format_change(c, names=names) for c in row.changes))
        for row in rows
    ]


@dataclass(frozen=True)
class Backtest:
    days: int
    total: int
    blocked: int
    warned: int
    blocked_now: int
    warned_now: int
    rows: list[BacktestRow]
    more: int
    # The candidate's own verdicts (blocked, warned … above are every guardrail's, with it in place).
    own_blocked: int = 0
    own_warned: int = 0
    active: bool = True

    @property
    def summary(self) -> str:
        if not self.active:
            return (
                f"Switched off, it judges nothing: the other guardrails would have blocked {self.blocked} and "
                f"warned on {self.warned} of the last {self.days} days' {self.total} proposals"
            )
        return (
            f"This version would have blocked {self.own_blocked} and warned on {self.own_warned} "
            f"of the last {self.days} days' {self.total} proposals"
        )


def _checked_changes(changes: list[dict]) -> list[guardrails.Change]:
    # The move is measured from the budget the proposal saw ("from"), as when
    # it was proposed, not from today's budget: the question is what this rule
    # would have said about that proposal then.
    return targets.checked_changes(changes, from_now=False)


def _checker(changes: list[dict], created_at, *, campaigns, workflows, seen: dict):
    """check(rules) → the verdicts of these rules on one past proposal (none for no rules); its audiences' facts
    are read once per audience over the whole backtest (`seen`)."""
    checked = _checked_changes(changes)
    audiences = audience_facts(changes, cache=seen)
    today = timezone.localdate(created_at)

    def check(rules: list) -> list[guardrails.Verdict]:
        if not rules:
            return []
        return guardrails.check(
            checked, rules=rules, campaigns=campaigns, today=today, workflows=workflows, audiences=audiences
        )

    return check


def _split_rules(candidate: guardrails.Rule, replaces: str | None) -> tuple[list, list]:
    """(today's rules the edit leaves alone, the rule it replaces — none for a new guardrail)."""
    current = objective_selectors.active_rules()
    replaced = {replaces, candidate.name}
    return [rule for rule in current if rule.name not in replaced], [rule for rule in current if rule.name in replaced]


def backtest(
    *,
    candidate: guardrails.Rule,
    replaces: str | None = None,
    active: bool = True,
    days: int = BACKTEST_DAYS,
    now: dt.datetime | None = None,
) -> Backtest:
    """Replay the last `days` days' proposals with the candidate rule replacing `replaces` (a guardrail name).

    An inactive candidate is left out of the "after" rules: backtesting a
    deactivation shows what switching the guardrail off would have let through.
    Campaign facts (tags, audience, evidence) are today's: the past ones are not kept.
    """
    now = now or timezone.now()
    others, replaced = _split_rules(candidate, replaces)
    added = [candidate] if active else []
    campaigns = selectors.campaign_facts(today=timezone.localdate(now))
    workflows = targets.all_workflow_facts()
    proposals = (
        Proposal.objects.filter(created_at__gte=now - dt.timedelta(days=days), created_at__lte=now)
        .order_by("-created_at", "-id")
        .values_list("id", "created_at", "status", "changes")
    )
    total = blocked = warned = blocked_now = warned_now = 0
    own_failed: Counter[str] = Counter()
    rows: list[BacktestRow] = []
    seen: dict = {}  # audience facts read once per audience
    for pk, created_at, status, changes in proposals.iterator(chunk_size=2000):
        check = _checker(changes, created_at, campaigns=campaigns, workflows=workflows, seen=seen)
        # The rules the edit leaves alone are checked once per proposal, not once per side:
        # a total budget cap adds up every campaign in its scope each time it is checked.
        unchanged, old, new = check(others), check(replaced), check(added)
        before, after = outcome(unchanged + old), outcome(unchanged + new)
        total += 1
        blocked += after == "block"
        warned += after == "warn"
        blocked_now += before == "block"
        warned_now += before == "warn"
        own = new[0] if new else None
        if own is not None and not own.passed:
            own_failed[own.severity] += 1
        if before != after or (own is not None and not own.passed):
            rows.append(BacktestRow(pk, created_at, status, changes, before, after, own))
    # Proposals whose outcome changes first: they are what the edit is about.
    rows.sort(key=lambda row: not row.changed)
    return Backtest(
        days=days,
        total=total,
        blocked=blocked,
        warned=warned,
        blocked_now=blocked_now,
        warned_now=warned_now,
        rows=_worded(rows[:LIST_LIMIT]),
        more=max(0, len(rows) - LIST_LIMIT),
        own_blocked=own_failed["block"],
        own_warned=own_failed["warn"],
        active=active,
    )


# --- a whole policy instead of today's ---------------------------------------------------


@dataclass(frozen=True)
class PolicyBacktestRow:
    proposal_id: int
    created_at: dt.datetime
    status: str
    changes: list[dict]
    before: str  # pass | warn | block under today's guardrails
    after: str  # … under the imported policy
    failing: list[guardrails.Verdict]  # the imported policy's verdicts that fail

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Triggered:
    """One guardrail of the imported policy: how many of the replayed proposals it would have failed."""

    name: str
    severity: str
    proposals: int


@dataclass(frozen=True)
class PolicyBacktest:
    days: int
    total: int
    blocked: int
    warned: int
    blocked_now: int
    warned_now: int
    changed: int  # proposals the policy judges differently from today's guardrails
    rows: list[PolicyBacktestRow]
    more: int
    triggered: list[Triggered]

    @property
    def summary(self) -> str:
        return (
            f"The imported policy would have blocked {self.blocked} and warned on {self.warned} "
            f"of the last {self.days} days' {self.total} proposals"
        )


def _recent_proposals(*, days: int, now: dt.datetime):
    return (
        Proposal.objects.filter(created_at__gte=now - dt.timedelta(days=days), created_at__lte=now)
        .order_by("-created_at", "-id")
        .values_list("id", "created_at", "status", "changes")
    )


def backtest_policy(
    *, rules: list[guardrails.Rule], days: int = BACKTEST_DAYS, now: dt.datetime | None = None
) -> PolicyBacktest:
    """Replay the last `days` days' proposals with `rules` — a whole imported policy — in place of today's
    active guardrails: what it would have blocked and warned on, and which proposals it judges differently.

    A guardrail the policy keeps exactly as it is today is checked once per proposal, not once per side
    (a total cap adds up its whole scope each time). Campaign facts are today's, as in `backtest()`.
    """
    now = now or timezone.now()
    today_rules = objective_selectors.active_rules()
    kept = [rule for rule in rules if rule in today_rules]
    dropped = [rule for rule in today_rules if rule not in kept]
    added = [rule for rule in rules if rule not in kept]
    campaigns = selectors.campaign_facts(today=timezone.localdate(now))
    workflows = targets.all_workflow_facts()
    total = blocked = warned = blocked_now = warned_now = 0
    rows: list[PolicyBacktestRow] = []
    failing_by_rule: Counter[tuple[str, str]] = Counter()
    seen: dict = {}  # audience facts read once per audience
    for pk, created_at, status, changes in _recent_proposals(days=days, now=now).iterator(chunk_size=2000):
        check = _checker(changes, created_at, campaigns=campaigns, workflows=workflows, seen=seen)
        common, old, new = check(kept), check(dropped), check(added)
        before, after = outcome(common + old), outcome(common + new)
        failing = [verdict for verdict in common + new if not verdict.passed]
        failing_by_rule.update((verdict.name, verdict.severity) for verdict in failing)
        total += 1
        blocked += after == "block"
        warned += after == "warn"
        blocked_now += before == "block"
        warned_now += before == "warn"
        if before != after or failing:
            rows.append(PolicyBacktestRow(pk, created_at, status, changes, before, after, failing))
    # Proposals the import judges differently first: they are what the import is about.
    rows.sort(key=lambda row: not row.changed)
    return PolicyBacktest(
        days=days,
        total=total,
        blocked=blocked,
        warned=warned,
        blocked_now=blocked_now,
        warned_now=warned_now,
        changed=sum(row.changed for row in rows),
        rows=rows[:LIST_LIMIT],
        more=max(0, len(rows) - LIST_LIMIT),
        triggered=[Triggered(name, severity, count) for (name, severity), count in sorted(failing_by_rule.items())],
    )


# --- what the guardrails did -----------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    blocks: int = 0  # proposals a block-level verdict of this guardrail failed on, in the short window
    warnings: int = 0
    last_triggered: dt.datetime | None = None  # within the long window; None = not in it


_POSTGRES_SQL = """
SELECT name, severity, COUNT(DISTINCT CASE WHEN at >= %s THEN pid END), MAX(at) FROM (
  SELECT v->>'name' AS name, v->>'severity' AS severity, p.id AS pid, p.created_at AS at
  FROM decisions_proposal p CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(p.guardrail_verdicts) = 'array' THEN p.guardrail_verdicts ELSE '[]'::jsonb END) v
  WHERE p.created_at >= %s AND v->>'passed' = 'false'
  UNION ALL
  SELECT v->>'name', v->>'severity', e.proposal_id, e.created_at
  FROM decisions_auditevent e CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(e.machine_payload->'verdicts') = 'array' THEN e.machine_payload->'verdicts'
    ELSE '[]'::jsonb END) v
  WHERE e.action IN (%s, %s) AND e.created_at >= %s
) AS triggered GROUP BY name, severity
"""

_SQLITE_SQL = """
SELECT name, severity, COUNT(DISTINCT CASE WHEN at >= %s THEN pid END), MAX(at) FROM (
  SELECT json_extract(v.value, '$.name') AS name, json_extract(v.value, '$.severity') AS severity,
         p.id AS pid, p.created_at AS at
  FROM decisions_proposal p, json_each(p.guardrail_verdicts) v
  WHERE p.created_at >= %s AND json_extract(v.value, '$.passed') = 0
  UNION ALL
  SELECT json_extract(v.value, '$.name'), json_extract(v.value, '$.severity'), e.proposal_id, e.created_at
  FROM decisions_auditevent e, json_each(e.machine_payload, '$.verdicts') v
  WHERE e.action IN (%s, %s) AND e.created_at >= %s
) AS triggered GROUP BY name, severity
"""


def _as_datetime(value) -> dt.datetime | None:
    # SQLite hands MAX() of a datetime column back as text in UTC.
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = parse_datetime(value)
    return timezone.make_aware(parsed, dt.UTC) if parsed and timezone.is_naive(parsed) else parsed


def guardrail_activity(
    *, count_days: int = BACKTEST_DAYS, recent_days: int = 90, now: dt.datetime | None = None
) -> dict[str, Activity]:
    """Per guardrail name: failing proposals in the last `count_days` days, and when it last failed
    (on a proposal's creation or an override) within `recent_days`."""
    now = now or timezone.now()
    ops = connection.ops
    count_since = ops.adapt_datetimefield_value(now - dt.timedelta(days=count_days))
    recent_since = ops.adapt_datetimefield_value(now - dt.timedelta(days=recent_days))
    sql = _POSTGRES_SQL if connection.vendor == "postgresql" else _SQLITE_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, [count_since, recent_since, *GUARDRAIL_OVERRIDES, recent_since])
        found = cursor.fetchall()
    activity: dict[str, Activity] = {}
    for name, severity, count, last in found:
        seen = activity.get(name, Activity())
        last = _as_datetime(last)
        activity[name] = Activity(
            blocks=seen.blocks + (count if severity == "block" else 0),
            warnings=seen.warnings + (count if severity == "warn" else 0),
            last_triggered=max(filter(None, (seen.last_triggered, last)), default=None),
        )
    return activity


# --- guardrails that fire, and those that never do ------------------------------------------------------

STALE_DAYS = 90  # the prune-what-never-fires rule: a guardrail silent this long is a candidate to retire


def with_activity(guardrails: list, *, now: dt.datetime) -> list:
    """Attach blocks and warnings (30 days) and the last trigger (90 days), across every name a guardrail had."""
    activity = guardrail_activity(recent_days=STALE_DAYS, now=now)
    names = objective_selectors.guardrail_names()
    for guardrail in guardrails:
        found = [activity[name] for name in names.get(guardrail.pk, {guardrail.name}) if name in activity]
        guardrail.blocks_30d = sum(a.blocks for a in found)
        guardrail.warnings_30d = sum(a.warnings for a in found)
        guardrail.last_triggered = max((a.last_triggered for a in found if a.last_triggered), default=None)
    return guardrails


def stale(guardrails: list, *, now: dt.datetime) -> list:
    """Active guardrails old enough to judge (annotated by `with_activity`) that have not triggered in STALE_DAYS."""
    cutoff = now - dt.timedelta(days=STALE_DAYS)
    return [g for g in guardrails if g.is_active and g.last_triggered is None and g.created_at <= cutoff]
