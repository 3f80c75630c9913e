"""The one timeline reader: the proposal page, the queue's detail and History word a proposal's events alike."""

import pytest
from django.urls import reverse

from decisions import audit
from decisions.audit import timeline
from decisions.models import Proposal
from decisions.review import transitions as reviewing
from tests.factories import ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db

EXPECTED = {"metric": "pipeline_value", "per": "week", "mean": 120.0, "low": 80.0, "high": 160.0}
EXPECTED_LINE = "Expected +$120/week (80% range +$80.00 to +$160) of pipeline value"


def test_the_timeline_is_the_proposals_own_events_oldest_first():
    proposal, other = ProposalFactory(), ProposalFactory()
    audit.record(action="proposal.created", label="engine", proposal=proposal)
    audit.record(action="proposal.created", label="engine", proposal=other)
    audit.record(action="proposal.rejected", proposal=proposal, reason="timing")
    assert [e.action for e in timeline.proposal_timeline(proposal)] == ["proposal.created", "proposal.rejected"]
    assert [e.action for e in timeline.proposal_timeline(proposal, limit=1)] == ["proposal.rejected"]


def test_a_long_log_shows_its_newest_events_in_one_query(django_assert_num_queries):
    proposal = ProposalFactory()
    written = [audit.record(action="application.retried", proposal=proposal) for _ in range(timeline.NEWEST + 10)]
    with django_assert_num_queries(1):
        events = timeline.proposal_timeline(proposal)
    assert [e.pk for e in events] == [e.pk for e in written[-timeline.NEWEST :]]


@pytest.mark.parametrize("key", ["expected", "expected_impact"])
def test_the_expected_impact_is_read_under_its_new_key_and_its_old_one(key):
    proposal = ProposalFactory()
    changes = [{"campaign": "C1", "field": "daily_budget", "from": 100, "to": 120}]
    audit.record(action="proposal.created", proposal=proposal, machine_payload={"changes": changes, key: EXPECTED})
    (created,) = timeline.proposal_timeline(proposal)
    assert created.summary == "Proposed by the engine"
    assert created.details == ["C1 daily budget: $100 → $120", EXPECTED_LINE]


def test_an_action_this_version_does_not_know_shows_its_stored_name():
    proposal = ProposalFactory()
    audit.record(action="proposal.annotated", proposal=proposal)
    (event,) = timeline.proposal_timeline(proposal)
    assert (event.summary, event.details, event.is_override, event.diff) == ("proposal.annotated", [], False, [])


def test_an_auto_approval_is_worded_with_the_policys_version():
    proposal = ProposalFactory()
    audit.record(action="proposal.auto_approved", proposal=proposal, human_payload={"policy_version": 3})
    assert timeline.proposal_timeline(proposal)[0].summary == "Approved by the auto-approval policy (v3)"


def rejected_with_a_note() -> Proposal:
    proposal = ProposalFactory()
    audit.record(action="proposal.created", label="engine", proposal=proposal, machine_payload={"expected": EXPECTED})
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="timing", note="After the launch")
    return proposal


def test_the_proposal_page_shows_the_events_in_the_words_history_uses(client):
    proposal = rejected_with_a_note()
    client.force_login(viewer())
    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    history = client.get(reverse("decisions:history")).content.decode()
    for words in ("Proposed by the engine", EXPECTED_LINE, "Rejected (reason: Timing)", "“After the launch”"):
        assert words in page and words in history
    assert "proposal.created" not in page and "proposal.rejected" not in page
    assert '<span class="badge warn">override</span>' in page


def test_the_queues_inline_detail_shows_the_same_timeline(client):
    proposal = rejected_with_a_note()
    client.force_login(viewer())
    detail = client.get(reverse("decisions:proposal", args=[proposal.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Rejected (reason: Timing)" in detail and "proposal.rejected" not in detail


def test_the_proposal_page_lists_only_the_newest_events(client):
    proposal = ProposalFactory()
    for _ in range(timeline.NEWEST + 5):
        audit.record(action="application.retried", proposal=proposal)
    client.force_login(viewer())
    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert page.count('class="timeline-event') == timeline.NEWEST
