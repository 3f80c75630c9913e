"""The review benchmark at toy sizes: it fills a correct chain, times both pages, and approves over real gunicorn."""

import os

import pytest
from django.db import connection

from benchmarks import review_benchmark as rb
from decisions import audit
from decisions.models import AuditEvent, Proposal, Review

pytestmark = [pytest.mark.slow, pytest.mark.services]

SIZES = {"proposals": 200, "events": 2000, "campaigns": 40, "days": 120}


@pytest.fixture(autouse=True)
def benchmark_audit_key(settings):
    """The benchmark's gunicorn runs with DEBUG=0 under this key; the suite's rows must be keyed alike."""
    settings.WAYPOINT_AUDIT_KEY = rb.BENCH_AUDIT_KEY


@pytest.fixture
def filled(transactional_db):
    # transactional: gunicorn's workers read the same test database, so the rows must be committed.
    if connection.vendor != "postgresql":
        pytest.skip("the review benchmark runs on PostgreSQL only (set DATABASE_URL)")
    return rb.fill_database(**SIZES, reviewers=2)


def test_it_fills_a_correct_chain_once_and_times_both_pages(filled):
    assert rb.decidable_pending().count() >= SIZES["proposals"]
    assert AuditEvent.objects.count() >= SIZES["events"] * 0.95
    assert Review.objects.filter(decision="rejected").exists()
    assert audit.verify_chain() is None
    assert [name for name, _, _ in filled.steps][-3:] == ["history", "pending", "analyze"]
    assert [name for name, _, _ in rb.fill_database(**SIZES, reviewers=2).steps] == ["migrate"]

    pages = rb.time_pages(requests=3, warmup=1)

    queue = [p for p in pages if p.page.startswith("queue")]
    admin = [p for p in pages if p.page.startswith("admin")]
    assert [p.rows for p in queue] == [min(size, SIZES["proposals"]) for size in rb.queue_page_sizes()]
    assert [p.rows for p in admin] == [100, 100]
    assert all(p.queries > 0 and p.p95_ms >= p.median_ms > 0 for p in pages)


def test_two_clients_approve_over_gunicorn_and_nothing_is_lost_or_doubled(filled):
    database_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    first_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() + 1

    run, targets = rb.run_approvals(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        clients=2,
        approvals=20,
        workers=2,
        seconds=60,
    )
    check = rb.check_approvals(run, targets, first_event_id=first_event)

    assert sorted(run.approved) == sorted(targets) and not run.errors
    # One outbox row, so one queued apply, per ad platform each approved shift touches.
    assert run.queued_applies == check.apply_rows >= 20
    assert Proposal.objects.filter(pk__in=targets, status="approved").count() == 20
    assert (check.lost, check.doubled, check.unseen, check.chain_ok) == (0, 0, 0, True)
    assert check.events_written == 20
    goals = rb.judge([], run, check)
    assert [g.goal for g in goals] == ["≥ 120 approvals/s, p95 ≤ 250 ms", "none lost or doubled"]
    assert goals[1].met


def test_one_approval_is_timed_beside_the_raw_floor_and_bulk_holds_the_chain_briefly(filled):
    targets = rb.approval_targets(9)
    timings = rb.time_in_process(targets=targets, warmup=1)

    assert [t.label.split(" ")[0] for t in timings] == ["raw", "transitions.proposal_approve", "POST"]
    assert all(t.count == 2 and t.p95_ms >= t.median_ms > 0 for t in timings)
    # Every way really approved its proposal: a review, an outbox row and a chained event each.
    assert Review.objects.filter(proposal_id__in=targets).count() == 9
    assert audit.verify_chain() is None

    bulk = rb.time_bulk_lock(targets=rb.approval_targets(5), single_write_ms=timings[0].p95_ms)
    assert (bulk.proposals, bulk.approved, bulk.holds) == (5, 5, 5)  # one short hold per proposal
    assert 0 < bulk.longest_hold_ms < bulk.seconds * 1000
    goals = rb.judge([], None, None, timings, bulk)
    assert [g.goal for g in goals] == [
        "an approval in process ≤ 5× the raw transaction",
        "bulk holds the chain ≤ one approval's write",
    ]
    assert audit.verify_chain() is None
