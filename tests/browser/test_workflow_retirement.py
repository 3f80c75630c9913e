"""A marketer approves a workflow's retirement in the queue and undoes it; the Workflows page follows."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from decisions.models import Proposal, Workflow
from decisions.workflows import drafting
from tests.browser.conftest import log_in
from tests.browser.test_review import PASSWORD
from tests.factories import ProposalFactory, marketer


@pytest.fixture(autouse=True)
def patient_expect():
    expect.set_options(timeout=10_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def retirement(transactional_db) -> Proposal:
    now = timezone.now()
    workflow = Workflow.objects.create(
        platform="hubspot",
        workflow_id="wf-102",
        name="Welcome series (old)",
        created_at=now - dt.timedelta(days=900),
        last_triggered_at=now - dt.timedelta(days=214),
        enrolled_90d=0,
    )
    audited = drafting.rules.Workflow(
        platform="hubspot",
        workflow_id="wf-102",
        name=workflow.name,
        status="enabled",
        last_triggered_at=timezone.localdate() - dt.timedelta(days=214),
        enrolled_90d=0,
    )
    draft = drafting.draft_for([audited], metric="pipeline_value", today=timezone.localdate(), stale_after_days=90)
    return ProposalFactory(
        kind="retire_workflow",
        campaign=None,
        lever="status",
        changes=draft.changes,
        rationale=draft.rationale,
        evidence=draft.evidence,
        expected_mean=0,
        expected_low=0,
        expected_high=0,
        p_loss=0,
        guardrail_verdicts=[],
    )


@pytest.mark.parametrize("width", [1440, 390])
def test_a_marketer_retires_a_stale_workflow_and_undoes_it(browser, live_server, screenshot, retirement, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    marketer(username="maya", first_name="Maya", last_name="Lind")
    log_in(page, live_server, "maya", PASSWORD)

    row = page.locator(f"#proposal-{retirement.pk}")
    expect(row).to_contain_text("Retire Welcome series (old): last fired 214 days ago, 0 enrolments in 90 days")
    screenshot(page, f"workflow-retirement-queue-{width}")
    row.get_by_role("button", name="Approve").first.click()
    # Tasks run in process here: the ledger retired it at commit.
    expect(row.locator(".status-pill.applied")).to_be_visible()
    assert Workflow.objects.get(workflow_id="wf-102").status == "retired"

    row.get_by_placeholder("Why roll back?").fill("Sales still relies on it")
    row.get_by_role("button", name="Rollback").click()
    expect(row.locator(".status-pill.rolled_back")).to_be_visible()
    assert Workflow.objects.get(workflow_id="wf-102").status == "enabled"

    page.goto(f"{live_server.url}/workflows/")
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Welcome series (old)")
    screenshot(page, f"workflows-page-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
