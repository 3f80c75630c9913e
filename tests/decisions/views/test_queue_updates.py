"""What an htmx decision answers besides its row: the outcome for the one live region and, on the queue page, the
count and the bulk button as they stand now (out-of-band swaps); and the bulk result blames nobody wrongly.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from decisions.models import Proposal, Review
from decisions.review import transitions as reviewing
from objectives.models import Severity
from tests.decisions.views.review_support import HTMX, budget_limit, status_of, url
from tests.factories import CampaignFactory, ProposalFactory, marketer

pytestmark = pytest.mark.django_db


def from_queue(query: str = "") -> dict:
    """An htmx request made from the queue page (htmx names the page in HX-Current-URL)."""
    return {**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver/{query}"}


def oob(body: str, element_id: str) -> str:
    """The out-of-band fragment with this id, or "" when the answer has none."""
    match = re.search(rf'<(\w+) id="{element_id}"[^>]*hx-swap-oob="[^"]+"[^>]*>(.*?)</\1>', body, re.S)
    return match.group(2) if match else ""


def shown_ids(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', oob(body, "bulk-approve"))]


def waiting(count: int) -> list[Proposal]:
    return [ProposalFactory(priority=100 - i) for i in range(count)]


# --- the count and the bulk button follow each decision on the queue page ----------------------


def test_approving_on_the_queue_redraws_the_count_and_the_bulk_button_without_it(client, reviewer):
    first, *others = waiting(3)
    shown = [p.pk for p in (first, *others)]
    response = client.post(url("proposal-approve", first.pk), {"ids": shown}, **from_queue())
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2</strong>\n  proposals waiting" in oob(body, "queue-count")
    assert "Approve all shown that pass every guardrail (2)" in oob(body, "bulk-approve")
    assert shown_ids(body) == [p.pk for p in others]
    # The value waiting refreshes itself with a request of its own, asked for by this event.
    assert response.headers["HX-Trigger"] == '{"decided-on-queue": {}}'


def test_rejecting_on_the_queue_redraws_them_too(client, reviewer):
    first, second = waiting(2)
    body = client.post(
        url("proposal-reject", first.pk),
        {"reason_code": Review.Reason.TOO_RISKY, "ids": [first.pk, second.pk]},
        **from_queue(),
    ).content.decode()
    assert status_of(first) == Proposal.Status.REJECTED
    assert "<strong>1</strong>\n  proposal waiting" in oob(body, "queue-count")
    assert shown_ids(body) == [second.pk]


def test_the_count_follows_the_filters_of_the_page_decided_on(client, reviewer):
    social = [ProposalFactory(campaign=CampaignFactory(channel="social")) for _ in range(3)]
    ProposalFactory(campaign=CampaignFactory(channel="search"))
    body = client.post(url("proposal-approve", social[0].pk), **from_queue("?channel=social")).content.decode()
    assert "<strong>2</strong>\n  proposals waiting that match these filters" in oob(body, "queue-count")


def test_the_bulk_button_never_gains_a_proposal_the_reviewer_was_not_shown(client, reviewer):
    first, second, unseen = waiting(3)
    body = client.post(url("proposal-approve", first.pk), {"ids": [first.pk, second.pk]}, **from_queue()).content
    assert shown_ids(body.decode()) == [second.pk]


def test_the_last_qualifying_decision_empties_the_bulk_button(client, reviewer):
    (only,) = waiting(1)
    body = client.post(url("proposal-approve", only.pk), {"ids": [only.pk]}, **from_queue()).content.decode()
    assert '<div id="bulk-approve" hx-swap-oob="true">' in body
    assert "Approve all shown" not in body and shown_ids(body) == []


def test_a_decision_someone_else_took_first_still_updates_the_count(client, reviewer):
    first, second = waiting(2)
    reviewing.proposal_approve(proposal=first, actor=marketer(username="ann"))
    response = client.post(url("proposal-approve", first.pk), {"ids": [first.pk, second.pk]}, **from_queue())
    body = response.content.decode()
    assert response.status_code == 409
    assert "<strong>1</strong>\n  proposal waiting" in oob(body, "queue-count")
    assert shown_ids(body) == [second.pk]


def test_a_decision_on_the_proposals_own_page_redraws_no_queue_count(client, reviewer):
    proposal = ProposalFactory()
    page = {**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver{url('proposal', proposal.pk)}"}
    body = client.post(url("proposal-approve", proposal.pk), **page).content.decode()
    assert 'id="queue-count"' not in body and 'id="bulk-approve"' not in body
    assert oob(body, "announcer").startswith("Approved:")


# --- the outcome is spoken once, by base.html's live region -------------------------------------


def test_the_outcome_goes_to_the_one_live_region_not_a_status_inside_the_row(client, reviewer):
    proposal = ProposalFactory()
    body = client.post(url("proposal-approve", proposal.pk), **from_queue()).content.decode()
    assert '<div id="announcer" hx-swap-oob="innerHTML">Approved: ' in body
    row = body[: body.index("</tbody>")]
    assert 'role="status"' not in row and 'role="alert"' not in row and "aria-live" not in row


def test_a_warning_question_is_announced(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity=Severity.WARN)
    body = client.post(url("proposal-approve", proposal.pk), **from_queue()).content.decode()
    assert "Confirm that you approve over the warnings." in oob(body, "announcer")
    assert 'name="confirm_warnings"' in body


def test_a_refused_rejection_says_why_in_the_live_region(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-reject", proposal.pk), {"note": "no reason given"}, **from_queue())
    assert response.status_code == 422
    assert oob(response.content.decode(), "announcer").startswith("Not saved:")


def test_cancel_announces_that_nothing_was_decided(client, reviewer):
    proposal = ProposalFactory()
    body = client.get(url("proposal", proposal.pk), {"row": 1}, **from_queue()).content.decode()
    assert oob(body, "announcer") == "Closed without a decision: the proposal still waits."


def test_without_javascript_a_decision_still_redirects_with_its_message(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), follow=True)
    assert "announcer" in response.content.decode()  # the empty region, on every page
    assert "hx-swap-oob" not in response.content.decode()
    assert "Approved: " in response.content.decode()


# --- bulk approval: the reviewer's own decisions are not "someone else's" ------------------------


def test_bulk_approve_does_not_blame_someone_else_for_the_reviewers_own_decision(client, reviewer):
    mine, theirs, fresh = waiting(3)
    reviewing.proposal_approve(proposal=mine, actor=reviewer)
    reviewing.proposal_approve(proposal=theirs, actor=marketer(username="ann"))
    response = client.post(url("bulk-approve"), {"ids": [mine.pk, theirs.pk, fresh.pk]}, follow=True)
    body = response.content.decode()
    assert "Approved 1 proposal; 1 you had already decided; 1 already decided by someone else." in body
    assert status_of(fresh) == Proposal.Status.APPROVED


def test_bulk_approve_says_an_expired_proposal_is_no_longer_waiting(client, reviewer):
    expired = ProposalFactory(expires_at=timezone.now() - dt.timedelta(hours=1))
    reviewing.proposal_expire_due()
    response = client.post(url("bulk-approve"), {"ids": [expired.pk]}, follow=True)
    body = response.content.decode()
    assert "1 no longer waiting (expired, replaced by a newer proposal or auto-approved)" in body
    assert "someone else" not in body
