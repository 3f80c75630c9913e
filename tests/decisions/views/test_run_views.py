import pytest
from django.urls import reverse

from decisions.demo.seed import demo_seed
from decisions.models import AuditEvent, GenerationRun, Proposal
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    demo_seed(n_campaigns=6, days=60, seed=2)


def test_generate_now_runs_the_engine_and_shows_the_run(client, seeded):
    admin = guardrail_admin()
    client.force_login(admin)
    with_commit = client.post(reverse("decisions:run-generate"))
    run = GenerationRun.objects.get()
    assert with_commit.status_code == 302 and with_commit["Location"] == reverse("decisions:run", args=[run.pk])
    assert run.triggered_by == admin
    started = AuditEvent.objects.get(action="generation.started")
    assert started.actor == admin and started.machine_payload["run"] == run.pk
    page = client.get(reverse("decisions:run", args=[run.pk]))
    assert b"Run #" in page.content and b"<progress" in page.content


def test_generate_now_runs_on_commit(client, seeded, django_capture_on_commit_callbacks):
    client.force_login(guardrail_admin())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("decisions:run-generate"))
    assert len(callbacks) == 1
    run = GenerationRun.objects.get()
    assert run.status == GenerationRun.Status.SUCCEEDED
    assert Proposal.objects.filter(run=run).count() == run.counts["proposals"]


def test_generate_now_twice_over_the_same_data_reuses_the_run(client, seeded):
    client.force_login(guardrail_admin())
    client.post(reverse("decisions:run-generate"))
    response = client.post(reverse("decisions:run-generate"), follow=True)
    assert GenerationRun.objects.count() == 1
    assert b"already covers this data window" in response.content


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_generate(client, seeded, make_user):
    client.force_login(make_user())
    assert client.post(reverse("decisions:run-generate")).status_code == 403
    assert not GenerationRun.objects.exists()


def test_generate_needs_a_post(client):
    client.force_login(guardrail_admin())
    assert client.get(reverse("decisions:run-generate")).status_code == 405
    assert not GenerationRun.objects.exists()


def test_the_run_page_polls_only_while_running(client):
    client.force_login(viewer())
    running = GenerationRun.objects.create(metric="pipeline_value", chunks_total=4, chunks_done=1)
    response = client.get(reverse("decisions:run", args=[running.pk]), HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 1s"' in response.content
    assert b"<html" not in response.content  # the fragment alone
    assert b"1 of 4 chunks" in response.content
    GenerationRun.objects.filter(pk=running.pk).update(status="succeeded")
    response = client.get(reverse("decisions:run", args=[running.pk]), HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in response.content


def test_viewers_see_runs_but_no_generate_button(client):
    client.force_login(viewer())
    response = client.get(reverse("decisions:runs"))
    assert response.status_code == 200
    assert b"Generate now" not in response.content
    client.force_login(guardrail_admin())
    assert b"Generate now" in client.get(reverse("decisions:runs")).content
