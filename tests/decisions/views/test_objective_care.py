"""Objective changes with care: a vanity metric is confirmed in a second step and flagged in the queue; earlier
objectives are listed with who, when and why, and can be restored; the message says what became of the
pending proposals made for the previous objective; a policy import that changes the objective says the same."""

import datetime as dt
import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from decisions.demo.seed import demo_seed
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import AuditEvent, GenerationRun, Proposal
from decisions.views import objectives as objective_pages
from objectives import services
from objectives.models import Objective
from tests.factories import GenerationRunFactory, ObjectiveFactory, ProposalFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

SET_URL = reverse("objectives:objective-set")
PAGE_URL = reverse("objectives:objectives")


def restore_url(objective: Objective) -> str:
    return reverse("objectives:objective-restore", args=[objective.pk])


def _form(**overrides):
    data = {"metric": "pipeline_value", "horizon_days": "7", "reason": "Sales asked"}
    data.update(overrides)
    return data


@pytest.fixture
def admin(client):
    user = guardrail_admin(username="ada")
    client.force_login(user)
    return user


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- a vanity metric takes a second step ---------------------------------------------------------


def test_choosing_a_vanity_metric_asks_first_and_changes_nothing(client, admin):
    services.objective_set(metric="pipeline_value", reason="start")
    response = client.post(SET_URL, _form(metric="clicks", reason="Traffic push"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Optimise Clicks? It is a vanity metric" in content
    assert "Clicks reward curiosity, not buyers" in content
    assert 'name="confirm_vanity" value="clicks"' in content
    # The second step carries the same entries, so confirming needs no retyping.
    assert 'name="reason" value="Traffic push"' in content and 'name="metric" value="clicks"' in content
    assert Objective.objects.get(is_active=True).metric == "pipeline_value"
    assert AuditEvent.objects.filter(action="objective.changed").count() == 1
    assert not GenerationRun.objects.exists()


def test_confirming_the_vanity_metric_sets_it(client, admin):
    response = client.post(SET_URL, _form(metric="platform_revenue", confirm_vanity="platform_revenue"))
    assert response.status_code == 302
    assert Objective.objects.get(is_active=True).metric == "platform_revenue"
    assert AuditEvent.objects.get(action="objective.changed").human_payload["metric"] == "platform_revenue"


def test_a_confirmation_of_another_metric_does_not_count(client, admin):
    # Confirmed clicks, then changed the radio to platform conversions: that one was never confirmed.
    response = client.post(SET_URL, _form(metric="platform_conversions", confirm_vanity="clicks"))
    assert response.status_code == 200 and "Optimise Platform-reported conversions?" in response.content.decode()
    assert not Objective.objects.exists()


def test_a_business_metric_needs_no_confirmation(client, admin):
    assert client.post(SET_URL, _form(metric="closed_revenue")).status_code == 302
    assert Objective.objects.get(is_active=True).metric == "closed_revenue"


def test_an_invalid_vanity_choice_is_refused_before_any_confirmation(client, admin):
    response = client.post(SET_URL, _form(metric="clicks", reason=""))
    assert response.status_code == 422 and "confirm_vanity" not in response.content.decode()


def test_the_queue_flags_a_vanity_objective(client, admin):
    services.objective_set(metric="clicks", reason="test")
    content = client.get(reverse("decisions:queue")).content.decode()
    assert 'class="card vanity-banner"' in content
    assert "The engine optimises <strong>Clicks</strong>" in content and "Clicks reward curiosity" in content


def test_the_queue_has_no_banner_for_a_business_objective(client, admin):
    services.objective_set(metric="pipeline_value", reason="test")
    assert "vanity-banner" not in client.get(reverse("decisions:queue")).content.decode()


# --- previous objectives: who, when, why ----------------------------------------------------------


def test_the_page_lists_previous_objectives_with_who_and_why(client, admin):
    other = guardrail_admin(username="bo")
    services.objective_set(metric="pipeline_value", actor=other, reason="Pipeline first")
    services.objective_set(metric="closed_revenue", weights={"leads": 50}, horizon_days=14, actor=admin, reason="CFO")
    history = client.get(PAGE_URL).context["history"]
    assert [(p.text, p.who, p.why, p.is_current) for p in history] == [
        ("Closed revenue + 50 × Leads, 14-day horizon", "ada", "CFO", True),
        ("Pipeline value, 7-day horizon", "bo", "Pipeline first", False),
    ]


def test_a_restored_objective_gets_its_own_reason_not_the_first_ones(client, admin):
    first = services.objective_set(metric="leads", actor=admin, reason="Lead gen quarter")
    services.objective_set(metric="pipeline_value", actor=admin, reason="Back to pipeline")
    services.objective_restore(objective=first, actor=admin, reason="Leads again for Q3")
    history = client.get(PAGE_URL).context["history"]
    assert [p.why for p in history] == ["Leads again for Q3", "Back to pipeline", "Lead gen quarter"]


def test_an_objective_written_without_an_event_still_lists(client, admin):
    ObjectiveFactory(metric="leads", is_active=True, created_by=admin)
    (past,) = client.get(PAGE_URL).context["history"]
    assert (past.text, past.who, past.why) == ("Leads, 7-day horizon", "ada", "")


def test_viewers_read_the_history_without_restore_buttons(client):
    earlier = services.objective_set(metric="leads", reason="first")
    services.objective_set(metric="pipeline_value", reason="second")
    client.force_login(viewer())
    content = client.get(PAGE_URL).content.decode()
    assert "Previous objectives" in content and "Leads, 7-day horizon" in content
    assert restore_url(earlier) not in content


# --- restoring ----------------------------------------------------------------------------------------


@pytest.fixture
def two_objectives(admin):
    earlier = services.objective_set(metric="leads", weights={"pipeline_value": 0.2}, horizon_days=14, reason="a")
    services.objective_set(metric="closed_revenue", reason="b")
    return earlier


@pytest.mark.django_db(transaction=True)
def test_restoring_sets_the_earlier_objective_again_audited_and_starts_a_run(client, admin, two_objectives):
    response = client.post(restore_url(two_objectives), {"reason": "Leads again"}, follow=True)
    assert response.status_code == 200
    active = Objective.objects.get(is_active=True)
    assert (active.metric, active.weights, active.horizon_days) == ("leads", {"pipeline_value": 0.2}, 14)
    assert active.pk != two_objectives.pk  # a new row: the history keeps the earlier one as it was
    event = AuditEvent.objects.filter(action="objective.changed").last()
    assert (event.actor, event.reason, event.human_payload["restored_from"]) == (
        admin,
        "Leads again",
        two_objectives.pk,
    )
    assert event.machine_payload["metric"] == "closed_revenue"
    run = GenerationRun.objects.get(objective=active)  # the two objectives set up first started runs of their own
    assert run.triggered_by == admin
    content = response.content.decode()
    assert "Restored: the engine optimises Leads + 0.2 × Pipeline value, 14-day horizon again." in content
    assert f"Run #{run.pk} started." in content


def test_restoring_needs_a_reason(client, admin, two_objectives):
    response = client.post(restore_url(two_objectives), {"reason": "  "})
    assert response.status_code == 422 and "Reason: This field is required." in response.content.decode()
    assert Objective.objects.get(is_active=True).metric == "closed_revenue"


def test_restoring_the_objective_in_force_is_refused(client, admin, two_objectives):
    current = Objective.objects.get(is_active=True)
    events = AuditEvent.objects.count()
    response = client.post(restore_url(current), {"reason": "again"})
    assert response.status_code == 409 and "is already the objective" in response.content.decode()
    # An older row identical to the one in force is refused too.
    same = ObjectiveFactory(metric="closed_revenue", is_active=False)
    assert client.post(restore_url(same), {"reason": "again"}).status_code == 409
    assert AuditEvent.objects.count() == events and Objective.objects.get(is_active=True) == current


def test_restoring_a_vanity_objective_asks_first(client, admin):
    clicks = services.objective_set(metric="clicks", reason="test")
    services.objective_set(metric="pipeline_value", reason="back")
    asked = client.post(restore_url(clicks), {"reason": "traffic again"})
    assert asked.status_code == 200 and "Optimise Clicks? It is a vanity metric" in asked.content.decode()
    assert f'action="{restore_url(clicks)}"' in asked.content.decode()
    assert Objective.objects.get(is_active=True).metric == "pipeline_value"
    confirmed = client.post(restore_url(clicks), {"reason": "traffic again", "confirm_vanity": "clicks"})
    assert confirmed.status_code == 302 and Objective.objects.get(is_active=True).metric == "clicks"


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_restore(client, two_objectives, make_user):
    client.force_login(make_user())
    assert client.post(restore_url(two_objectives), {"reason": "r"}).status_code == 403
    assert Objective.objects.get(is_active=True).metric == "closed_revenue"


def test_restoring_needs_a_post(client, admin, two_objectives):
    assert client.get(restore_url(two_objectives)).status_code == 405


def test_restoring_an_unknown_objective_is_a_404(client, admin):
    assert client.post(reverse("objectives:objective-restore", args=[999]), {"reason": "r"}).status_code == 404


# --- what became of the pending proposals -------------------------------------------------------------


def _before(pending: int) -> objective_pages.BeforeChange:
    return objective_pages.BeforeChange(pending=pending, last_run_id=0)


def test_while_the_run_works_the_message_says_what_is_known(rf):
    objective = ObjectiveFactory()
    run = GenerationRunFactory(objective=objective, status=GenerationRun.Status.RUNNING)
    text = objective_pages._what_became_of_pending(run, _before(14))
    assert text.startswith("14 pending proposals made for the previous objective: the new run supersedes each one")
    assert run.pk  # the run exists; its supersessions are not known yet, so no count of them is claimed


def test_once_the_run_finished_the_message_counts_what_it_superseded():
    old_run = GenerationRunFactory()
    kept = ProposalFactory(run=old_run)
    run = GenerationRunFactory(status=GenerationRun.Status.SUCCEEDED, counts={"proposals": 5, "superseded": 2})
    ProposalFactory(run=run)  # the run's own pending proposal is not "left over"
    text = objective_pages._what_became_of_pending(run, _before(3))
    assert text == (
        "It finished with 5 new proposals and superseded 2 of the 3 pending proposals made for the previous "
        "objective; 1 stays in the queue until it expires, someone decides it or a later run replaces it."
    )
    assert kept.status == Proposal.Status.PENDING


def test_a_failed_run_leaves_the_pending_proposals_and_says_so():
    run = GenerationRunFactory(status=GenerationRun.Status.FAILED)
    assert "nothing was superseded: the 1 pending proposal made for the previous objective is still in the queue" in (
        objective_pages._what_became_of_pending(run, _before(1))
    )


@pytest.mark.django_db(transaction=True)
def test_an_objective_change_counts_the_proposals_its_run_superseded(client, admin):
    demo_seed(n_campaigns=12, days=100, seed=3, end_date=dt.date(2026, 11, 1))
    first = generating.generation_start()
    generate_proposals.delay(first.run.pk)
    # A pending proposal on a campaign with no data: no run proposes for it again, so nothing supersedes it.
    untouched = ProposalFactory(run=first.run)
    pending = Proposal.objects.filter(status=Proposal.Status.PENDING).count()
    assert pending >= 2
    response = client.post(SET_URL, _form(horizon_days="14"), follow=True)
    run = GenerationRun.objects.exclude(pk=first.run.pk).get()
    assert run.status == GenerationRun.Status.SUCCEEDED  # no REDIS_URL: the run finished in process
    superseded = Proposal.objects.filter(status=Proposal.Status.SUPERSEDED).count()
    assert superseded == run.counts["superseded"] == pending - 1
    assert Proposal.objects.get(pk=untouched.pk).status == Proposal.Status.PENDING
    assert (
        f"It finished with {run.counts['proposals']} new proposals and superseded {superseded} of the {pending} "
        "pending proposals made for the previous objective; 1 stays in the queue until it expires"
    ) in response.content.decode()


# --- a policy import that changes the objective -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_policy_import_that_changes_the_objective_names_its_run(client, admin):
    services.objective_set(metric="pipeline_value", reason="start")
    document = json.dumps({"objective": {"metric": "closed_revenue", "horizon_days": 14}, "guardrails": []})
    url = reverse("objectives:policy-import")
    preview = client.post(url, {"policy_text": document, "reason": "policy review"})
    assert "horizon 7 → 14 days" in preview.content.decode()
    confirmed = {"policy_text": document, "reason": "policy review", "confirm": "True"}
    confirmed["seen_version"] = preview.context["form"].initial["seen_version"]
    response = client.post(url, confirmed, follow=True)
    run = GenerationRun.objects.get(objective=Objective.objects.get(is_active=True))
    assert (run.metric, run.triggered_by) == (
        "closed_revenue",
        admin,
    )
    content = response.content.decode()
    assert "Policy imported: 0 created, 0 updated, 0 deactivated, 0 unchanged; objective changed." in content
    assert f"Run #{run.pk} started. No proposals were pending." in content


@pytest.mark.django_db(transaction=True)
def test_a_policy_import_that_keeps_the_objective_starts_no_run(client, admin):
    services.objective_set(metric="pipeline_value", reason="start")
    document = json.dumps(
        {
            "objective": {"metric": "pipeline_value"},
            "guardrails": [{"name": "Cool", "kind": "cooldown", "params": {"days": 3}}],
        }
    )
    url = reverse("objectives:policy-import")
    preview = client.post(url, {"policy_text": document, "reason": "r"})
    confirmed = {"policy_text": document, "reason": "r", "confirm": "True"}
    confirmed["seen_version"] = preview.context["form"].initial["seen_version"]
    runs = GenerationRun.objects.count()  # the objective set up first started one
    response = client.post(url, confirmed)
    assert GenerationRun.objects.count() == runs
    assert not [m for m in said(response) if "Run #" in m]
