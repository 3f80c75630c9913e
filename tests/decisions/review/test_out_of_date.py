"""A proposal whose campaign moved since the engine computed it is never applied as a now-different move.

The case from the issue: a raise of Search – Non-brand #10 from $324 to $336 stays pending while a Google Ads
import sets that budget to $350; approving it must not set $336 (a cut). It is refused at decision time (by a
reviewer, an edit, bulk approval and the auto-approval policy), at apply time (the outbox row fails for good),
shown as out of date in the queue, and a rollback of a change whose campaign moved since is refused too.
"""

import io
import threading
from decimal import Decimal

import pytest
from django.utils.html import escape

from decisions.audit.actions import Action
from decisions.data import importing
from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, Campaign, Proposal, Review
from decisions.review import autoapproval, kinds
from decisions.review import transitions as reviewing
from decisions.views.presenters import decorate
from objectives import services as objective_services
from objectives.models import Severity
from tests.decisions.delivery.receiver import SECRET, TIMEOUT, Receiver
from tests.decisions.views.review_support import HTMX, actions, status_of, url
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db

NAME = "Search – Non-brand #10"
MESSAGE = (
    "Search – Non-brand #10's daily budget is $350 now, not the $324 this proposal started from; "
    "the next run will propose again from today's daily budget."
)


@pytest.fixture
def reviewer(client):
    user = marketer()
    client.force_login(user)
    return user


@pytest.fixture
def webhook(settings):
    """A receiver that answers every change with 200, and the webhook connector pointed at it."""
    server = Receiver(["ok"] * 5, None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.WAYPOINT_CONNECTOR = "webhook"
    settings.WAYPOINT_WEBHOOK_URL = server.url
    settings.WAYPOINT_WEBHOOK_SECRET = SECRET
    settings.WAYPOINT_WEBHOOK_TIMEOUT = TIMEOUT
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def campaign():
    return CampaignFactory(external_id="SIM-0010", name=NAME, daily_budget=Decimal("324.00"), platform="google_ads")


def raise_of(campaign: Campaign, *, start: float = 324.0, to: float = 336.0, **fields) -> Proposal:
    change = {"campaign": campaign.external_id, "field": "daily_budget", "from": start, "to": to}
    return ProposalFactory(campaign=campaign, changes=[change], **fields)


def import_budget(campaign: Campaign, budget: str) -> None:
    """What a Google Ads import does to the campaign table: the latest day's budget becomes the campaign's."""
    data = f"date,campaign_id,daily_budget,spend\n2026-11-20,{campaign.external_id},{budget},300\n".encode()
    outcome = importing.import_performance(stream=io.BytesIO(data), filename="google-ads.csv")
    assert outcome.ok, outcome.problems


def budget_of(campaign: Campaign) -> Decimal:
    return Campaign.objects.values_list("daily_budget", flat=True).get(pk=campaign.pk)


# --- decision time ------------------------------------------------------------------------------


def test_approving_a_raise_after_an_import_moved_the_budget_is_refused_and_changes_nothing(campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "350")

    with pytest.raises(reviewing.ProposalOutOfDate) as refused:
        reviewing.proposal_approve(proposal=proposal, actor=marketer(), confirm_warnings=True)

    assert str(refused.value) == MESSAGE
    assert budget_of(campaign) == Decimal("350.00")
    assert status_of(proposal) == Proposal.Status.PENDING
    assert not Review.objects.exists() and not Application.objects.exists()
    assert actions(proposal) == []


def test_an_out_of_date_refusal_comes_before_the_guardrail_question(campaign):
    GuardrailFactory(kind="max_budget_change_pct", params={"pct": 1}, severity=Severity.WARN)
    proposal = raise_of(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(daily_budget=Decimal("350"))
    with pytest.raises(reviewing.ProposalOutOfDate):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())


def test_money_compares_to_the_cent(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(daily_budget=Decimal("324.00"))
    reviewing.proposal_approve(proposal=raise_of(campaign, start=323.999), actor=marketer())

    Campaign.objects.filter(pk=campaign.pk).update(daily_budget=Decimal("324.01"))
    with pytest.raises(reviewing.ProposalOutOfDate):
        reviewing.proposal_approve(proposal=raise_of(campaign), actor=marketer())


def test_a_pause_of_a_campaign_paused_meanwhile_is_out_of_date(campaign):
    change = {"campaign": campaign.external_id, "field": "status", "from": "active", "to": "paused"}
    proposal = ProposalFactory(campaign=campaign, kind=kinds.PAUSE.name, changes=[change])
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
    with pytest.raises(reviewing.ProposalOutOfDate, match="status is paused now, not the active"):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())


def test_editing_the_values_of_an_out_of_date_proposal_is_refused_too(campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "350")
    edited = [{"campaign": campaign.external_id, "field": "daily_budget", "to": 330.0}]
    with pytest.raises(reviewing.ProposalOutOfDate):
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=edited)
    assert budget_of(campaign) == Decimal("350.00")
    assert status_of(proposal) == Proposal.Status.PENDING


def test_rejecting_an_out_of_date_proposal_is_still_possible(campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "350")
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="timing")
    assert status_of(proposal) == Proposal.Status.REJECTED


def test_bulk_approval_leaves_out_of_date_proposals_and_says_so(campaign):
    stale, fresh = raise_of(campaign), ProposalFactory()
    import_budget(campaign, "350")

    result = reviewing.proposals_bulk_approve(proposals=[stale, fresh], actor=marketer())

    assert (result.approved, result.out_of_date, result.already_decided) == (1, 1, 0)
    assert status_of(stale) == Proposal.Status.PENDING
    assert status_of(fresh) == Proposal.Status.APPROVED


def test_the_auto_approval_policy_never_approves_an_out_of_date_proposal(campaign):
    objective_services.auto_approval_update(
        actor=None, reason="pilot", is_enabled=True, max_change_pct=5, max_p_loss=0.2, kinds=["budget_change"]
    )
    proposal = raise_of(campaign, to=330.0, p_loss=0.05)
    import_budget(campaign, "350")

    result = autoapproval.proposals_auto_approve(proposals=[proposal])

    assert result.approved == 0
    assert status_of(proposal) == Proposal.Status.PENDING
    assert budget_of(campaign) == Decimal("350.00")


# --- the endpoints answer 409 with the reason ----------------------------------------------------


def test_the_approve_endpoint_answers_409_in_the_row(client, reviewer, campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "350")

    response = client.post(url("proposal-approve", proposal.pk), {"confirm_warnings": "on"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 409
    assert body.lstrip().startswith(f'<tbody id="proposal-{proposal.pk}"')
    assert "daily budget is $350 now, not the $324 this proposal started from" in body
    assert budget_of(campaign) == Decimal("350.00")


def test_the_approve_endpoint_without_javascript_goes_back_with_the_reason(client, reviewer, campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "350")
    response = client.post(url("proposal-approve", proposal.pk), follow=True)
    assert response.redirect_chain == [(url("queue"), 302)]
    assert "not the $324 this proposal started from" in response.content.decode()
    assert status_of(proposal) == Proposal.Status.PENDING


def test_a_viewer_still_gets_403_and_a_get_405(client, campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "350")
    client.force_login(viewer())
    assert client.post(url("proposal-approve", proposal.pk)).status_code == 403
    assert client.get(url("proposal-approve", proposal.pk)).status_code == 405


def test_the_bulk_endpoint_counts_out_of_date_proposals_apart(client, reviewer, campaign):
    stale = raise_of(campaign)
    import_budget(campaign, "350")
    response = client.post(url("bulk-approve"), {"ids": [stale.pk]}, follow=True)
    body = response.content.decode()
    assert "Approved 0 proposals; 1 out of date: a campaign moved since it was proposed." in body
    assert "someone else" not in body


# --- the queue shows it ----------------------------------------------------------------------------


def test_the_queue_marks_an_out_of_date_row_and_leaves_it_out_of_bulk_approval(client, reviewer, campaign):
    stale, fresh = raise_of(campaign, priority=2), ProposalFactory(priority=1)
    import_budget(campaign, "350")

    response = client.get(url("queue"))

    body = response.content.decode()
    assert body.count('class="badge stale">out of date</span>') == 1
    assert escape(MESSAGE) in body
    assert response.context["passing_ids"] == [fresh.pk]
    assert stale.pk not in response.context["passing_ids"]


def test_only_pending_rows_are_checked(campaign):
    proposal = raise_of(campaign, status=Proposal.Status.REJECTED)
    Campaign.objects.filter(pk=campaign.pk).update(daily_budget=Decimal("350"))
    assert decorate([proposal])[0].out_of_date == ""


# --- apply time -----------------------------------------------------------------------------------


def approved_row(proposal: Proposal) -> Application:
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    return Application.objects.get(proposal=proposal, direction=Application.Direction.APPLY)


def test_a_budget_moved_between_approval_and_apply_fails_the_row_for_good(client, reviewer, campaign):
    proposal = raise_of(campaign)
    application = approved_row(proposal)
    import_budget(campaign, "350")

    result = applying.application_apply(application_id=application.pk)

    assert (result.status, result.attempts) == (Application.Status.FAILED, 1)
    assert result.last_error == MESSAGE
    assert budget_of(campaign) == Decimal("350.00")
    assert Campaign.objects.get(pk=campaign.pk).last_changed_at is None
    assert status_of(proposal) == Proposal.Status.FAILED
    assert AuditEvent.objects.get(proposal=proposal, action=Action.APPLICATION_FAILED).reason == MESSAGE
    page = client.get(url("proposal", proposal.pk)).content.decode()
    assert "Failed" in page and "not the $324 this proposal started from" in page


def test_a_campaign_already_at_the_target_is_applied_as_nothing_left_to_move(campaign):
    proposal = raise_of(campaign)
    application = approved_row(proposal)
    Campaign.objects.filter(pk=campaign.pk).update(daily_budget=Decimal("336"))

    result = applying.application_apply(application_id=application.pk)

    assert result.status == Application.Status.SUCCEEDED
    assert budget_of(campaign) == Decimal("336.00")


def test_the_webhook_is_not_called_for_a_campaign_that_moved_before_sending(webhook, campaign):
    proposal = raise_of(campaign)
    application = approved_row(proposal)
    assert application.connector == "webhook"
    import_budget(campaign, "350")

    result = applying.application_apply(application_id=application.pk)

    assert result.status == Application.Status.FAILED
    assert result.last_error == MESSAGE
    assert webhook.requests == []
    assert status_of(proposal) == Proposal.Status.FAILED


# --- rollback -------------------------------------------------------------------------------------


def applied(campaign: Campaign) -> Proposal:
    proposal = raise_of(campaign)
    applying.application_apply(application_id=approved_row(proposal).pk)
    assert budget_of(campaign) == Decimal("336.00")
    return proposal


def test_rolling_back_a_change_whose_campaign_moved_since_is_refused(campaign):
    proposal = applied(campaign)
    import_budget(campaign, "350")

    with pytest.raises(reviewing.ProposalOutOfDate) as refused:
        reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="Sales pushed back")

    assert str(refused.value).startswith(
        "Search – Non-brand #10's daily budget is $350 now, not the $336 this change set: "
        "rolling back would move it from $350 to $324"
    )
    assert status_of(proposal) == Proposal.Status.APPLIED
    assert not Application.objects.filter(direction=Application.Direction.ROLLBACK).exists()
    assert Action.PROPOSAL_ROLLED_BACK not in actions(proposal)
    assert budget_of(campaign) == Decimal("350.00")


def test_the_rollback_endpoint_answers_409_with_the_reason(client, reviewer, campaign):
    proposal = applied(campaign)
    import_budget(campaign, "350")
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, **HTMX)
    assert response.status_code == 409
    assert "rolling back would move it from $350 to $324" in response.content.decode()


def test_a_rollback_of_a_campaign_still_where_the_change_left_it_goes_through(campaign):
    proposal = applied(campaign)
    row = reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="Sales pushed back")
    applying.application_apply(application_id=row.pk)
    assert budget_of(campaign) == Decimal("324.00")


def test_a_change_the_webhook_applied_rolls_back_while_waypoints_copy_still_shows_the_old_value(webhook, campaign):
    proposal = raise_of(campaign)
    applying.application_apply(application_id=approved_row(proposal).pk)
    assert budget_of(campaign) == Decimal("324.00")  # the platform has $336; Waypoint learns it at the next import

    row = reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="Sales pushed back")
    result = applying.application_apply(application_id=row.pk)

    assert result.status == Application.Status.SUCCEEDED
    assert webhook.requests[-1]["body"]["changes"][0]["to"] == 324.0


def test_a_rollback_row_whose_campaign_moved_before_sending_fails_and_keeps_the_new_value(campaign):
    proposal = applied(campaign)
    row = reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="Sales pushed back")
    import_budget(campaign, "350")

    result = applying.application_apply(application_id=row.pk)

    assert result.status == Application.Status.FAILED
    assert "rolling back would move it from $350 to $324" in result.last_error
    assert budget_of(campaign) == Decimal("350.00")


def test_an_import_that_repeats_the_budget_leaves_the_proposal_current(campaign):
    proposal = raise_of(campaign)
    import_budget(campaign, "324.00")
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    assert status_of(proposal) == Proposal.Status.APPROVED
