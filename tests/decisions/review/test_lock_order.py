"""Bulk approval racing single decisions: one lock order, so no deadlock; and a deadlock victim is run again."""

import threading
from collections import Counter

import pytest
from django.db import OperationalError, connection, connections, transaction

from decisions import audit
from decisions.models import AuditEvent, Proposal, Review
from decisions.review import retrying
from decisions.review import transitions as reviewing
from tests.factories import ProposalFactory, marketer

ROUNDS = 20
PROPOSALS_PER_ROUND = 10
DECISIONS = ["proposal.approved", "proposal.rejected"]


# --- the race, on PostgreSQL where decisions really run in parallel -------------------------------------------


def race_bulk_against_singles(proposals: list[Proposal], bulk_reviewer, single_reviewers: list) -> Counter:
    """One bulk approval of every proposal, and single decisions of some of them in the opposite order."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    singles = list(reversed(proposals[::3]))
    start = threading.Barrier(1 + len(single_reviewers))

    def note(outcome: str) -> None:
        with lock:
            outcomes[outcome] += 1

    def bulk() -> None:
        try:
            start.wait()
            reviewing.proposals_bulk_approve(proposals=proposals, actor=bulk_reviewer)
            note("bulk done")
        except Exception as error:  # noqa: BLE001 - any escaping error must show up in the assertion
            note(f"bulk {type(error).__name__}: {error}")
        finally:
            connections.close_all()

    def single(index: int, reviewer) -> None:
        try:
            start.wait()
            for proposal in singles:
                try:
                    if index % 2:
                        reviewing.proposal_reject(proposal=proposal, actor=reviewer, reason_code="timing")
                    else:
                        reviewing.proposal_approve(proposal=proposal, actor=reviewer)
                    note("single decided")
                except reviewing.AlreadyDecided:
                    note("single already decided")
        except Exception as error:  # noqa: BLE001
            note(f"single {type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bulk)]
    threads += [threading.Thread(target=single, args=(i, r)) for i, r in enumerate(single_reviewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_bulk_approval_racing_single_decisions_never_deadlocks_or_escapes(require_postgres):
    bulk_reviewer = marketer()
    single_reviewers = [marketer(), marketer()]
    for _ in range(ROUNDS):
        proposals = [ProposalFactory() for _ in range(PROPOSALS_PER_ROUND)]

        outcomes = race_bulk_against_singles(proposals, bulk_reviewer, single_reviewers)

        escaped = {outcome: n for outcome, n in outcomes.items() if "Error" in outcome or "Exception" in outcome}
        assert escaped == {}
        assert outcomes["bulk done"] == 1
        for proposal in proposals:
            assert Review.objects.filter(proposal=proposal).count() == 1
            assert AuditEvent.objects.filter(proposal=proposal, action__in=DECISIONS).count() == 1
    assert audit.verify_chain() is None


@pytest.mark.django_db(transaction=True)
def test_bulk_approval_commits_each_proposal_on_its_own(monkeypatch):
    proposals = [ProposalFactory() for _ in range(3)]
    calls = []
    real_approve = reviewing._approve

    def approve_then_fail_on_the_last(**kwargs):
        calls.append(kwargs["proposal"].pk)
        if len(calls) == len(proposals):
            raise RuntimeError("the worker died")
        return real_approve(**kwargs)

    monkeypatch.setattr(
        reviewing, "_approve_one_of_many", retrying.atomic_retried_on_deadlock(approve_then_fail_on_the_last)
    )

    with pytest.raises(RuntimeError):
        reviewing.proposals_bulk_approve(proposals=proposals, actor=marketer())

    # The ones approved before the failure stay approved: nothing held them (or the chain) for the whole loop.
    assert Review.objects.filter(proposal__in=proposals[:2]).count() == 2
    assert not Review.objects.filter(proposal=proposals[2]).exists()


# --- the retry, anywhere ---------------------------------------------------------------------------------------


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def failing_first(times: int, sqlstate: str = retrying.DEADLOCK_DETECTED):
    """A transaction body that loses `times` deadlocks (as Django raises them) and then writes its review."""
    attempts = []

    def body(*, proposal, actor):
        attempts.append(proposal.pk)
        if len(attempts) <= times:
            try:
                raise FakeDriverError(sqlstate)
            except FakeDriverError as cause:
                raise OperationalError("deadlock detected") from cause
        return reviewing.proposal_reject.__wrapped__(proposal=proposal, actor=actor, reason_code="timing")

    return body, attempts


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_victim_runs_again_and_decides_once():
    proposal = ProposalFactory()
    body, attempts = failing_first(1)

    retrying.atomic_retried_on_deadlock(body)(proposal=proposal, actor=marketer())

    assert len(attempts) == 2
    assert Review.objects.filter(proposal=proposal).count() == 1
    assert AuditEvent.objects.filter(proposal=proposal, action="proposal.rejected").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_decision_that_keeps_losing_deadlocks_gives_up_after_three_attempts():
    proposal = ProposalFactory()
    body, attempts = failing_first(retrying.ATTEMPTS)

    with pytest.raises(OperationalError):
        retrying.atomic_retried_on_deadlock(body)(proposal=proposal, actor=marketer())

    assert len(attempts) == retrying.ATTEMPTS
    assert not Review.objects.filter(proposal=proposal).exists()


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    proposal = ProposalFactory()
    body, attempts = failing_first(1, sqlstate="53300")  # too many connections

    with pytest.raises(OperationalError):
        retrying.atomic_retried_on_deadlock(body)(proposal=proposal, actor=marketer())

    assert len(attempts) == 1


@pytest.mark.django_db(transaction=True)
def test_inside_an_outer_transaction_the_deadlock_goes_up_to_its_owner():
    proposal = ProposalFactory()
    body, attempts = failing_first(1)

    with pytest.raises(OperationalError), transaction.atomic():
        retrying.atomic_retried_on_deadlock(body)(proposal=proposal, actor=marketer())

    assert len(attempts) == 1
    assert connection.in_atomic_block is False
