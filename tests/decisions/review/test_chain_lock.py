"""The audit chain's lock is held for the audit insert only: decisions write their events last, in one insert.

On PostgreSQL the lock is a transaction-scoped advisory lock taken right before the events are appended, so
whatever a transaction writes before its events runs without it. These tests read the SQL each service sends
(on any database): the events' INSERT comes after every other write of the transaction, and a sweep or a bulk
undo appends all of its events in one INSERT.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from decisions import audit
from decisions.models import AuditEvent, Proposal
from decisions.review import transitions as reviewing
from tests.decisions.views.review_support import applied_proposal
from tests.factories import ProposalFactory, marketer

pytestmark = pytest.mark.django_db

AUDIT_INSERT = 'INSERT INTO "decisions_auditevent"'


def writes(captured) -> list[str]:
    """The tables written, in order (INSERT and UPDATE statements only)."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith(("INSERT INTO", "UPDATE")):
            found.append(sql.split('"')[1])
    return found


def test_an_approval_appends_its_event_after_the_outbox_row():
    proposal = ProposalFactory()
    with CaptureQueriesContext(connection) as captured:
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    tables = writes(captured)
    assert tables[-1] == "decisions_auditevent"
    assert tables.index("decisions_application") < tables.index("decisions_auditevent")
    assert audit.verify_chain() is None


def test_an_expiry_sweep_appends_every_event_in_one_insert_at_the_end():
    from django.utils import timezone

    past = timezone.now() - timezone.timedelta(hours=1)
    proposals = [ProposalFactory(expires_at=past) for _ in range(3)]
    with CaptureQueriesContext(connection) as captured:
        assert reviewing.proposal_expire_due() == 3
    tables = writes(captured)
    assert tables.count("decisions_auditevent") == 1 and tables[-1] == "decisions_auditevent"
    assert AuditEvent.objects.filter(action="proposal.expired").count() == 3
    assert {p.status for p in Proposal.objects.filter(pk__in=[p.pk for p in proposals])} == {"expired"}
    assert audit.verify_chain() is None


def test_a_bulk_approval_writes_each_proposal_in_its_own_short_step():
    proposals = [ProposalFactory() for _ in range(3)]
    with CaptureQueriesContext(connection) as captured:
        result = reviewing.proposals_bulk_approve(proposals=proposals, actor=marketer())
    assert result.approved == 3
    tables = writes(captured)
    # Each proposal: claim, review, outbox row, then its event; the chain is free again before the next claim.
    events_at = [i for i, table in enumerate(tables) if table == "decisions_auditevent"]
    assert len(events_at) == 3
    for position in events_at[:-1]:
        assert tables[position + 1] == "decisions_proposal"
    assert audit.verify_chain() is None


def test_deferred_events_keep_the_chain_in_order_and_a_refused_step_writes_none():
    first, second = applied_proposal(), applied_proposal()
    with transaction.atomic(), audit.deferred():
        reviewing.proposal_rollback(proposal=first, actor=marketer(), reason="kept")
        with pytest.raises(ValueError), audit.deferred():
            audit.record(action="proposal.rolled_back", proposal=second, reason="dropped")
            raise ValueError("refused after recording")
    reasons = list(AuditEvent.objects.filter(action="proposal.rolled_back").values_list("reason", flat=True))
    assert reasons == ["kept"]
    assert audit.verify_chain() is None


@pytest.mark.django_db(transaction=True)
def test_deferring_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"), audit.deferred():
        pass
