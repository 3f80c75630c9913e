"""retire_workflow proposals through the same loop as every kind: a run proposes them, the queue words them, the
guardrails judge them, approval applies them through the ledger or the webhook, a rollback enables them again,
and the exports name the workflow."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from decisions.delivery import outbox as applying
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Application, AuditEvent, Proposal, Workflow
from decisions.review import exporting
from decisions.review import transitions as reviewing
from decisions.views import presenters
from objectives.models import Guardrail
from tests.factories import marketer

pytestmark = pytest.mark.django_db


def stored(workflow_id, name, *, fired_days_ago=None, created_days_ago=400, enrolled=0, used_by=(), tags=()):
    now = timezone.now()
    return Workflow.objects.create(
        platform="hubspot",
        workflow_id=workflow_id,
        name=name,
        status="enabled",
        created_at=now - dt.timedelta(days=created_days_ago),
        last_triggered_at=None if fired_days_ago is None else now - dt.timedelta(days=fired_days_ago),
        enrolled_90d=enrolled,
        used_by=list(used_by),
        tags=list(tags),
    )


@pytest.fixture
def inventory():
    stored("wf-1", "Welcome series", fired_days_ago=2, enrolled=1840)
    stored("wf-2", "Welcome series (old)", fired_days_ago=214)
    stored("wf-3", "Lead scoring sync", fired_days_ago=120, used_by=["wf-1"])
    stored("wf-4", "Double opt-in confirmation", fired_days_ago=300, tags=["compliance"])


def protect(severity: str) -> Guardrail:
    return Guardrail.objects.create(
        name="Never retire consent flows", kind="protected_workflows", severity=severity, params={"tag": "compliance"}
    )


def run_engine():
    started = generating.generation_start(force=True)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    return started.run


def retirements() -> list[Proposal]:
    return list(Proposal.objects.filter(kind="retire_workflow").order_by("id"))


def names(proposal: Proposal) -> list[str]:
    return [change["name"] for change in proposal.changes]


def test_a_run_proposes_retiring_the_stale_workflow_and_keeps_the_used_and_the_protected_ones(inventory):
    protect("block")
    run = run_engine()
    assert run.status == "succeeded", run.errors
    (proposal,) = retirements()
    assert names(proposal) == ["Welcome series (old)"]
    assert proposal.changes == [
        {
            "workflow_id": "wf-2",
            "platform": "hubspot",
            "name": "Welcome series (old)",
            "field": "status",
            "from": "enabled",
            "to": "retired",
        }
    ]
    assert proposal.campaign is None and proposal.lever == "status"
    (row,) = presenters.decorate([proposal])
    assert row.headline == "Retire Welcome series (old): last fired 214 days ago, 0 enrolments in 90 days"
    assert AuditEvent.objects.filter(action="proposal.created", proposal=proposal).exists()


def test_a_warn_level_protection_proposes_with_a_failing_warning(inventory):
    protect("warn")
    run_engine()
    consent = next(p for p in retirements() if names(p) == ["Double opt-in confirmation"])
    (verdict,) = consent.guardrail_verdicts
    assert (verdict["kind"], verdict["severity"], verdict["passed"]) == ("protected_workflows", "warn", False)
    assert "Double opt-in confirmation" in verdict["message"]
    with pytest.raises(reviewing.ConfirmationRequired):
        reviewing.proposal_approve(proposal=consent, actor=marketer())


def test_a_second_run_over_the_same_data_proposes_nothing_twice(inventory):
    run_engine()
    first = len(retirements())
    run_engine()
    assert len(retirements()) == first


def approve_and_apply(proposal: Proposal, actor) -> Application:
    reviewing.proposal_approve(proposal=proposal, actor=actor)
    row = Application.objects.get(proposal=proposal, direction="apply")
    return applying.application_apply(application_id=row.pk)


def test_approving_retires_it_through_the_ledger_and_a_rollback_enables_it_again(inventory):
    protect("block")
    run_engine()
    (proposal,) = retirements()
    person = marketer()
    row = approve_and_apply(proposal, person)
    assert row.status == "succeeded"
    workflow = Workflow.objects.get(workflow_id="wf-2")
    assert workflow.status == "retired" and workflow.retired_at is not None
    proposal.refresh_from_db()
    assert proposal.status == "applied"
    event = AuditEvent.objects.get(action="application.succeeded", proposal=proposal)
    assert event.machine_payload["result"]["written"] == [
        {"workflow_id": "wf-2", "field": "status", "value": "retired"}
    ]

    undo = reviewing.proposal_rollback(proposal=proposal, actor=person, reason="The team still sends it by hand")
    applying.application_apply(application_id=undo.pk)
    workflow.refresh_from_db()
    assert workflow.status == "enabled" and workflow.retired_at is None
    proposal.refresh_from_db()
    assert proposal.status == "rolled_back"
    assert AuditEvent.objects.filter(action="proposal.rolled_back", proposal=proposal).exists()


def test_a_workflow_switched_off_on_the_platform_since_makes_the_proposal_out_of_date(inventory):
    run_engine()
    proposal = next(p for p in retirements() if names(p) == ["Welcome series (old)"])
    Workflow.objects.filter(workflow_id="wf-2").update(status="disabled")
    with pytest.raises(reviewing.ProposalOutOfDate, match="Welcome series \\(old\\)'s status is disabled now"):
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    (row,) = presenters.decorate([proposal])
    assert "status is disabled now, not the enabled" in row.out_of_date


def test_the_webhook_carries_the_platform_and_the_workflow_id(inventory, receiver):
    server = receiver([])
    run_engine()
    proposal = next(p for p in retirements() if names(p) == ["Welcome series (old)"])
    row = approve_and_apply(proposal, marketer())
    assert row.status == "succeeded" and row.platform == "hubspot"
    (request,) = server.requests
    (change,) = request["body"]["changes"]
    assert (change["platform"], change["workflow_id"], change["to"]) == ("hubspot", "wf-2", "retired")
    # The webhook does not write Waypoint's table: the next import brings the platform's status back.
    assert Workflow.objects.get(workflow_id="wf-2").status == "enabled"


def test_export_proposals_json_names_the_workflow(inventory, tmp_path):
    run_engine()
    proposal = next(p for p in retirements() if names(p) == ["Welcome series (old)"])
    record = json.loads(json.dumps(exporting.proposal_record(proposal), default=str))
    assert record["kind"] == "retire_workflow"
    assert record["changes"] == [
        {"workflow_id": "wf-2", "platform": "hubspot", "field": "status", "from": "enabled", "to": "retired"}
    ]
    header, row = list(exporting.csv_rows([proposal]))
    assert row[header.index("campaign_ids")] == ""


def test_an_applied_retirement_reads_in_every_page_and_export_and_is_never_measured(inventory, client):
    from django.urls import reverse

    from decisions.outcomes.service import candidates
    from tests.factories import viewer

    run_engine()
    proposal = next(p for p in retirements() if names(p) == ["Welcome series (old)"])
    approve_and_apply(proposal, marketer())
    assert proposal not in candidates(today=timezone.localdate())
    client.force_login(viewer())
    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert "Retire Welcome series (old)" in page
    assert "Budget use" not in page and "Not measured yet" not in page and "Platform view" not in page
    expected = {
        "history": "Welcome series (old) status: enabled → retired".encode(),
        "history-csv": b'""workflow_id"": ""wf-2""',
        "reports": b"Workflows retired: <strong>1</strong>",
        "report-csv": b"retire_workflow",
    }
    for name, said in expected.items():
        response = client.get(reverse(f"decisions:{name}"))
        assert response.status_code == 200, name
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert said in body, name


def test_a_guardrail_backtest_counts_the_retirements_a_new_protection_would_have_blocked(inventory):
    from decisions.review.backtest import backtest
    from objectives import guardrails

    run_engine()
    consent = next(p for p in retirements() if names(p) == ["Double opt-in confirmation"])
    rule = guardrails.Rule("Never retire consent flows", "protected_workflows", {}, "block", {"tag": "compliance"})
    found = backtest(candidate=rule)
    assert found.own_blocked == 1
    assert [row.proposal_id for row in found.rows if row.verdict and not row.verdict.passed] == [consent.pk]


def test_a_workflow_a_person_kept_is_not_proposed_again_for_one_audit_period(inventory):
    from decisions.workflows import selectors

    run_engine()
    proposal = next(p for p in retirements() if names(p) == ["Welcome series (old)"])
    reviewing.proposal_reject(proposal=proposal, actor=marketer(username="mo"), reason_code="strategy", note="")
    audit = selectors.audit_today()
    assert "wf-2" not in [w.workflow_id for group in audit.retire for w in group]
    (kept,) = [hold for hold in audit.held if hold.workflow.workflow_id == "wf-2"]
    assert kept.reason.startswith("Not proposed: kept: mo rejected its retirement on ")
    later = timezone.localdate() + dt.timedelta(days=91)
    assert "wf-2" in [w.workflow_id for group in selectors.audit_today(today=later).retire for w in group]


def test_the_edit_form_offers_the_workflow_s_own_statuses(inventory, client):
    from django.urls import reverse

    run_engine()
    proposal = next(p for p in retirements() if names(p) == ["Welcome series (old)"])
    client.force_login(marketer())
    page = client.get(reverse("decisions:proposal-edit", args=[proposal.pk])).content.decode()
    assert "Welcome series (old): status" in page
    assert 'value="retired"' in page and 'value="enabled"' in page and 'value="paused"' not in page


def test_the_demo_inventory_gives_the_queue_its_retirements_and_the_page_its_cases():
    from decisions.demo.seed import starter_guardrails
    from decisions.demo.workflows import seed_workflows
    from decisions.engine.simulator import make_world
    from decisions.workflows import selectors

    for spec in starter_guardrails(make_world(4, seed=1)):
        if spec["kind"] == "protected_workflows":
            Guardrail.objects.create(**spec)
    assert seed_workflows(today=timezone.localdate(), label="seed_demo") == 11
    audit = selectors.audit_today()
    assert [[w.name for w in group] for group in audit.retire] == [
        ["Black Friday 2023 teaser"],
        ["Webinar follow-up 2024", "Webinar no-show nudge"],
        ["Welcome series (old)"],
    ]
    assert {hold.workflow.name for hold in audit.held} == {"Lead scoring sync", "Double opt-in confirmation"}
    assert [(a.name, b.name) for a, b in audit.duplicates] == [("Welcome series", "Welcome series (old)")]


def test_the_queue_says_a_retirement_moves_no_objective_value_rather_than_showing_zeros(inventory, client):
    run_engine()
    [proposal, *_] = retirements()
    client.force_login(marketer())
    page = client.get("/").content.decode()
    row = page[page.index(f'id="proposal-{proposal.pk}"') :].split("</tbody>")[0]
    assert "No effect on pipeline value: it removes upkeep" in row
    assert "$0 to $0" not in row
