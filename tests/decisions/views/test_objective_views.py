import pytest
from django.urls import reverse

from decisions.generation import service as generating
from decisions.models import AuditEvent, GenerationRun
from objectives.models import Objective
from objectives.services import objective_set
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {"metric": "pipeline_value", "weight_closed_revenue": "0.5", "horizon_days": "14", "reason": "Sales asked"}
    data.update(overrides)
    return data


@pytest.fixture
def admin(client):
    user = guardrail_admin(username="ada")
    client.force_login(user)
    return user


# Transactional: the run starts once the change commits (policy_changed), and the page reads it back.
@pytest.mark.django_db(transaction=True)
def test_an_admin_sets_a_composite_objective_and_a_run_starts(client, admin):
    response = client.post(reverse("objectives:objective-set"), _form())
    assert response.status_code == 302 and response["Location"] == reverse("objectives:objectives")
    objective = Objective.objects.get(is_active=True)
    assert (objective.metric, objective.weights, objective.horizon_days) == (
        "pipeline_value",
        {"closed_revenue": 0.5},
        14,
    )
    event = AuditEvent.objects.get(action="objective.changed")
    assert (event.actor, event.reason, event.human_payload["weights"]) == (
        admin,
        "Sales asked",
        {"closed_revenue": 0.5},
    )
    run = GenerationRun.objects.get()
    assert run.triggered_by == admin and run.metric == "pipeline_value"
    assert AuditEvent.objects.filter(action="generation.started", actor=admin).exists()


def test_the_run_starts_only_once_the_change_commits(client, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("objectives:objective-set"), _form(metric="closed_revenue", weight_closed_revenue=""))
    assert Objective.objects.get(is_active=True).metric == "closed_revenue"
    assert not GenerationRun.objects.exists()
    for callback in callbacks:
        callback()
    assert GenerationRun.objects.get().status == GenerationRun.Status.SUCCEEDED  # no data yet: an empty run


@pytest.mark.django_db(transaction=True)
def test_one_objective_change_starts_one_run_and_the_page_names_it(client, admin):
    response = client.post(reverse("objectives:objective-set"), _form(), follow=True)
    run = GenerationRun.objects.get()
    assert f"Run #{run.pk} started." in response.content.decode()
    assert AuditEvent.objects.filter(action="generation.started").count() == 1
    client.post(reverse("objectives:objective-set"), _form(metric="closed_revenue", weight_closed_revenue=""))
    assert GenerationRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_that_cannot_start_does_not_undo_the_change(client, admin, monkeypatch, caplog):
    def no_run(**kwargs):
        raise RuntimeError("database busy")

    monkeypatch.setattr(generating, "generation_start", no_run)
    response = client.post(reverse("objectives:objective-set"), _form(), follow=True)
    assert response.status_code == 200
    assert "No run could be started" in response.content.decode()
    assert Objective.objects.get(is_active=True).weights == {"closed_revenue": 0.5}
    assert any("database busy" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_setting_the_same_objective_again_changes_nothing_and_starts_no_run(client, admin):
    objective_set(metric="pipeline_value", weights={"closed_revenue": 0.5}, horizon_days=14, reason="first")
    events = AuditEvent.objects.count()
    response = client.post(reverse("objectives:objective-set"), _form(), follow=True)
    assert b"already the objective" in response.content
    assert AuditEvent.objects.count() == events and not GenerationRun.objects.exists()
    assert Objective.objects.count() == 1


def test_it_refuses_a_missing_reason(client, admin):
    response = client.post(reverse("objectives:objective-set"), _form(reason=" "))
    assert response.status_code == 422 and "reason" in response.context["form"].errors
    assert not Objective.objects.exists() and not GenerationRun.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"horizon_days": "0"}, "horizon_days"),
        ({"horizon_days": "400"}, "horizon_days"),
        ({"metric": "likes"}, "metric"),
        ({"weight_closed_revenue": "-1"}, "weight_closed_revenue"),
        ({"weight_pipeline_value": "1"}, "weight_pipeline_value"),
    ],
)
def test_it_refuses_invalid_values(client, admin, overrides, field):
    response = client.post(reverse("objectives:objective-set"), _form(**overrides))
    assert response.status_code == 422 and field in response.context["form"].errors
    assert not Objective.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_set_the_objective(client, make_user):
    client.force_login(make_user())
    assert client.post(reverse("objectives:objective-set"), _form()).status_code == 403
    assert not Objective.objects.exists() and not GenerationRun.objects.exists()


def test_setting_needs_a_post(client, admin):
    assert client.get(reverse("objectives:objective-set")).status_code == 405
    assert not Objective.objects.exists()


def test_vanity_metrics_are_labelled_with_why(client, admin):
    content = client.get(reverse("objectives:objectives")).content.decode()
    assert content.count('class="badge vanity"') == 3
    assert "Clicks reward curiosity, not buyers" in content
    assert "Platform ROAS credits the platform" in content
    assert 'name="weight_closed_revenue"' in content and 'name="horizon_days"' in content


def test_a_vanity_objective_is_flagged_on_the_page(client, admin):
    objective_set(metric="clicks", reason="experiment")
    content = client.get(reverse("objectives:objectives")).content.decode()
    assert "Vanity metric" in content


def test_viewers_read_the_objective_without_a_form(client):
    objective_set(metric="closed_revenue", weights={"pipeline_value": 0.2}, horizon_days=30, reason="r")
    client.force_login(viewer())
    content = client.get(reverse("objectives:objectives")).content.decode()
    assert "Closed revenue" in content and "0.2 × pipeline_value" in content and "30-day horizon" in content
    assert reverse("objectives:objective-set") not in content
