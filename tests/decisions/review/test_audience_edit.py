"""Editing an audience action: narrow its audience or choose another arm of its test, never widen; the live
re-check re-runs the guardrails and re-estimates from the test's customers; approving publishes the edited list."""

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions import audiences
from decisions.audit import wording
from decisions.audit.actions import Action
from decisions.delivery import outbox as applying
from decisions.experiments import segment_estimates
from decisions.models import Application, AudienceList, AuditEvent, Experiment, Proposal, Review
from decisions.reports import weekly
from decisions.review import audience_edits
from decisions.review import transitions as reviewing
from decisions.views.presenters import decorate
from tests.decisions.experiments.audience_support import (
    CONTROL,
    MENS,
    WOMENS,
    audience_proposal,
    make_test,
    simulated_customers,
)
from tests.factories import marketer, viewer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SEGMENT = {"age": {"min": 25, "max": 60}, "region": ["North", "South"]}


@pytest.fixture
def proposal() -> Proposal:
    make_test(simulated_customers(1500, seed=3, uplift_in=3.0))
    return audience_proposal(SEGMENT)


@pytest.fixture
def reviewer(client):
    user = marketer(first_name="Maya", last_name="Lind")
    client.force_login(user)
    return user


def url(name: str, pk: int) -> str:
    return reverse(f"decisions:{name}", args=[pk])


def form(action=MENS, age_min="25", age_max="60", regions=("North", "South"), **extra) -> dict:
    return {
        "action": action,
        "segment__age__min": age_min,
        "segment__age__max": age_max,
        "segment__region__in": list(regions),
        **extra,
    }


# --- the rules, without the page ----------------------------------------------------------------


def test_narrowing_keeps_the_test_field_and_from():
    machine = {"experiment": "T", "segment": SEGMENT, "field": "action", "from": CONTROL, "to": MENS}
    narrowed = audience_edits.narrowed_segment(SEGMENT, {"age": {"min": 30, "max": 50}, "region": ["North"]})
    assert narrowed == {"age": {"min": 30.0, "max": 50.0}, "region": ["North"]}
    with pytest.raises(audience_edits.InvalidEdit, match="can be raised from 25, not lowered"):
        audience_edits.narrowed_segment(SEGMENT, {"age": {"min": 20, "max": 50}, "region": ["North"]})
    with pytest.raises(audience_edits.InvalidEdit, match="can be lowered from 60, not raised"):
        audience_edits.narrowed_segment(SEGMENT, {"age": {"min": 30, "max": None}, "region": ["North"]})
    with pytest.raises(audience_edits.InvalidEdit, match="East would widen it"):
        audience_edits.narrowed_segment(SEGMENT, {"age": {"min": 30, "max": 50}, "region": ["North", "East"]})
    with pytest.raises(audience_edits.InvalidEdit, match="Dropping the condition on region"):
        audience_edits.narrowed_segment(SEGMENT, {"age": {"min": 30, "max": 50}})
    with pytest.raises(audience_edits.InvalidEdit, match="the audience is empty"):
        audience_edits.narrowed_segment(SEGMENT, {"age": {"min": 50, "max": 40}, "region": ["North"]})
    assert machine["from"] == CONTROL


def test_the_service_refuses_a_widened_audience(proposal):
    widened = {**proposal.changes[0], "segment": {"age": {"min": 18, "max": 60}, "region": ["North", "South"]}}
    with pytest.raises(reviewing.InvalidDecision, match="not lowered"):
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=[widened])
    assert not Review.objects.exists()


def test_an_audience_with_a_published_list_may_change_its_action_but_not_its_shape(proposal):
    audiences.set_action(proposal.changes[0], MENS, now=timezone.now())
    live = audience_proposal(SEGMENT, frm=MENS, to=WOMENS)
    narrower = {**live.changes[0], "segment": {"age": {"min": 30, "max": 60}, "region": ["North", "South"]}}
    with pytest.raises(reviewing.InvalidDecision, match="both lists live"):
        reviewing.proposal_edit_and_approve(proposal=live, actor=marketer(), final_changes=[narrower])
    review = reviewing.proposal_edit_and_approve(
        proposal=live, actor=marketer(), final_changes=[{**live.changes[0], "to": CONTROL}]
    )
    assert review.decision == Review.Decision.EDITED and review.final_changes[0]["to"] == CONTROL


# --- the page -------------------------------------------------------------------------------------


def test_the_edit_form_offers_the_test_s_arms_and_the_engine_s_audience(client, reviewer, proposal):
    body = client.get(url("proposal-edit", proposal.pk), **HTMX).content.decode()
    assert 'name="action"' in body and "Womens e-mail" in body and "No e-mail (the control)" in body
    assert 'name="segment__age__min"' in body and 'value="25"' in body and 'value="60"' in body
    assert 'name="segment__region__in"' in body and 'value="South"' in body
    assert url("proposal-check", proposal.pk) in body
    assert "Re-estimated from the test's customers" in body


def test_tightening_the_audience_approves_it_and_publishes_the_edited_list(
    client, reviewer, proposal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("proposal-edit", proposal.pk),
            form(age_min="30", age_max="50", regions=["North"], note="Only the core"),
            **HTMX,
        )
    assert response.status_code == 200 and "Edited and approved by Maya Lind" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    final = proposal.review.final_changes[0]
    assert final["segment"] == {"age": {"min": 30.0, "max": 50.0}, "region": ["North"]}
    assert proposal.changes[0]["segment"] == SEGMENT  # the machine's stays on the proposal
    published = AudienceList.objects.get(proposal=proposal)
    expected, _ = audiences.members(published.experiment, final["segment"])
    assert published.customer_ids == expected and published.action == MENS
    assert len(expected) < len(audiences.members(published.experiment, SEGMENT)[0])
    # The row shows what the edited audience was re-estimated to bring (from the test's customers), not the
    # machine's figure for the wider audience.
    found = segment_estimates.estimate(published.experiment, final["segment"], MENS)
    assert proposal.review.final_estimate["mean"] == found.per_send[0]
    shown = decorate([Proposal.objects.select_related("review").get(pk=proposal.pk)])[0]
    assert shown.estimate.reestimated and shown.estimate.mean == found.per_send[0] != proposal.expected_mean

    event = AuditEvent.objects.get(proposal=proposal, action=Action.PROPOSAL_EDITED)
    assert event.machine_payload["changes"][0]["segment"] == SEGMENT
    assert event.human_payload["final_changes"][0]["segment"]["region"] == ["North"]
    assert [row["human"] for row in wording.edit_diff(event)] == [MENS]
    counts = weekly.weekly_report(weekly.iso_week())["counts"]
    assert counts["edited"] == 1 and counts["overrides"] == 1


def test_choosing_another_action_is_an_edit_too(client, reviewer, proposal):
    response = client.post(url("proposal-edit", proposal.pk), form(action=WOMENS), **HTMX)
    assert response.status_code == 200
    review = Review.objects.get(proposal=proposal)
    assert review.decision == Review.Decision.EDITED
    assert review.final_changes[0]["to"] == WOMENS and review.final_changes[0]["segment"] == SEGMENT
    shown = decorate([Proposal.objects.select_related("review").get(pk=proposal.pk)])[0]
    assert shown.lines[0]["to"] == WOMENS and shown.lines[0]["machine_to"] == MENS and shown.lines[0]["edited"]
    experiment = Experiment.objects.get(name=proposal.changes[0]["experiment"])
    womens = segment_estimates.estimate(experiment, SEGMENT, WOMENS).per_send
    assert (shown.estimate.mean, shown.estimate.low, shown.estimate.high) == womens


def test_saving_the_engine_s_values_is_a_plain_approval(client, reviewer, proposal):
    client.post(url("proposal-edit", proposal.pk), form(), **HTMX)
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.APPROVED


def test_widening_is_refused_with_the_reason_and_nothing_decided(client, reviewer, proposal):
    response = client.post(url("proposal-edit", proposal.pk), form(age_min="18"), **HTMX)
    assert response.status_code == 422
    assert "can be raised from 25, not lowered" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    response = client.post(url("proposal-edit", proposal.pk), form(regions=["North", "East"]), **HTMX)
    assert response.status_code == 422 and not Review.objects.exists()


def test_the_live_check_re_estimates_the_edited_audience_from_the_test(client, reviewer, proposal):
    response = client.post(url("proposal-check", proposal.pk), form(age_min="30", age_max="50", regions=["North"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Re-estimated from the test's customers" in body and "per customer" in body
    assert "Send Mens e-mail to age 30 to under 50 and region is North" in body
    assert "in-sample" in body and "Guardrails for these values" in body
    widened = client.post(url("proposal-check", proposal.pk), form(age_max="70")).content.decode()
    assert "can be lowered from 60, not raised" in widened and "Re-estimated" not in widened


def test_a_viewer_may_not_edit(client, proposal):
    client.force_login(viewer())
    assert client.get(url("proposal-edit", proposal.pk)).status_code == 403
    assert client.post(url("proposal-edit", proposal.pk), form()).status_code == 403
    assert client.post(url("proposal-check", proposal.pk), form()).status_code == 403
    assert not Review.objects.exists()


def test_other_methods_are_not_allowed(client, reviewer, proposal):
    assert client.put(url("proposal-edit", proposal.pk)).status_code == 405
    assert client.get(url("proposal-check", proposal.pk)).status_code == 405


def test_a_decided_proposal_is_not_edited_again(client, reviewer, proposal):
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    response = client.post(url("proposal-edit", proposal.pk), form(action=WOMENS), **HTMX)
    assert response.status_code == 409
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.APPROVED
    assert Application.objects.filter(proposal=proposal).count() == 1
    assert applying.succeeded_applies(proposal) == []
