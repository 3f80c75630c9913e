"""POST applications/<pk>/retry/: put a failed apply (or rollback) back in the outbox."""

import pytest

from decisions.audit.actions import Action
from decisions.models import Application, AuditEvent, Proposal
from decisions.review import transitions as reviewing
from tests.decisions.views.review_support import HTMX, failed_application, status_of, url
from tests.factories import ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db


def test_a_failed_apply_shows_its_error_and_a_retry_button(client, reviewer):
    application = failed_application()
    body = client.get(url("proposal", application.proposal_id)).content.decode()
    assert "Platform said 500" in body and ">Retry</button>" in body


def test_retry_requeues_a_failed_apply_and_is_audited(client, reviewer):
    application = failed_application()
    response = client.post(url("application-retry", application.pk))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(proposal_id=application.proposal_id, action=Action.APPLICATION_RETRIED).exists()
    application.refresh_from_db()
    assert application.status != Application.Status.FAILED


def test_retry_over_htmx_redraws_the_row(client, reviewer):
    application = failed_application()
    response = client.post(url("application-retry", application.pk), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith(f'<tbody id="proposal-{application.proposal_id}"')
    assert "Sent again." in body


def test_retrying_an_application_that_did_not_fail_is_409(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    assert client.post(url("application-retry", application.pk), **HTMX).status_code == 409


def test_retrying_an_unknown_application_is_404(client, reviewer):
    assert client.post(url("application-retry", 999)).status_code == 404


def test_a_viewer_gets_403_and_nothing_is_requeued(client):
    application = failed_application()
    client.force_login(viewer())
    assert client.post(url("application-retry", application.pk)).status_code == 403
    assert client.post(url("application-retry", application.pk), **HTMX).status_code == 403
    application.refresh_from_db()
    assert application.status == Application.Status.FAILED
    assert status_of(application.proposal) == Proposal.Status.FAILED
    assert not AuditEvent.objects.filter(action=Action.APPLICATION_RETRIED).exists()


def test_get_is_405(client, reviewer):
    application = failed_application()
    assert client.get(url("application-retry", application.pk)).status_code == 405
    assert Application.objects.get(pk=application.pk).status == Application.Status.FAILED
