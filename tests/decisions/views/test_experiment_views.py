"""The experiment pages: list, detail, the upload, and editing an action's name and copy (every role)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from decisions.audit.actions import REGISTRY, Action
from decisions.data import experiments
from decisions.engine import uplift
from decisions.experiments import analysing
from decisions.models import AuditEvent, Experiment, ExperimentAction
from tests.decisions.experiments.files import rows_csv, simulated_csv
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

LIST = reverse("decisions:experiments")
UPLOAD = reverse("decisions:experiment-import")


@pytest.fixture(scope="module")
def analysed_csv():
    return simulated_csv(n=1200, seed=5)


@pytest.fixture
def experiment(analysed_csv):
    outcome = experiments.import_experiment(
        stream=io.BytesIO(analysed_csv), filename="spring.csv", name="Spring e-mail test", control="No e-mail"
    )
    settings = uplift.Settings(bootstrap=50, min_leaf_customers=100)
    return analysing.experiment_analyse(experiment_id=outcome.experiment_id, settings=settings)


def action_url(action) -> str:
    return reverse("decisions:experiment-action", args=[action.pk])


def mens(experiment) -> ExperimentAction:
    return experiment.actions.get(arm="Mens e-mail")


def edit(client, action, **values):
    data = {"revision": action.revision, "name": action.name, "subject_line": "", "message": "", **values}
    return client.post(action_url(action), data)


# --- reading ---


@pytest.mark.parametrize("role", [marketer, guardrail_admin, viewer])
def test_every_role_reads_the_list_and_the_page(client, experiment, role):
    client.force_login(role())
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert "Spring e-mail test" in listed.content.decode()
    page = client.get(reverse("decisions:experiment", args=[experiment.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Randomisation check" in text and "balanced" in text
    assert "Audiences" in text and "per customer" in text
    assert "Uplift curves" in text and "<svg" in text
    assert ("Save Mens e-mail" in text) == (role is not viewer)


def test_the_page_names_actions_by_the_name_a_marketer_gave_them(client, experiment):
    ExperimentAction.objects.filter(experiment=experiment, arm="Discount 20%").update(name="Spring discount")
    client.force_login(viewer())
    text = client.get(reverse("decisions:experiment", args=[experiment.pk])).content.decode()
    assert "Spring discount" in text


def test_the_list_refuses_writes(client):
    client.force_login(guardrail_admin())
    assert client.post(LIST).status_code == 405


# --- uploading ---


def test_an_admin_uploads_a_test_and_lands_on_its_page(client, analysed_csv):
    client.force_login(guardrail_admin())
    upload = SimpleUploadedFile("spring.csv", analysed_csv, content_type="text/csv")
    response = client.post(UPLOAD, {"file": upload, "name": "Spring", "control": "No e-mail"})
    experiment = Experiment.objects.get(name="Spring")
    assert response.status_code == 302
    assert response["Location"] == reverse("decisions:experiment", args=[experiment.pk])
    assert experiment.customers == 1200


def test_a_bad_upload_shows_every_problem_and_writes_nothing(client):
    client.force_login(guardrail_admin())
    content = rows_csv(["arm", "closed_revenue"], [["No e-mail", "1"], ["", "2"], ["B", "x"]])
    upload = SimpleUploadedFile("bad.csv", content, content_type="text/csv")
    response = client.post(UPLOAD, {"file": upload, "name": "Bad", "control": "No e-mail"}, follow=True)
    text = response.content.decode()
    assert "Import failed" in text and "Nothing was written" in text
    assert "line 3: arm" in text and "line 4: closed_revenue: x: not a number" in text
    assert not Experiment.objects.exists()


def test_an_upload_without_a_name_is_refused_with_the_form_again(client, analysed_csv):
    client.force_login(guardrail_admin())
    upload = SimpleUploadedFile("spring.csv", analysed_csv, content_type="text/csv")
    response = client.post(UPLOAD, {"file": upload, "name": "", "control": "No e-mail"})
    assert response.status_code == 400
    assert "give the experiment a name" in response.content.decode()


@pytest.mark.parametrize("role", [marketer, viewer])
def test_only_guardrail_admins_upload(client, analysed_csv, role):
    client.force_login(role())
    upload = SimpleUploadedFile("spring.csv", analysed_csv, content_type="text/csv")
    assert client.post(UPLOAD, {"file": upload, "name": "S", "control": "No e-mail"}).status_code == 403
    assert not Experiment.objects.exists()


def test_the_upload_refuses_get(client):
    client.force_login(guardrail_admin())
    assert client.get(UPLOAD).status_code == 405


# --- editing an action: happy, wrong state, 403, 405, audit ---


def test_a_marketer_names_an_action_and_sets_its_copy(client, experiment):
    client.force_login(marketer(username="maya"))
    action = mens(experiment)
    response = edit(client, action, name="Men's spring edit", subject_line="New in: linen shirts")
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.name, action.subject_line, action.revision) == ("Men's spring edit", "New in: linen shirts", 1)
    event = AuditEvent.objects.get(action=Action.EXPERIMENT_ACTION_CHANGED)
    assert event.actor.username == "maya"
    assert event.machine_payload["name"] == "Mens e-mail"
    assert event.human_payload["name"] == "Men's spring edit"
    summary, lines = REGISTRY[Action.EXPERIMENT_ACTION_CHANGED].describe(event)
    assert "Men's spring edit" in summary and "Spring e-mail test" in summary
    assert lines == ["name: Mens e-mail → Men's spring edit", "subject line: (none) → New in: linen shirts"]


def test_an_edit_from_a_stale_page_is_refused_not_overwriting(client, experiment):
    client.force_login(marketer())
    action = mens(experiment)
    assert edit(client, action, name="First").status_code == 302
    response = edit(client, action, name="Second")  # still carries revision 0
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    action.refresh_from_db()
    assert action.name == "First"
    assert AuditEvent.objects.filter(action=Action.EXPERIMENT_ACTION_CHANGED).count() == 1


def test_an_action_needs_a_name(client, experiment):
    client.force_login(marketer())
    response = edit(client, mens(experiment), name="  ")
    assert response.status_code == 422
    assert "Give the action a name." in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPERIMENT_ACTION_CHANGED).exists()


def test_a_viewer_may_not_edit_an_action(client, experiment):
    client.force_login(viewer())
    action = mens(experiment)
    assert edit(client, action, name="Nope").status_code == 403
    action.refresh_from_db()
    assert action.name == "Mens e-mail"


def test_editing_refuses_get(client, experiment):
    client.force_login(marketer())
    assert client.get(action_url(mens(experiment))).status_code == 405
