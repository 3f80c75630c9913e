"""An audience_action proposal through the loop every kind takes: exported with its audience's keys, worded in the
queue and on its page with its evidence, approved through the review services with its guardrails re-checked, and
applied by the ledger, which publishes the audience's list."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from decisions.delivery import outbox as applying
from decisions.models import Application, AudienceList, AuditEvent, Proposal
from decisions.review import exporting
from decisions.review import transitions as reviewing
from objectives.models import Guardrail
from tests.decisions.generation.audience_world import CONTROL, MENS, TEST, audience_proposals, make_test, run_engine
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

HEADLINE = "Send Mens e-mail to age 30 or more instead of No e-mail"


def applied(proposal: Proposal) -> Proposal:
    """Send the approval's outbox row (its task runs after the commit the test's transaction never makes)."""
    row = Application.objects.get(proposal=proposal, direction="apply")
    applying.application_apply(application_id=row.pk)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def proposal() -> Proposal:
    make_test()
    run = run_engine()
    assert run.status == "succeeded", run.errors
    (found,) = audience_proposals()
    return found


def test_export_proposals_names_the_audience_by_its_test_and_segment(proposal):
    out = io.StringIO()
    call_command("export_proposals", "--format", "json", stdout=out)
    (record,) = [r for r in json.loads(out.getvalue()) if r["kind"] == "audience_action"]
    (change,) = record["changes"]
    assert change == {
        "experiment": TEST,
        "segment": {"age": {"min": 30.0, "max": None}},
        "field": "action",
        "from": CONTROL,
        "to": MENS,
    }
    assert record["expected_impact"] == {
        "metric": "closed_revenue",
        "per": "send",
        "mean": 60.0,
        "low": 30.0,
        "high": 90.0,
    }
    assert record["p_loss"] == 0.004 and record["decision"] is None


def test_the_csv_export_carries_the_audience_change_as_json(proposal):
    rows = list(exporting.csv_rows([proposal]))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["campaign_ids"] == "" and row["expected_per"] == "send"
    assert json.loads(row["changes"])[0]["experiment"] == TEST


def test_the_queue_words_the_audience_proposal(client, proposal):
    client.force_login(marketer())
    response = client.get(reverse("decisions:queue"))
    page = response.content.decode()
    assert response.status_code == 200
    assert HEADLINE in page
    assert "No e-mail → <strong>Mens e-mail</strong>" in page
    assert "Closed revenue · per send" in page and "+$60" in page


def test_the_proposal_page_shows_the_audience_evidence(client, proposal):
    client.force_login(viewer())
    response = client.get(reverse("decisions:proposal", args=[proposal.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{HEADLINE}</h1>" in page
    assert "The test behind this audience" in page and "Age 30 or more" in page
    assert "30 · 75% of the test" in page
    assert 'class="uplift-curve"' in page  # the experiment page's uplift chart


def test_a_marketer_approves_it_and_the_ledger_publishes_the_audiences_list(client, proposal):
    client.force_login(marketer())
    response = client.post(reverse("decisions:proposal-approve", args=[proposal.pk]))
    assert response.status_code == 302
    assert applied(proposal).status == "applied"
    (published,) = AudienceList.objects.filter(withdrawn_at__isnull=True)
    assert published.action == MENS and published.segment == {"age": {"min": 30.0, "max": None}}
    assert sorted(published.customer_ids, key=lambda c: int(c[1:])) == [f"C{i}" for i in range(11, 41)]
    assert AuditEvent.objects.filter(action="proposal.approved", proposal=proposal).count() == 1


def test_the_guardrails_are_judged_again_when_it_is_approved(proposal):
    # A rule added after the proposal was made: approving now needs the reviewer to confirm its warning.
    Guardrail.objects.create(
        name="Never minors",
        kind="forbidden_audiences",
        severity="warn",
        params={"min_attribute": "age", "min_value": 40},
    )
    with pytest.raises(reviewing.ConfirmationRequired) as refused:
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    (verdict,) = refused.value.verdicts
    assert verdict.message == "This audience could hold customers under 40: its definition must say age 40 or more"
    reviewing.proposal_approve(proposal=proposal, actor=marketer(), confirm_warnings=True)
    assert applied(proposal).status == "applied"


def test_a_block_level_contact_cap_needs_a_guardrail_admin(proposal):
    other = make_test(name="Autumn test")
    AudienceList.objects.create(
        experiment=other, segment={}, segment_key="x", action=MENS, customer_ids=[f"C{i}" for i in range(1, 41)]
    )
    Guardrail.objects.create(name="One a week", kind="contact_cap", severity="block", params={"max_per_week": 1})
    with pytest.raises(reviewing.PermissionDenied):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    with pytest.raises(reviewing.OverrideReasonRequired) as refused:
        reviewing.proposal_approve(proposal=proposal, actor=guardrail_admin())
    (verdict,) = refused.value.verdicts
    assert verdict.message == "30 customers of this audience would get 2 actions a week; the cap is 1"
    reviewing.proposal_approve(proposal=proposal, actor=guardrail_admin(), override_reason="Launch week")
    proposal.refresh_from_db()
    assert proposal.status == "approved"
    assert AuditEvent.objects.filter(action="proposal.approved", proposal=proposal).count() == 1


def test_a_viewer_may_not_approve_it(client, proposal):
    client.force_login(viewer())
    response = client.post(reverse("decisions:proposal-approve", args=[proposal.pk]))
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_approving_takes_a_post_only(client, proposal):
    client.force_login(marketer())
    assert client.get(reverse("decisions:proposal-approve", args=[proposal.pk])).status_code == 405


def test_a_decided_proposal_cannot_be_approved_again(client, proposal):
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="strategy")
    client.force_login(marketer())
    response = client.post(reverse("decisions:proposal-approve", args=[proposal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert not AudienceList.objects.exists()
