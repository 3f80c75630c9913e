"""Many reviewers deciding one proposal at once, on PostgreSQL where they really run in parallel."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from decisions import audit
from decisions.models import Application, AuditEvent, Proposal, Review
from decisions.review import transitions as reviewing
from tests.factories import ProposalFactory, marketer

REVIEWERS = 50


@pytest.fixture
def postgres_transactions(transactional_db):
    """Real commits (each thread has its own connection), and only where rows are truly locked."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def decide_all_at_once(proposal: Proposal, reviewers: list) -> Counter:
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(reviewers))

    def decide(index: int, reviewer) -> None:
        try:
            start.wait()
            # Half approve, half reject: the race is between different decisions too.
            if index % 2:
                reviewing.proposal_reject(proposal=proposal, actor=reviewer, reason_code="timing")
            else:
                reviewing.proposal_approve(proposal=proposal, actor=reviewer)
            outcome = "decided"
        except reviewing.AlreadyDecided:
            outcome = "already decided"
        except Exception as error:  # noqa: BLE001 - any other outcome must show up in the assertion
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=decide, args=(i, r)) for i, r in enumerate(reviewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_simultaneous_decisions_record_exactly_one(postgres_transactions):
    proposal = ProposalFactory()
    reviewers = [marketer() for _ in range(REVIEWERS)]

    outcomes = decide_all_at_once(proposal, reviewers)

    assert outcomes == {"decided": 1, "already decided": REVIEWERS - 1}
    review = Review.objects.get(proposal=proposal)
    proposal.refresh_from_db()
    expected = Proposal.Status.REJECTED if review.decision == Review.Decision.REJECTED else Proposal.Status.APPLIED
    assert proposal.status == expected
    decisions = AuditEvent.objects.filter(action__in=["proposal.approved", "proposal.rejected"])
    assert decisions.count() == 1
    assert decisions.get().actor_id == review.reviewer_id
    assert Application.objects.filter(proposal=proposal).count() == (0 if expected == "rejected" else 1)
    assert audit.verify_chain() is None
