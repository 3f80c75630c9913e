"""Applying an audience action publishes its customer list; a rollback withdraws it (and gives the audience back
the action it had); the ledger by default, the webhook when WAYPOINT_CONNECTORS routes the "audiences" platform."""

import pytest
from django.utils import timezone

from decisions import audiences, targets
from decisions.delivery import outbox as applying
from decisions.models import Application, AudienceList, AuditEvent, Proposal
from decisions.review import transitions as reviewing
from tests.decisions.experiments.audience_support import CONTROL, MENS, WOMENS, audience_proposal, make_test
from tests.factories import marketer

pytestmark = pytest.mark.django_db

# Ages 23 (inclusive) to 40 (exclusive), in the North.
SEGMENT = {"region": ["North"], "age": {"min": 23, "max": 40}}
CUSTOMERS = [
    ("A-22", MENS, 10.0, {"age": 22, "region": "North"}),  # below min
    ("A-23", CONTROL, 10.0, {"age": 23, "region": "North"}),  # min is inclusive
    ("A-39", WOMENS, 10.0, {"age": 39.5, "region": "North"}),
    ("A-40", MENS, 10.0, {"age": 40, "region": "North"}),  # max is exclusive
    ("B-30", MENS, 10.0, {"age": 30, "region": "South"}),  # another region
    ("", CONTROL, 10.0, {"age": 30, "region": "North"}),  # in the audience, no id
    ("C-none", MENS, 10.0, {"age": None, "region": "North"}),  # no age: meets no range
]


def approve_and_apply(proposal: Proposal) -> Application:
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    row = Application.objects.get(proposal=proposal, direction="apply")
    return applying.application_apply(application_id=row.pk)


def roll_back(proposal: Proposal) -> Application:
    row = reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="The list went to the wrong shop")
    return applying.application_apply(application_id=row.pk)


def test_applying_publishes_the_audience_s_customers_linked_to_the_proposal():
    make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT)
    row = approve_and_apply(proposal)

    proposal.refresh_from_db()
    assert (row.status, proposal.status) == (Application.Status.SUCCEEDED, Proposal.Status.APPLIED)
    published = AudienceList.objects.get()
    assert published.proposal == proposal and published.action == MENS and published.live
    assert published.customer_ids == ["A-23", "A-39"]
    assert published.without_id == 1
    event = AuditEvent.objects.get(action="audience_list.published")
    assert event.proposal == proposal
    assert event.machine_payload["customers"] == 2 and event.machine_payload["by_proposal"] == proposal.pk
    assert targets.current_values(proposal.changes)[targets.ref(proposal.changes[0])]["action"] == MENS


def test_the_same_audience_written_in_another_order_is_the_same_list():
    make_test(CUSTOMERS)
    approve_and_apply(audience_proposal(SEGMENT))
    reordered = {"age": {"max": 40, "min": 23}, "region": ["North"]}
    assert audiences.current_action(AudienceList.objects.get().experiment, reordered) == MENS


def test_a_rollback_withdraws_the_list_and_the_audience_gets_the_control_again():
    experiment = make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT)
    approve_and_apply(proposal)
    row = roll_back(proposal)

    proposal.refresh_from_db()
    assert row.status == Application.Status.SUCCEEDED and proposal.status == Proposal.Status.ROLLED_BACK
    withdrawn = AudienceList.objects.get()
    assert withdrawn.withdrawn_at is not None and not withdrawn.live
    assert audiences.current_action(experiment, SEGMENT) == CONTROL
    assert AuditEvent.objects.filter(action="audience_list.withdrawn", proposal=proposal).count() == 1


def test_rolling_back_a_second_action_re_publishes_the_first_for_its_own_proposal():
    experiment = make_test(CUSTOMERS)
    first = audience_proposal(SEGMENT)
    approve_and_apply(first)
    second = audience_proposal(SEGMENT, frm=MENS, to=WOMENS)
    approve_and_apply(second)
    assert audiences.current_action(experiment, SEGMENT) == WOMENS
    assert AudienceList.objects.get(proposal=first).withdrawn_at is not None

    roll_back(second)

    live = AudienceList.objects.get(withdrawn_at__isnull=True)
    assert live.action == MENS and live.proposal == first
    assert live.customer_ids == ["A-23", "A-39"]
    assert AudienceList.objects.filter(proposal=second, withdrawn_at__isnull=False).count() == 1


def test_approving_a_proposal_whose_audience_moved_since_is_refused():
    experiment = make_test(CUSTOMERS)
    audiences.set_action({"experiment": experiment.name, "segment": SEGMENT}, WOMENS, now=timezone.now())
    stale = audience_proposal(SEGMENT)  # starts from the control, but the audience gets Womens e-mail now

    with pytest.raises(reviewing.ProposalOutOfDate, match="not the no_email"):
        reviewing.proposal_approve(proposal=stale, actor=marketer())
    stale.refresh_from_db()
    assert stale.status == Proposal.Status.PENDING
    assert AudienceList.objects.filter(withdrawn_at__isnull=True).get().action == WOMENS


def test_an_audience_that_moved_between_approval_and_apply_fails_the_row_and_publishes_nothing():
    experiment = make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT)
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    audiences.set_action({"experiment": experiment.name, "segment": SEGMENT}, WOMENS, now=timezone.now())

    row = applying.application_apply(application_id=Application.objects.get(proposal=proposal).pk)

    proposal.refresh_from_db()
    assert row.status == Application.Status.FAILED and proposal.status == Proposal.Status.FAILED
    assert "this proposal started from" in row.last_error
    assert not AudienceList.objects.filter(proposal=proposal).exists()


def test_an_arm_the_test_does_not_have_fails_for_good():
    make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT, to="kids")
    row = approve_and_apply(proposal)
    assert row.status == Application.Status.FAILED and "No audience" in row.last_error
    assert not AudienceList.objects.exists()


# --- the webhook ------------------------------------------------------------------------------------


@pytest.fixture
def audiences_by_webhook(receiver, settings):
    server = receiver([])
    settings.WAYPOINT_CONNECTOR = "ledger"  # campaigns stay on the ledger; only audience lists go out
    settings.WAYPOINT_CONNECTORS = {targets.AUDIENCE_PLATFORM: "webhook"}
    return server


def test_the_webhook_carries_the_list_and_waypoint_records_it(audiences_by_webhook, django_capture_on_commit_callbacks):
    server = audiences_by_webhook
    make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT)
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())

    row = Application.objects.get(proposal=proposal)
    assert (row.connector, row.platform, row.status) == ("webhook", "audiences", Application.Status.SUCCEEDED)
    body = server.requests[0]["body"]
    assert server.requests[0]["signed"] and body["direction"] == "apply"
    sent = body["changes"][0]["audience_list"]
    assert sent["operation"] == "publish" and sent["withdraw"] is None
    assert sent["publish"]["customer_ids"] == ["A-23", "A-39"]
    assert (sent["publish"]["count"], sent["publish"]["without_id"]) == (2, 1)
    assert sent["publish"]["action"] == {
        "arm": MENS,
        "name": "Mens e-mail",
        "subject_line": "New in for him",
        "message": "",
        "control": False,
    }
    recorded = AudienceList.objects.get()
    assert recorded.proposal == proposal and recorded.customer_ids == sent["publish"]["customer_ids"]


def test_a_rollback_s_webhook_says_withdraw(audiences_by_webhook, django_capture_on_commit_callbacks):
    server = audiences_by_webhook
    make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT)
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="Wrong week")

    body = server.requests[-1]["body"]
    sent = body["changes"][0]["audience_list"]
    assert body["direction"] == "rollback" and sent["operation"] == "withdraw"
    assert sent["publish"] is None
    assert sent["withdraw"]["action"]["arm"] == MENS and sent["withdraw"]["count"] == 2
    assert AudienceList.objects.get().withdrawn_at is not None


def test_a_refused_webhook_records_no_list(audiences_by_webhook, django_capture_on_commit_callbacks):
    audiences_by_webhook.script.extend([422])
    make_test(CUSTOMERS)
    proposal = audience_proposal(SEGMENT)
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert Application.objects.get(proposal=proposal).status == Application.Status.FAILED
    assert not AudienceList.objects.exists()
