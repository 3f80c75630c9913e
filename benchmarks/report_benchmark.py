"""Weekly override report speed: `weekly_report()` over 1,000,000 audit events on PostgreSQL (goal ≤ 2 s).

Run it against a fresh PostgreSQL database named on the command line:

    createdb -h 127.0.0.1 -U postgres wp_report_bench
    .venv/bin/python benchmarks/report_benchmark.py wp_report_bench                # 1,000,000 events, 26 weeks
    .venv/bin/python benchmarks/report_benchmark.py wp_report_bench --events 200000 --weeks 8

It migrates the database, then fills it with COPY: campaigns, guardrails, proposals with their reviews and
outcomes, and exactly --events audit events spread over --weeks ISO weeks ending with --week (created,
approved, edited, rejected, expired, auto-approved, superseded, guardrail overrides, applications, rollbacks,
and failed attempts to make up the count), in the proportions the review queue sees. It ANALYZEs, then times
`weekly_report(--week)` once cold and --repeat times warm, and each section of the report alone, and
prints a table. A database that already holds the events is reused (audit rows cannot be deleted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ("search", "social", "display", "video")
KINDS = (("budget_change", 0.55), ("budget_shift", 0.25), ("pause", 0.15), ("resume", 0.05))
FATES = (
    ("approved", 0.45),
    ("edited", 0.15),
    ("rejected", 0.12),
    ("expired", 0.10),
    ("auto_approved", 0.08),
    ("superseded", 0.05),
    ("pending", 0.05),
)
REASONS = ("brand", "strategy", "data_quality", "timing", "too_risky", "other")
GUARDRAILS = [f"Bench guardrail {i}" for i in range(8)]
REVIEWERS = [f"reviewer{i:02d}" for i in range(25)]
EVENTS_PER_PROPOSAL = 2.75  # created + decision + applications, overrides and rollbacks, on average


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([name for name, _ in weighted], weights=[w for _, w in weighted])[0]


def _copy(table: str, columns: list[str], rows) -> int:
    from django.db import connection

    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


class Filler:
    """Generates the rows; proposal ids are 1..n so events and reviews can point at them."""

    def __init__(self, *, events: int, weeks: int, week: str, seed: int = 7):
        from decisions.reports.weekly import week_bounds

        self.rng = random.Random(seed)
        self.target = events
        self.start = week_bounds(week)[0] - dt.timedelta(weeks=weeks - 1)
        self.span = weeks * 7 * 86400
        self.n_proposals = max(1, int(events / EVENTS_PER_PROPOSAL))
        self.events, self.reviews, self.outcomes, self.proposals = [], [], [], []

    def _event(self, action, proposal_id, at, label="engine", machine=None, human=None, reason=""):
        self.events.append((label, action, proposal_id, json.dumps(machine or {}), json.dumps(human or {}), reason, at))

    def build(self, campaigns: list[tuple[int, str]]) -> None:
        rng = self.rng
        # Ids follow time, as they do when the engine writes proposals and the log is appended to.
        times = sorted(rng.uniform(0, self.span) for _ in range(self.n_proposals))
        for pid, offset in enumerate(times, start=1):
            if len(self.events) >= self.target - 6:
                break
            created = self.start + dt.timedelta(seconds=offset)
            kind = _pick(rng, KINDS)
            campaign_id, external_id = rng.choice(campaigns)
            if kind in ("pause", "resume"):
                changes = [{"campaign": external_id, "field": "status", "from": "active", "to": "paused"}]
            else:
                before = round(rng.uniform(50, 500), 2)
                changes = [
                    {
                        "campaign": external_id,
                        "field": "daily_budget",
                        "from": before,
                        "to": round(before * rng.uniform(0.7, 1.4), 2),
                    }
                ]
            flagged = rng.random() < 0.1
            verdicts = (
                [
                    {
                        "name": rng.choice(GUARDRAILS),
                        "kind": "max_budget_change_pct",
                        "severity": "warn",
                        "passed": False,
                        "message": "x",
                    }
                ]
                if flagged
                else []
            )
            fate = _pick(rng, FATES)
            decided = created + dt.timedelta(seconds=rng.expovariate(1 / 21600))
            status = {"auto_approved": "approved", "edited": "approved"}.get(fate, fate)
            self._event(CREATED, pid, created, machine={"changes": changes})
            if fate != "pending":
                self._decide(pid, fate, changes, decided, verdicts)
            if fate in ("approved", "edited", "auto_approved") and rng.random() < 0.9:
                applied = decided + dt.timedelta(seconds=rng.uniform(1, 120))
                self._event("application.succeeded", pid, applied, label="system", machine={"direction": "apply"})
                status = "applied"
                if rng.random() < 0.03:
                    back = applied + dt.timedelta(hours=rng.uniform(1, 48))
                    self._event(ROLLED_BACK, pid, back, label=rng.choice(REVIEWERS), reason="spend spiked")
                    self._event("application.succeeded", pid, back, label="system", machine={"direction": "rollback"})
                    status = "rolled_back"
            self.proposals.append(
                (pid, kind, campaign_id, changes, verdicts, status, created, decided if fate != "pending" else None)
            )
        while len(self.events) < self.target:
            at = self.start + dt.timedelta(seconds=rng.uniform(0, self.span))
            self._event("application.attempt_failed", rng.randint(1, len(self.proposals)), at, label="system")
        # The log is append-only: rows land in the order they happened.
        self.events.sort(key=lambda event: event[-1])

    def _decide(self, pid, fate, changes, at, verdicts) -> None:
        rng = self.rng
        who = rng.choice(REVIEWERS)
        machine = {"kind": "x", "changes": changes, "verdicts": verdicts}
        if fate in ("expired", "superseded"):
            self._event(f"proposal.{fate}", pid, at, label="system", machine=machine)
            return
        if fate == "auto_approved":
            self.reviews.append((pid, "auto-approval policy v1", "approved", changes, "", True, at))
            self._event(AUTO_APPROVED, pid, at, label="auto-approval policy v1", machine=machine)
            return
        final = changes
        if fate == "edited":
            final = [
                {**c, "to": round(c["from"] + (c["to"] - c["from"]) * rng.uniform(0.2, 0.9), 2)}
                if c["field"] == "daily_budget"
                else {**c, "to": "active"}
                for c in changes
            ]
        reason = rng.choice(REASONS) if fate == "rejected" else ""
        self.reviews.append((pid, who, fate, [] if fate == "rejected" else final, reason, False, at))
        self._event(f"proposal.{fate}", pid, at, label=who, machine=machine, human={"final_changes": final})
        if fate in ("approved", "edited") and verdicts:
            action = OVERRIDE_BLOCK if rng.random() < 0.2 else OVERRIDE_WARN
            self._event(action, pid, at, label=who, machine={"verdicts": verdicts}, reason="launch week")
        if fate in ("approved", "edited", "rejected") and rng.random() < 0.25:
            self.outcomes.append((pid, rng.gauss(100, 60), rng.gauss(90, 40), rng.gauss(95, 40), at.date()))


CREATED, AUTO_APPROVED, ROLLED_BACK = "proposal.created", "proposal.auto_approved", "proposal.rolled_back"
OVERRIDE_WARN, OVERRIDE_BLOCK = "proposal.override_warn", "proposal.override_block"


def fill(*, events: int, weeks: int, week: str, seed: int = 7) -> dict:
    """Write the rows; returns how many of each. Expects empty decision tables."""
    from decimal import Decimal

    from django.db import connection, transaction

    from decisions.models import Campaign
    from objectives.models import Guardrail

    campaigns = Campaign.objects.bulk_create(
        Campaign(external_id=f"BENCH{i:05d}", name=f"Bench {i}", channel=CHANNELS[i % 4], daily_budget=Decimal(100))
        for i in range(500)
    )
    Guardrail.objects.bulk_create(
        Guardrail(name=n, kind="max_budget_change_pct", severity="warn", params={"pct": 20}) for n in GUARDRAILS
    )
    filler = Filler(events=events, weeks=weeks, week=week, seed=seed)
    filler.build([(c.pk, c.external_id) for c in campaigns])
    with transaction.atomic():
        counts = {
            "proposals": _copy(
                "decisions_proposal",
                [
                    "id",
                    "kind",
                    "campaign_id",
                    "lever",
                    "changes",
                    "rationale",
                    "evidence",
                    "platform_view",
                    "guardrail_verdicts",
                    "expected_metric",
                    "expected_per",
                    "expected_mean",
                    "expected_low",
                    "expected_high",
                    "p_loss",
                    "priority",
                    "model_version",
                    "status",
                    "idempotency_key",
                    "created_at",
                    "decided_at",
                ],
                (
                    (
                        pid,
                        kind,
                        cid,
                        "daily_budget",
                        json.dumps(ch),
                        "",
                        "{}",
                        "{}",
                        json.dumps(v),
                        "pipeline_value",
                        "week",
                        100.0,
                        50.0,
                        150.0,
                        0.1,
                        75.0,
                        "bench",
                        status,
                        f"bench-{pid}",
                        created,
                        decided,
                    )
                    for pid, kind, cid, ch, v, status, created, decided in filler.proposals
                ),
            ),
            "reviews": _copy(
                "decisions_review",
                [
                    "proposal_id",
                    "reviewer_label",
                    "decision",
                    "final_changes",
                    "reason_code",
                    "note",
                    "by_policy",
                    "created_at",
                ],
                ((pid, who, d, json.dumps(f), r, "", bp, at) for pid, who, d, f, r, bp, at in filler.reviews),
            ),
            "outcomes": _copy(
                "decisions_outcome",
                [
                    "proposal_id",
                    "metric",
                    "days",
                    "window_start",
                    "window_end",
                    "realised",
                    "expected_low",
                    "expected_mean",
                    "expected_high",
                    "verdict",
                    "machine_estimate",
                    "human_estimate",
                    "computed_at",
                ],
                (
                    (
                        pid,
                        "pipeline_value",
                        28,
                        day,
                        day,
                        real,
                        50.0,
                        100.0,
                        150.0,
                        "hit" if 50 <= real <= 150 else "below" if real < 50 else "above",
                        machine,
                        human,
                        dt.datetime.now(dt.UTC),
                    )
                    for pid, real, machine, human, day in filler.outcomes
                ),
            ),
            "audit events": _copy(
                "decisions_auditevent",
                [
                    "actor_label",
                    "action",
                    "proposal_id",
                    "machine_payload",
                    "human_payload",
                    "reason",
                    "request_id",
                    "created_at",
                    "prev_hash",
                    "hash",
                ],
                (
                    (label, action, pid, m, h, reason, "", at, "", f"bench-{i}")
                    for i, (label, action, pid, m, h, reason, at) in enumerate(filler.events)
                ),
            ),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('decisions_proposal', 'id'), "
                "(SELECT MAX(id) FROM decisions_proposal))"
            )
            cursor.execute("ANALYZE")
    return counts


def _timed(function, *args) -> float:
    from django.db import transaction

    from decisions.reports import weekly as reports

    started = time.perf_counter()
    with transaction.atomic():
        reports._without_jit()  # as weekly_report() runs them
        function(*args)
    return time.perf_counter() - started


def measure(week: str, repeat: int) -> dict:
    """Cold and warm timings of the whole report, and of each section alone (warm)."""
    from django.db.models import Q

    from decisions.reports import money, rows
    from decisions.reports import weekly as r

    start, end = r.week_bounds(week)
    decisions = r._decisions(start, end)
    last_week = start - dt.timedelta(weeks=1)
    counts = r._counts_by_week(last_week, end, split=start)
    cold = _timed(r.weekly_report, week)
    warm = [_timed(r.weekly_report, week) for _ in range(repeat)]
    sections = {
        "counts, this week and last": lambda: r._counts_by_week(last_week, end, split=start),
        "rates by kind, channel, reviewer, reason": lambda: r._cube(decisions),
        "rates by guardrail": lambda: r._by_guardrail(decisions, start, end),
        "median edit ratio": lambda: r._edit_ratios(start, end),
        "time to decision": lambda: r._time_to_decision(start, end),
        "guardrail overrides list": lambda: r._guardrail_overrides(start, end),
        "outcomes": lambda: r._outcomes(start, end),
        "where this week's proposals are now": lambda: r._flow(start, end),
        "money left on the table": lambda: money.left_on_the_table(decisions),
        "overrides and why, who was right (lists)": lambda: (
            rows.decided_rows(decisions, since=start, only=r.IS_OVERRIDE, limit=r.OVERRIDE_LIST_LIMIT),
            rows.decided_rows(decisions, since=start, only=Q(action__in=money.OVERRIDDEN), limit=r.OVERRIDE_LIST_LIMIT),
        ),
        "last week's other tiles": lambda: r._headline(last_week, start, counts["previous"]),
        "trend (5 weeks)": lambda: r._trend(week),
    }
    return {
        "cold": cold,
        "warm": warm,
        "sections": {name: min(_timed(f) for _ in range(3)) for name, f in sections.items()},
        "report": r.weekly_report(week),
    }


def print_table(*, database: str, week: str, totals: dict, result: dict, goal: float = 2.0) -> None:
    report = result["report"]
    warm = result["warm"]
    median = statistics.median(warm)
    print(f"weekly_report({week!r}) on PostgreSQL database {database}")
    print(f"{'rows':<42}{'count':>12}")
    for name, value in totals.items():
        print(f"{name:<42}{value:>12,}")
    print(f"{'audit events in the week':<42}{result['events_in_week']:>12,}")
    print(f"{'decisions in the week':<42}{report['counts']['decisions']:>12,}")
    print()
    print(f"{'timing':<42}{'seconds':>12}")
    print(f"{'whole report, cold':<42}{result['cold']:>12.3f}")
    print(f"{'whole report, warm median of ' + str(len(warm)):<42}{median:>12.3f}")
    print(f"{'whole report, warm worst':<42}{max(warm):>12.3f}")
    for name, seconds in result["sections"].items():
        print(f"{'  ' + name:<42}{seconds:>12.3f}")
    verdict = "meets" if max(result["cold"], max(warm)) <= goal else "MISSES"
    overrides = report["counts"]["overrides"]
    print(f"\ngoal ≤ {goal:.0f} s: {verdict} it (override rate {report['override_rate']}, {overrides:,} overrides)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a PostgreSQL database on 127.0.0.1 (created with createdb)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--week", default="2026-W47", help="the week to report on: the last week of the data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setup_django(args.database)
    from django.core.management import call_command

    from decisions.models import AuditEvent, Proposal, Review
    from decisions.reports.weekly import week_bounds

    call_command("migrate", verbosity=0)
    existing = AuditEvent.objects.count()
    if existing >= args.events:
        print(f"reusing the {existing:,} audit events already in {args.database}\n")
    elif existing:
        sys.exit(
            f"{args.database} holds {existing:,} audit events: use a fresh database (audit rows cannot be deleted)"
        )
    else:
        started = time.perf_counter()
        fill(events=args.events, weeks=args.weeks, week=args.week)
        print(f"filled in {time.perf_counter() - started:.0f} s\n")
    totals = {
        "audit events": AuditEvent.objects.count(),
        "proposals": Proposal.objects.count(),
        "reviews": Review.objects.count(),
    }
    result = measure(args.week, args.repeat)
    start, end = week_bounds(args.week)
    result["events_in_week"] = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end).count()
    print_table(database=args.database, week=args.week, totals=totals, result=result)


if __name__ == "__main__":
    main()
