"""Review dashboard speed: the queue page beside the admin changelist, and approvals per second under gunicorn.

    createdb -h 127.0.0.1 -U postgres wp_review_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wp_review_bench .venv/bin/python benchmarks/review_benchmark.py \\
        [--proposals 100000] [--events 1000000] [--clients 20] [--approvals 3000]

PostgreSQL only. Five steps, one table each (with the machine's load average: other work slows every number):

1. Fill (only what is missing, so a second run starts at once): migrate; the demo's simulated world
   (--campaigns campaigns × --days days of numbers, users, objective, starter guardrails); one real engine
   run, whose proposals are the templates; history (decided proposals with their reviews and audit
   events: created, the decision, application.succeeded) until the log holds --events events; then
   pending clones of the templates (priority jittered, one proposal.created event each) until
   --proposals can still be decided. Clones never expire (expires_at a year out) so the data stays
   usable between runs. Audit rows go in by COPY with the hash chain computed in Python by
   audit.event_hash, continuing the chain already in the table.
2. Pages, in process with Django's test Client (DEBUG off): the queue as a marketer at each page size,
   and the admin changelist of proposals as a superuser (all proposals, and filtered to pending: the
   same rows the queue shows). Warm-up, then --requests timed requests each; server time is
   time.perf_counter() around Client.get, queries from CaptureQueriesContext.
2b. One approval in process, three ways in turn: a raw psycopg transaction doing the same writes (the floor),
   transitions.proposal_approve, and the htmx POST of the Approve button (test Client); then a bulk approval of
   --bulk proposals, timing every hold of the audit chain's lock (from its grant to the COMMIT that releases it).
3. Approvals over HTTP (skipped with --no-http): gunicorn (config.wsgi, -w --workers, DEBUG=0) on a free
   loopback port, and
   --clients threads, each logged in through POST /login/ with its own session and CSRF token, each
   approving its own share of --approvals distinct pending proposals that pass every stored guardrail
   (htmx POST, as the queue's Approve button sends it), bounded by --seconds. gunicorn gets REDIS_URL
   and a private Celery queue that no worker reads: the web process does in production exactly what it
   does here (decide, write the outbox row, enqueue the apply), and applies stay out of the way, so an
   applied budget never turns a later approval into a cooldown prompt. The queue's length afterwards
   must equal the number of outbox rows the approvals wrote (each apply queued once); the queue is
   deleted at the end. Then the database: every approval exactly one Review, one proposal.approved
   event and one outbox row per ad platform its changes touch, nothing approved that a client did not
   see approved, and verify_chain() over the whole log.
4. Goals: queue p95 ≤ 40 ms; ≤ 10 queries at every page size; queue faster than the admin changelist
   (p95, same rows); an approval in process ≤ 5× the raw floor; bulk approval holds the chain no longer than one
   approval's write; ≥ 120 approvals/s with p95 ≤ 250 ms, none lost or doubled.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "bench-reviewer-pw-1"  # noqa: S105 - benchmark database only
REVIEWER_PREFIX = "bench-reviewer-"
SUPERUSER = "bench-admin"
PAGE_SIZES = (25, 50, 100)
SHOWN_ROWS = 25  # the queue's default page: the rows a reviewer's bulk button holds when they approve one
HISTORY_OUTCOMES = (  # (status, share): decided proposals behind the queue, as a team's past looks
    ("applied", 0.45),
    ("rejected", 0.20),
    ("expired", 0.20),
    ("superseded", 0.15),
)
REJECT_REASONS = ("brand", "strategy", "data_quality", "timing", "too_risky")
GOAL_P95_MS = 40.0
GOAL_QUERIES = 10
GOAL_APPROVALS_PER_S = 120.0
GOAL_APPROVAL_P95_MS = 250.0  # over HTTP, under --clients clients
GOAL_TIMES_RAW = 5.0  # one approval in process (the htmx POST) against the raw psycopg floor, medians
# gunicorn runs with DEBUG=0, which refuses the development audit key, and the rows it writes must verify in
# this process: both key the chain with this one (benchmark databases only).
BENCH_AUDIT_KEY = "waypoint-review-benchmark-audit-key-not-for-production"  # noqa: S105


def setup_django() -> None:
    """Load Django for the benchmark process itself: tasks run in process here (the engine run)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the engine run's task log would bury the tables
    os.environ.setdefault("WAYPOINT_AUDIT_KEY", BENCH_AUDIT_KEY)
    import django

    django.setup()


# --- 1. filling the database ------------------------------------------------------------


@dataclass
class FillReport:
    seconds: float = 0.0
    steps: list[tuple[str, float, str]] = field(default_factory=list)  # (step, seconds, what)

    def step(self, name: str, started: float, what: str) -> None:
        self.steps.append((name, time.perf_counter() - started, what))


def fill_database(
    *, proposals: int, events: int, campaigns: int, days: int, reviewers: int = 20, seed: int = 1
) -> FillReport:
    """Bring the database up to the requested sizes; does nothing when they are already there."""
    from django.core.management import call_command

    report, began = FillReport(), time.perf_counter()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    report.step("migrate", started, "")
    users = ensure_users(count=reviewers)
    templates = ensure_world(campaigns=campaigns, days=days, seed=seed, report=report)
    rng = random.Random(seed)
    history = history_needed(proposals=proposals, events=events)
    if history:
        started = time.perf_counter()
        written = add_history(templates=templates, count=history, reviewers=users, rng=rng)
        report.step("history", started, f"{history:,} decided proposals, {written:,} audit events")
    missing = proposals - decidable_pending().count()
    if missing > 0:
        started = time.perf_counter()
        written = add_pending(templates=templates, count=missing)
        report.step("pending", started, f"{missing:,} pending proposals, {written:,} audit events")
    if len(report.steps) > 1:
        started = time.perf_counter()
        analyze()
        report.step("analyze", started, "planner statistics for the new rows")
    report.seconds = time.perf_counter() - began
    return report


def analyze() -> None:
    # Fresh statistics, as autovacuum would have them on a database that grew over months.
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("decisions_proposal", "decisions_review", "decisions_auditevent"):
            cursor.execute(f"ANALYZE {table}")


def ensure_users(*, count: int) -> dict:
    """Reviewers (marketers, one per client) and a superuser for the admin, all with BENCH_PASSWORD."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from decisions import access as roles

    group, _ = Group.objects.get_or_create(name=roles.MARKETER)
    password = make_password(BENCH_PASSWORD)
    reviewers = []
    for number in range(1, count + 1):
        user, _ = User.objects.get_or_create(
            username=f"{REVIEWER_PREFIX}{number:02d}", defaults={"password": password, "first_name": "Bench"}
        )
        user.groups.add(group)
        reviewers.append(user)
    admin, _ = User.objects.get_or_create(
        username=SUPERUSER, defaults={"password": password, "is_staff": True, "is_superuser": True}
    )
    return {"reviewers": reviewers, "admin": admin}


def ensure_world(*, campaigns: int, days: int, seed: int, report: FillReport) -> list[int]:
    """Campaigns, numbers, guardrails and one engine run; returns the ids of the engine's own proposals."""
    from decisions.demo import seed as demo
    from decisions.generation import service as generating
    from decisions.generation import tasks
    from decisions.models import Campaign, GenerationRun, Proposal

    if not Campaign.objects.exists():
        started = time.perf_counter()
        seeded = demo.demo_seed(n_campaigns=campaigns, days=days, seed=seed)
        report.step("demo world", started, f"{seeded.campaigns:,} campaigns, {seeded.metric_rows:,} daily rows")
    first_run = GenerationRun.objects.order_by("pk").first()
    if first_run is None:
        started = time.perf_counter()
        run = generating.generation_start().run
        tasks.generate_proposals.delay(run.pk)
        run.refresh_from_db()
        report.step("engine run", started, f"{run.counts.get('proposals', 0)} proposals ({run.status})")
        first_run = run
    templates = list(Proposal.objects.filter(run=first_run).order_by("pk").values_list("pk", flat=True))
    if not templates:
        raise SystemExit("The engine proposed nothing on this world; try more --campaigns or --days.")
    return templates


def decidable_pending():
    from django.db.models import Q
    from django.utils import timezone

    from decisions.models import Proposal

    now = timezone.now()
    return Proposal.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), status="pending")


def history_needed(*, proposals: int, events: int) -> int:
    """How many decided proposals bring the log to `events` once the pending clones have theirs."""
    from decisions.models import AuditEvent

    pending_events = max(0, proposals - decidable_pending().count())
    missing = events - AuditEvent.objects.count() - pending_events
    per_proposal = sum(share * (3 if status == "applied" else 2) for status, share in HISTORY_OUTCOMES)
    # The shares round: a shortfall of a few events is the fill's own rounding, not worth a top-up.
    return int(missing / per_proposal) if missing > max(10, events // 1000) else 0


# The clones are made by the database itself: every column of a template, a new key, priority and age.
CLONE_SQL = """
INSERT INTO decisions_proposal (run_id, kind, campaign_id, lever, changes, rationale, evidence, platform_view,
    guardrail_verdicts, expected_metric, expected_per, expected_mean, expected_low, expected_high, p_loss,
    priority, model_version, status, idempotency_key, created_at, expires_at, decided_at)
SELECT t.run_id, t.kind, t.campaign_id, t.lever, t.changes, t.rationale, t.evidence, t.platform_view,
    t.guardrail_verdicts, t.expected_metric, t.expected_per, t.expected_mean, t.expected_low, t.expected_high,
    t.p_loss, round((t.priority * (0.2 + 1.6 * random()))::numeric, 2), t.model_version, %(status)s,
    md5(%(tag)s || g || '-' || t.id || '-' || random()), %(created)s - random() * %(spread)s,
    %(expires)s, CASE WHEN %(status)s = 'pending' THEN NULL ELSE %(created)s END
FROM generate_series(1, %(rounds)s) AS g CROSS JOIN decisions_proposal AS t
WHERE t.id = ANY(%(templates)s)
ORDER BY g, t.id
LIMIT %(count)s
RETURNING id
"""


def clone(*, templates: list[int], count: int, status: str, created: dt.datetime, spread: dt.timedelta, expires):
    from django.db import connection

    rounds = -(-count // len(templates))
    params = {
        "templates": templates,
        "rounds": rounds,
        "count": count,
        "status": status,
        "tag": f"bench-{status}-{secrets.token_hex(4)}-",
        "created": created,
        "spread": spread,
        "expires": expires,
    }
    with connection.cursor() as cursor:
        cursor.execute(CLONE_SQL, params)
        return sorted(row[0] for row in cursor.fetchall())


def add_pending(*, templates: list[int], count: int) -> int:
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic():
        ids = clone(
            templates=templates,
            count=count,
            status="pending",
            created=now,
            spread=dt.timedelta(days=3),
            expires=now + dt.timedelta(days=365),
        )
        return write_events(created_events(ids))


def created_events(ids: list[int]):
    """proposal.created for each new pending proposal, as the engine writes it; one batch per chunk."""
    from decisions.models import Proposal

    fields = ("id", "changes", "expected_metric", "expected_per", "expected_mean", "expected_low", "expected_high")
    for chunk in _chunks(ids, 5000):
        rows = Proposal.objects.filter(pk__in=chunk).order_by("pk").values(*fields, "p_loss", "created_at")
        yield [_created(row, {k.removeprefix("expected_"): row[k] for k in fields[2:]}) for row in rows]


def _created(row: dict, expected: dict):
    return _event(
        "proposal.created",
        proposal_id=row["id"],
        label="engine",
        at=row["created_at"],
        machine_payload={"changes": row["changes"], "expected_impact": expected, "p_loss": row["p_loss"]},
    )


def add_history(*, templates: list[int], count: int, reviewers: dict, rng: random.Random) -> int:
    """Decided proposals from the past year, each with its review (if a person decided) and its events."""
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    written = 0
    with transaction.atomic():
        for status, share in HISTORY_OUTCOMES:
            ids = clone(
                templates=templates,
                count=int(round(count * share)),
                status=status,
                created=now - dt.timedelta(days=4),
                spread=dt.timedelta(days=365),
                expires=now - dt.timedelta(days=1),
            )
            written += write_events(history_events(ids, status=status, reviewers=reviewers["reviewers"], rng=rng))
    return written


def history_events(ids: list[int], *, status: str, reviewers: list, rng: random.Random):
    """Events of decided proposals in proposal order, one batch per chunk; their reviews are written on the way."""
    from decisions.models import Proposal, Review

    for chunk in _chunks(ids, 5000):
        reviews: list[Review] = []
        rows = Proposal.objects.filter(pk__in=chunk).order_by("pk").values("id", "changes", "created_at")
        events = [event for row in rows for event in _decided(row, status, reviewers, rng, reviews)]
        Review.objects.bulk_create(reviews, batch_size=5000)
        yield events


def _decided(row: dict, status: str, reviewers: list, rng: random.Random, reviews: list):
    """One decided proposal's events: created, the decision, and the apply when it was applied."""
    from decisions.models import Review

    at = row["created_at"]
    yield _event("proposal.created", proposal_id=row["id"], label="engine", at=at, machine_payload=_changes(row))
    decided = at + dt.timedelta(hours=rng.uniform(0.2, 60))
    if status in ("applied", "rejected"):
        reviewer = rng.choice(reviewers)
        decision = "approved" if status == "applied" else "rejected"
        reason = rng.choice(REJECT_REASONS) if decision == "rejected" else ""
        reviews.append(
            Review(
                proposal_id=row["id"],
                reviewer=reviewer,
                reviewer_label=reviewer.username,
                decision=decision,
                final_changes=row["changes"],
                reason_code=reason,
            )
        )
        yield _event(
            f"proposal.{decision}",
            proposal_id=row["id"],
            actor_id=reviewer.pk,
            label=reviewer.username,
            at=decided,
            machine_payload=_changes(row),
            human_payload={"decision": decision, "final_changes": row["changes"], "bulk": False},
            reason=reason,
        )
    else:
        yield _event(f"proposal.{status}", proposal_id=row["id"], label="system", at=decided)
    if status == "applied":
        yield _event(
            "application.succeeded",
            proposal_id=row["id"],
            label="system",
            at=decided + dt.timedelta(seconds=rng.uniform(1, 30)),
            machine_payload={"direction": "apply", "connector": "ledger", "changes": row["changes"]},
        )


def _changes(row: dict) -> dict:
    return {"changes": row["changes"]}


def _event(action: str, *, proposal_id, label: str, at, actor_id=None, machine_payload=None, **extra):
    # event_hash reads attributes only: a namespace is enough and ten times cheaper than a model instance.
    return types.SimpleNamespace(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        proposal_id=proposal_id,
        guardrail_id=None,
        machine_payload=machine_payload or {},
        human_payload=extra.get("human_payload", {}),
        reason=extra.get("reason", ""),
        request_id="",
        created_at=at,
    )


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


EVENT_COLUMNS = (
    "id",
    "actor_id",
    "actor_label",
    "action",
    "proposal_id",
    "guardrail_id",
    "machine_payload",
    "human_payload",
    "reason",
    "request_id",
    "created_at",
    "prev_hash",
    "hash",
)


def write_events(batches) -> int:
    """COPY batches of events onto the end of the chain; call inside a transaction (the chain lock lasts till commit).

    Each batch is read from the database before its COPY starts: a connection cannot query during a COPY.
    """
    from django.db import connection

    from decisions import audit
    from decisions.models import AuditEvent

    audit._lock_chain()
    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first() or (0, "")
    next_id, previous = last[0] + 1, last[1]
    written = 0
    copy_sql = f"COPY decisions_auditevent ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor:
        for batch in batches:
            with cursor.cursor.copy(copy_sql) as copy:
                for event in batch:
                    event.prev_hash = previous
                    event.hash = previous = audit.event_hash(event)
                    copy.write_row(
                        (
                            next_id + written,
                            event.actor_id,
                            event.actor_label,
                            event.action,
                            event.proposal_id,
                            None,
                            json.dumps(event.machine_payload),
                            json.dumps(event.human_payload),
                            event.reason,
                            "",
                            event.created_at,
                            event.prev_hash,
                            event.hash,
                        )
                    )
                    written += 1
        if written:
            # Ids were given explicitly: move the sequence past them for the services' inserts.
            sequence = "pg_get_serial_sequence('decisions_auditevent', 'id')"
            cursor.execute(f"SELECT setval({sequence}, %s)", [next_id + written - 1])
    return written


# --- 2. pages in process -------------------------------------------------------------------


@dataclass(frozen=True)
class PageTiming:
    page: str
    rows: int
    median_ms: float
    p95_ms: float
    queries: int  # the most any timed request ran
    kb: float


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def time_page(client, path: str, *, label: str, requests: int, warmup: int = 10) -> PageTiming:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
    times, queries = [], 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        queries = max(queries, len(captured.captured_queries))
    body = response.content.decode()
    # A queue row, or an admin changelist row (the admin is read-only, so its rows carry no action checkbox).
    rows = body.count('class="proposal status-') + body.count('<th class="field-id">')
    return PageTiming(
        page=label,
        rows=rows,
        median_ms=statistics.median(times),
        p95_ms=percentile(times, 95),
        queries=queries,
        kb=len(response.content) / 1024,
    )


def queue_page_sizes() -> tuple[int, ...]:
    """The page sizes the queue view accepts through ?per_page= (just the default when it has none)."""
    from decisions.views import queue

    return tuple(getattr(queue, "PAGE_SIZES", ())) or (25,)


def time_pages(*, requests: int, warmup: int = 10) -> list[PageTiming]:
    from django.contrib.auth.models import User
    from django.test import Client, override_settings
    from django.urls import reverse

    reviewer = User.objects.get(username=f"{REVIEWER_PREFIX}01")
    admin = User.objects.get(username=SUPERUSER)
    queue_url, admin_url = reverse("decisions:queue"), reverse("admin:decisions_proposal_changelist")
    timings = []
    # DEBUG off as in production (no query log kept per request); static URLs stay unhashed.
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        marketer_client, admin_client = Client(), Client()
        marketer_client.force_login(reviewer)
        admin_client.force_login(admin)
        for size in queue_page_sizes():
            path = f"{queue_url}?per_page={size}"
            timings.append(time_page(marketer_client, path, label=f"queue {path}", requests=requests, warmup=warmup))
        # The expected value waiting: its own request, asked for once the queue is drawn and after decisions.
        path = reverse("decisions:queue-waiting")
        label = f"value waiting {path}"
        timings.append(time_page(marketer_client, path, label=label, requests=requests, warmup=warmup))
        for path in (admin_url, f"{admin_url}?status__exact=pending"):
            timings.append(time_page(admin_client, path, label=f"admin {path}", requests=requests, warmup=warmup))
    return timings


# --- 2b. one approval in process, beside the raw floor; the chain's lock during a bulk approval -----------------

# The floor: the same writes as an approval (the conditional update, the review, the outbox row, the audit event
# linked onto the chain under its lock), as one psycopg transaction with nothing else around it.
RAW_CLAIM_SQL = (
    "UPDATE decisions_proposal SET status = 'approved', decided_at = now() WHERE id = %s AND status = 'pending' "
    "AND (expires_at IS NULL OR expires_at > now()) RETURNING changes"
)
RAW_REVIEW_SQL = (
    "INSERT INTO decisions_review (proposal_id, reviewer_id, reviewer_label, decision, final_changes, reason_code, "
    "note, by_policy, created_at) VALUES (%s, %s, %s, 'approved', %s, '', '', false, now())"
)
RAW_OUTBOX_SQL = (
    "INSERT INTO decisions_application (proposal_id, direction, platform, connector, changes, idempotency_key, "
    "status, attempts, last_error, created_at, updated_at) "
    "VALUES (%s, 'apply', '', 'ledger', %s, %s, 'pending', 0, '', now(), now())"
)
RAW_EVENT_SQL = (
    "INSERT INTO decisions_auditevent (actor_id, actor_label, action, proposal_id, guardrail_id, machine_payload, "
    "human_payload, reason, request_id, created_at, prev_hash, hash) "
    "VALUES (%s, %s, 'proposal.approved', %s, NULL, %s, %s, '', '', %s, %s, %s)"
)


@dataclass(frozen=True)
class InProcessTiming:
    label: str
    median_ms: float
    p95_ms: float
    count: int


@dataclass(frozen=True)
class BulkLockTiming:
    proposals: int
    approved: int
    seconds: float
    longest_hold_ms: float  # the longest the chain's lock stayed taken while the bulk approval ran
    holds: int  # how many times it was taken
    single_write_ms: float  # one approval's own transaction (the service alone, median), for comparison


def raw_connection():
    """A psycopg connection of its own to the benchmark database (autocommit off: one transaction per approval)."""
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )


def raw_approve(conn, pk: int, reviewer) -> None:
    from psycopg.types.json import Jsonb

    from decisions import audit

    with conn.cursor() as cursor:
        cursor.execute(RAW_CLAIM_SQL, [pk])
        (changes,) = cursor.fetchone()
        cursor.execute(RAW_REVIEW_SQL, [pk, reviewer.pk, reviewer.username, Jsonb(changes)])
        cursor.execute(RAW_OUTBOX_SQL, [pk, Jsonb(changes), f"raw-floor-{pk}-{secrets.token_hex(4)}"])
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [audit._CHAIN_LOCK_KEY])
        cursor.execute("SELECT hash FROM decisions_auditevent ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        event = _event(
            "proposal.approved",
            proposal_id=pk,
            actor_id=reviewer.pk,
            label=reviewer.username,
            at=dt.datetime.now(dt.UTC),
            machine_payload={"changes": changes},
            human_payload={"decision": "approved", "final_changes": changes, "bulk": False},
        )
        event.prev_hash = row[0] if row else ""
        event.hash = audit.event_hash(event)
        cursor.execute(
            RAW_EVENT_SQL,
            [
                reviewer.pk,
                reviewer.username,
                pk,
                Jsonb(event.machine_payload),
                Jsonb(event.human_payload),
                event.created_at,
                event.prev_hash,
                event.hash,
            ],
        )
    conn.commit()


@contextlib.contextmanager
def applies_not_queued():
    """In this process Celery runs eagerly: an apply would run at COMMIT and move the campaign, turning later
    approvals into cooldown prompts and out-of-date refusals. Here the apply is left in the outbox instead."""
    from decisions import queueing

    original = queueing.queue_follow_up
    queueing.queue_follow_up = lambda task, *args: True
    try:
        yield
    finally:
        queueing.queue_follow_up = original


def time_in_process(*, targets: list[int], warmup: int = 5) -> list[InProcessTiming]:
    """Three ways of approving one proposal, in turn (so the machine's load falls on each alike): the raw floor,
    the service (transitions.proposal_approve on a loaded proposal), and the htmx POST the Approve button sends
    (test Client: the view, the service and the redrawn row)."""
    from django.contrib.auth.models import User
    from django.test import Client, override_settings

    from decisions.models import Proposal
    from decisions.review import transitions as reviewing

    reviewer = User.objects.get(username=f"{REVIEWER_PREFIX}01")
    thirds = [targets[i::3] for i in range(3)]
    times: dict[str, list[float]] = {"raw": [], "service": [], "view": []}
    conn = raw_connection()
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]), applies_not_queued():
        client = Client()
        client.force_login(reviewer)
        for number, (raw_pk, service_pk, view_pk) in enumerate(zip(*thirds, strict=False)):
            started = time.perf_counter()
            raw_approve(conn, raw_pk, reviewer)
            raw_ms = (time.perf_counter() - started) * 1000
            proposal = Proposal.objects.get(pk=service_pk)
            started = time.perf_counter()
            reviewing.proposal_approve(proposal=proposal, actor=reviewer)
            service_ms = (time.perf_counter() - started) * 1000
            headers = approve_headers(view_pk, "testserver")
            shown = thirds[2][number : number + SHOWN_ROWS]
            started = time.perf_counter()
            response = client.post(f"/proposals/{view_pk}/approve/", {"ids": shown}, headers=headers)
            view_ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or b"note-success" not in response.content:
                raise SystemExit(f"in-process approval of {view_pk} answered {response.status_code}")
            if number >= warmup:
                times["raw"].append(raw_ms)
                times["service"].append(service_ms)
                times["view"].append(view_ms)
    conn.close()
    labels = {
        "raw": "raw psycopg transaction (the floor)",
        "service": "transitions.proposal_approve (service)",
        "view": "POST /proposals/<id>/approve/ (htmx, row redrawn)",
    }
    return [
        InProcessTiming(labels[key], statistics.median(values), percentile(values, 95), len(values))
        for key, values in times.items()
    ]


@contextlib.contextmanager
def chain_holds():
    """Each time the audit chain's lock is held, in ms: from the moment it is granted to the end of the COMMIT
    that releases it (a transaction-scoped lock). Times every _lock_chain call of this process."""
    from django.db import transaction

    from decisions import audit

    holds: list[float] = []
    original = audit._lock_chain

    def timed() -> None:
        original()
        granted = time.perf_counter()
        transaction.on_commit(lambda: holds.append((time.perf_counter() - granted) * 1000))

    audit._lock_chain = timed
    try:
        yield holds
    finally:
        audit._lock_chain = original


def time_bulk_lock(*, targets: list[int], single_write_ms: float) -> BulkLockTiming:
    """Bulk-approve `targets`, timing every hold of the chain's lock: the longest is what every other reviewer
    could have waited behind this bulk approval."""
    from django.contrib.auth.models import User

    from decisions.models import Proposal
    from decisions.review import transitions as reviewing

    reviewer = User.objects.get(username=f"{REVIEWER_PREFIX}02")
    with applies_not_queued(), chain_holds() as holds:
        started = time.perf_counter()
        result = reviewing.proposals_bulk_approve(
            proposals=Proposal.objects.filter(pk__in=targets).order_by("-priority", "id"), actor=reviewer
        )
        seconds = time.perf_counter() - started
    return BulkLockTiming(
        proposals=len(targets),
        approved=result.approved,
        seconds=seconds,
        longest_hold_ms=max(holds, default=0.0),
        holds=len(holds),
        single_write_ms=single_write_ms,
    )


# --- 3. approvals over HTTP ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    redis_url: str
    celery_queue: str

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def server_env(*, database_url: str, redis_url: str, celery_queue: str) -> dict[str, str]:
    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CELERY_QUEUE")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_QUEUE=celery_queue,
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        WAYPOINT_AUDIT_KEY=settings.WAYPOINT_AUDIT_KEY,  # BENCH_AUDIT_KEY unless the caller chose one
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
        # The suite runs the server under its own settings (a fast password hasher for its users).
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
    )
    return env


def start_server(*, database_url: str, workers: int, redis_url: str, timeout: float = 30) -> Server:
    port = free_port()
    queue = f"wp-review-bench-{os.getpid()}-{secrets.token_hex(3)}"
    log = Path(tempfile.mkstemp(prefix="review-bench-gunicorn-", suffix=".log")[1])
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=server_env(database_url=database_url, redis_url=redis_url, celery_queue=queue),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = Server(process=process, port=port, log=log, redis_url=redis_url, celery_queue=queue)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}):\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            status, _, _ = request(port, "GET", "/")  # anonymous: a redirect to the login page
            if status in (301, 302):
                return server
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def request(port: int, method: str, path: str, *, body: dict | None = None, headers: dict | None = None):
    """One HTTP request on a fresh loopback connection (gunicorn's sync workers close after each)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = urllib.parse.urlencode(body, doseq=True).encode() if body is not None else None
        all_headers = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class Session:
    """A logged-in browser: its own cookies (session and CSRF), logged in through the real login form."""

    def __init__(self, port: int):
        self.port = port
        # Django accepts a CSRF secret chosen by the client; the login answer rotates it.
        self.cookies = {"csrftoken": secrets.token_hex(16)}

    def _headers(self, extra: dict | None = None) -> dict:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {"Cookie": cookie, **(extra or {})}

    def _remember(self, headers) -> None:
        for line in headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value

    def get(self, path: str, headers: dict | None = None):
        status, response_headers, content = request(self.port, "GET", path, headers=self._headers(headers))
        self._remember(response_headers)
        return status, response_headers, content

    def post(self, path: str, body: dict, headers: dict | None = None):
        body = {"csrfmiddlewaretoken": self.cookies["csrftoken"], **body}
        status, response_headers, content = request(self.port, "POST", path, body=body, headers=self._headers(headers))
        self._remember(response_headers)
        return status, response_headers, content

    def login(self, username: str, password: str) -> None:
        status, headers, _ = self.post("/login/", {"username": username, "password": password})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {username} answered {status}")


@dataclass
class ApprovalRun:
    attempted: int = 0
    approved: list[int] = field(default_factory=list)
    refused: list[tuple[int, int]] = field(default_factory=list)  # (proposal, HTTP status): not approved
    errors: list[tuple[int, str]] = field(default_factory=list)  # (proposal, what went wrong)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_by_time: bool = False
    queued_applies: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def per_second(self) -> float:
        return len(self.approved) / self.seconds if self.seconds else 0.0


def approval_targets(count: int) -> list[int]:
    """The top of the queue: pending proposals whose stored guardrail verdicts all pass."""
    failing = json.dumps([{"passed": False}])
    queryset = decidable_pending().extra(where=["NOT (guardrail_verdicts @> %s::jsonb)"], params=[failing])
    ids = list(queryset.order_by("-priority", "id").values_list("pk", flat=True)[:count])
    if len(ids) < count:
        raise SystemExit(f"only {len(ids)} pending proposals pass every guardrail; need {count}")
    return ids


def approve_all(*, port: int, sessions: list[Session], targets: list[int], seconds: float) -> ApprovalRun:
    """Each session approves its own share of the targets, all at once, until done or out of time."""
    run = ApprovalRun()
    shares = [targets[i :: len(sessions)] for i in range(len(sessions))]
    deadline = time.monotonic() + seconds
    start = threading.Barrier(len(sessions) + 1)

    def client(session: Session, share: list[int]) -> None:
        start.wait()
        for number, pk in enumerate(share):
            if time.monotonic() > deadline:
                run.stopped_by_time = True
                return
            _approve_one(session, pk, run, shown=share[number : number + SHOWN_ROWS])

    threads = [threading.Thread(target=client, args=pair, daemon=True) for pair in zip(sessions, shares, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    run.seconds = time.perf_counter() - began
    return run


def approve_headers(pk: int, host: str) -> dict:
    """What the queue's Approve button sends: htmx's headers, the page it is on (so the answer redraws the queue's
    count and bulk button out of band, as in a browser)."""
    return {"HX-Request": "true", "HX-Target": f"proposal-{pk}", "HX-Current-URL": f"http://{host}/"}


def _approve_one(session: Session, pk: int, run: ApprovalRun, *, shown: list[int]) -> None:
    headers = approve_headers(pk, f"127.0.0.1:{session.port}")
    started = time.perf_counter()
    try:
        # The form also sends the ids the page's bulk button holds: the rows shown, this one first.
        status, _, content = session.post(f"/proposals/{pk}/approve/", {"ids": shown}, headers)
    except (OSError, http.client.HTTPException) as failure:
        with run.lock:
            run.attempted += 1
            run.errors.append((pk, f"{type(failure).__name__}: {failure}"))
        return
    elapsed = (time.perf_counter() - started) * 1000
    with run.lock:
        run.attempted += 1
        run.latencies_ms.append(elapsed)
        if status == 200 and b"note-success" in content:
            run.approved.append(pk)
        elif status in (200, 403, 409):
            run.refused.append((pk, status))  # a guardrail prompt or someone first: answered, not approved
        else:
            run.errors.append((pk, f"HTTP {status}"))


def run_approvals(*, database_url: str, redis_url: str, clients: int, approvals: int, workers: int, seconds: float):
    targets = approval_targets(approvals)
    server = start_server(database_url=database_url, workers=workers, redis_url=redis_url)
    try:
        sessions = [Session(server.port) for _ in range(clients)]
        for number, session in enumerate(sessions, start=1):
            session.login(f"{REVIEWER_PREFIX}{number:02d}", BENCH_PASSWORD)
        warm_up(sessions, targets[0], requests=max(3 * workers, len(sessions)))
        run = approve_all(port=server.port, sessions=sessions, targets=targets, seconds=seconds)
    finally:
        stop_server(server)
    run.queued_applies = drain_queue(server)
    if run.errors:
        print(f"gunicorn log (last lines):\n{server.log_tail()}", file=sys.stderr)
    server.log.unlink(missing_ok=True)
    return run, targets


def warm_up(sessions: list[Session], pk: int, *, requests: int) -> None:
    """Let every gunicorn worker load its URLs and templates before the clock starts: the row a reviewer sees."""
    for number in range(requests):
        status, _, _ = sessions[number % len(sessions)].get(f"/proposals/{pk}/?row=1", {"HX-Request": "true"})
        if status != 200:
            raise RuntimeError(f"warm-up request answered {status}")


def drain_queue(server: Server) -> int:
    """How many apply tasks the approvals queued; then the private queue is deleted."""
    import redis

    client = redis.Redis.from_url(server.redis_url)
    try:
        return int(client.llen(server.celery_queue))
    finally:
        bindings = (f"_kombu.binding.{server.celery_queue}", f"_kombu.binding_permanent.{server.celery_queue}")
        client.delete(server.celery_queue, *bindings)
        client.close()


# --- 3b. what the database says about the approvals --------------------------------------


@dataclass(frozen=True)
class ApprovalCheck:
    approved_in_db: int
    lost: int  # a client saw "approved", the database has no single approval
    doubled: int  # more than one review or approval event for one proposal, or an outbox row too many
    unseen: int  # approved in the database though the client saw an error
    chain_ok: bool
    chain_problem: str
    verify_seconds: float
    events_written: int
    apply_rows: int  # outbox rows the approvals wrote: one per ad platform a proposal's changes touch


def check_approvals(run: ApprovalRun, targets: list[int], *, first_event_id: int) -> ApprovalCheck:
    from django.db.models import Count

    from decisions import audit
    from decisions.delivery import routing
    from decisions.models import AuditEvent, Proposal

    rows = Proposal.objects.filter(pk__in=targets).annotate(
        n_reviews=Count("review", distinct=True),
        n_applications=Count("applications", distinct=True),
    )
    approvals = dict(
        AuditEvent.objects.filter(action="proposal.approved", proposal_id__in=targets)
        .values_list("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    by_pk = {row.pk: row for row in rows}
    seen = set(run.approved)
    lost = doubled = unseen = approved_in_db = apply_rows = 0
    for pk in targets:
        row = by_pk[pk]
        platforms = len(routing.routes(row.changes))
        counts = (row.n_reviews, approvals.get(pk, 0), row.n_applications)
        if row.status == "approved":
            approved_in_db += 1
            apply_rows += row.n_applications
        if counts[0] > 1 or counts[1] > 1 or counts[2] > platforms:
            doubled += 1
        if pk in seen and (row.status != "approved" or counts != (1, 1, platforms)):
            lost += 1
        if pk not in seen and (row.status != "pending" or any(counts)):
            unseen += 1
    started = time.perf_counter()
    problem = audit.verify_chain()
    verify_seconds = time.perf_counter() - started
    return ApprovalCheck(
        approved_in_db=approved_in_db,
        lost=lost,
        doubled=doubled,
        unseen=unseen,
        chain_ok=problem is None,
        chain_problem="" if problem is None else f"event {problem.event_id}: {problem.problem}",
        verify_seconds=verify_seconds,
        events_written=AuditEvent.objects.filter(id__gte=first_event_id).count(),
        apply_rows=apply_rows,
    )


# --- 4. tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    goal: str
    measured: str
    met: bool


def judge(
    pages: list[PageTiming],
    run: ApprovalRun | None,
    check: ApprovalCheck | None,
    in_process: list[InProcessTiming] | None = None,
    bulk: BulkLockTiming | None = None,
) -> list[Goal]:
    queue = [p for p in pages if p.page.startswith("queue")]
    admin_pending = next((p for p in pages if p.page.startswith("admin") and "pending" in p.page), None)
    goals = []
    if queue:
        worst = max(queue, key=lambda p: p.p95_ms)
        goals.append(
            Goal(
                f"queue p95 ≤ {GOAL_P95_MS:.0f} ms",
                f"{worst.p95_ms:.1f} ms (worst: {worst.page})",
                worst.p95_ms <= GOAL_P95_MS,
            )
        )
        most = max(p.queries for p in queue)
        sizes = "/".join(str(p.queries) for p in queue)
        goals.append(Goal("≤ 10 queries whatever the page size", f"{sizes} queries", most <= GOAL_QUERIES))
    if queue and admin_pending:
        same = max(queue, key=lambda p: p.rows)
        goals.append(
            Goal(
                "faster than the admin changelist (p95, same rows)",
                f"queue {same.p95_ms:.1f} ms vs admin {admin_pending.p95_ms:.1f} ms ({same.rows} rows)",
                same.p95_ms < admin_pending.p95_ms,
            )
        )
    if in_process:
        raw, view = in_process[0], in_process[-1]
        times = view.median_ms / raw.median_ms if raw.median_ms else float("inf")
        goals.append(
            Goal(
                f"an approval in process ≤ {GOAL_TIMES_RAW:.0f}× the raw transaction",
                f"{times:.1f}× ({view.median_ms:.1f} ms vs {raw.median_ms:.2f} ms, medians)",
                times <= GOAL_TIMES_RAW,
            )
        )
    if bulk is not None:
        goals.append(
            Goal(
                "bulk holds the chain ≤ one approval's write",
                f"longest hold {bulk.longest_hold_ms:.1f} ms vs raw write p95 {bulk.single_write_ms:.1f} ms",
                bulk.longest_hold_ms <= bulk.single_write_ms,
            )
        )
    if run is not None and check is not None:
        p95 = percentile(run.latencies_ms or [0.0], 95)
        goals.append(
            Goal(
                f"≥ {GOAL_APPROVALS_PER_S:.0f} approvals/s, p95 ≤ {GOAL_APPROVAL_P95_MS:.0f} ms",
                f"{run.per_second:.0f}/s ({len(run.approved)} in {run.seconds:.1f} s), p95 {p95:.0f} ms",
                run.per_second >= GOAL_APPROVALS_PER_S and p95 <= GOAL_APPROVAL_P95_MS,
            )
        )
        intact = check.lost == 0 and check.doubled == 0 and check.unseen == 0 and check.chain_ok
        intact = intact and not run.errors and run.queued_applies == check.apply_rows
        goals.append(
            Goal(
                "none lost or doubled",
                f"lost {check.lost}, doubled {check.doubled}, unseen {check.unseen}, errors {len(run.errors)}, "
                f"chain {'ok' if check.chain_ok else 'BROKEN'}",
                intact,
            )
        )
    return goals


def print_fill(report: FillReport, out) -> None:
    from decisions.models import AuditEvent, Campaign, DailyMetric, Proposal

    print(
        f"data: {Campaign.objects.count():,} campaigns, {DailyMetric.objects.count():,} daily rows, "
        f"{Proposal.objects.count():,} proposals ({decidable_pending().count():,} pending), "
        f"{AuditEvent.objects.count():,} audit events",
        file=out,
    )
    if not report.steps[1:]:
        print(f"fill: already filled (checked in {report.seconds:.1f} s)", file=out)
        return
    print(f"fill: {report.seconds:.1f} s", file=out)
    for name, seconds, what in report.steps:
        print(f"  {name:<12} {seconds:>7.1f} s  {what}", file=out)


def print_pages(pages: list[PageTiming], out) -> None:
    header = (
        f"{'page (in process, test Client)':<52} {'rows':>5} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'KB':>6}"
    )
    print(f"\n{header}", file=out)
    for p in pages:
        print(f"{p.page:<52} {p.rows:>5} {p.median_ms:>10.1f} {p.p95_ms:>8.1f} {p.queries:>8} {p.kb:>6.0f}", file=out)


def print_in_process(timings: list[InProcessTiming], bulk: BulkLockTiming | None, out) -> None:
    floor = timings[0].median_ms
    print(
        f"\n{'one approval (in process, interleaved)':<52} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'× raw':>7}",
        file=out,
    )
    for t in timings:
        times = t.median_ms / floor if floor else float("inf")
        print(f"{t.label:<52} {t.count:>5} {t.median_ms:>10.2f} {t.p95_ms:>8.2f} {times:>7.1f}", file=out)
    if bulk is not None:
        print(
            f"\nbulk approval of {bulk.proposals} in process: {bulk.approved} approved in {bulk.seconds:.2f} s; "
            f"the audit chain's lock taken {bulk.holds} times, held at most {bulk.longest_hold_ms:.1f} ms",
            file=out,
        )


def print_approvals(run: ApprovalRun, check: ApprovalCheck, *, clients: int, workers: int, out) -> None:
    latencies = run.latencies_ms or [0.0]
    print(f"\napprovals over HTTP: gunicorn -w {workers}, {clients} clients", file=out)
    rows = [
        ("attempted", f"{run.attempted}" + (" (stopped by --seconds)" if run.stopped_by_time else "")),
        ("approved (client saw it)", f"{len(run.approved)}"),
        ("approvals/s", f"{run.per_second:.1f} over {run.seconds:.1f} s"),
        (
            "latency median / p95",
            f"{statistics.median(latencies):.0f} / {percentile(latencies, 95):.0f} ms",
        ),
        ("refused (prompt, 403, 409)", f"{len(run.refused)}"),
        ("errors", f"{len(run.errors)}" + (f" e.g. {run.errors[0]}" if run.errors else "")),
        ("approved in the database", f"{check.approved_in_db}"),
        ("lost / doubled / unseen", f"{check.lost} / {check.doubled} / {check.unseen}"),
        ("apply tasks queued", f"{run.queued_applies}"),
        ("audit events written", f"{check.events_written}"),
        (
            "verify_chain() (whole log)",
            ("passes" if check.chain_ok else f"FAILS at {check.chain_problem}") + f" in {check.verify_seconds:.1f} s",
        ),
    ]
    for name, value in rows:
        print(f"  {name:<28} {value}", file=out)


def load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def print_goals(goals: list[Goal], out) -> None:
    print(f"\n{'goal':<52} {'measured':<64} verdict", file=out)
    for goal in goals:
        print(f"{goal.goal:<52} {goal.measured:<64} {'met' if goal.met else 'NOT met'}", file=out)


def main(argv: list[str] | None = None, out=None) -> list[Goal]:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=100_000, help="pending proposals (default 100,000)")
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events (default 1,000,000)")
    parser.add_argument("--campaigns", type=int, default=1000, help="simulated campaigns (default 1,000)")
    parser.add_argument("--days", type=int, default=180, help="days of numbers per campaign (default 180)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent approving clients (default 20)")
    parser.add_argument("--approvals", type=int, default=3000, help="approvals to send (default 3,000)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--seconds", type=float, default=120, help="time limit of the approval run (default 120)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--in-process", type=int, default=120, help="in-process approvals per way (default 120)")
    parser.add_argument("--bulk", type=int, default=100, help="proposals in the timed bulk approval (default 100)")
    parser.add_argument("--skip-approvals", action="store_true", help="fill and time the pages only")
    parser.add_argument("--no-http", action="store_true", help="approvals in process only (no gunicorn run)")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (see the docstring).")
    setup_django()
    from django.db import connection

    from decisions.models import AuditEvent

    report = fill_database(
        proposals=args.proposals,
        events=args.events,
        campaigns=args.campaigns,
        days=args.days,
        reviewers=max(args.clients, 1),
    )
    print(f"database: {connection.settings_dict['NAME']} on PostgreSQL {connection.pg_version // 10000}", file=out)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load()} (other work on the machine slows every number)",
        file=out,
    )
    print_fill(report, out)
    pages = time_pages(requests=args.requests)
    print_pages(pages, out)
    run = check = in_process = bulk = None
    if not args.skip_approvals:
        print(f"  {'load average':<28} {load()}", file=out)
        in_process = time_in_process(targets=approval_targets(3 * args.in_process))
        bulk = time_bulk_lock(targets=approval_targets(args.bulk), single_write_ms=in_process[0].p95_ms)
        print_in_process(in_process, bulk, out)
        print(f"  {'load average':<28} {load()}", file=out)
    if not args.skip_approvals and not args.no_http:
        first_event_id = (AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        connection.close()  # gunicorn's workers get the database to themselves while they run
        run, targets = run_approvals(
            database_url=database_url,
            redis_url=args.redis_url,
            clients=args.clients,
            approvals=args.approvals,
            workers=args.workers,
            seconds=args.seconds,
        )
        check = check_approvals(run, targets, first_event_id=first_event_id)
        print_approvals(run, check, clients=args.clients, workers=args.workers, out=out)
        print(f"  {'load average after':<28} {load()}", file=out)
    goals = judge(pages, run, check, in_process, bulk)
    print_goals(goals, out)
    return goals


if __name__ == "__main__":
    main()
