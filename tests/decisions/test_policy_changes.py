"""What a policy change sets off in decisions: the queue's verdicts are re-checked; a new objective gets a run.

One receiver of objectives' `policy_changed`, so the objective page, the policy import page and
`manage.py policy import` behave the same (the pages are tested in tests/decisions/views/).
"""

import io
import json
import logging

import pytest
from django.core.management import call_command
from kombu.exceptions import OperationalError

from decisions import policy_changes
from decisions.models import GenerationRun, Proposal
from objectives import services
from objectives.models import Objective
from tests.factories import CampaignFactory, ProposalFactory, guardrail_admin

pytestmark = pytest.mark.django_db

TIGHT_MAX_MOVE = {"name": "Max move", "kind": "max_budget_change_pct", "params": {"pct": 10}}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block, then its on-commit callbacks, as the end of a real transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def a_pending_20_percent_raise() -> Proposal:
    campaign = CampaignFactory(daily_budget=100)
    changes = [{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0}]
    return ProposalFactory(campaign=campaign, changes=changes, guardrail_verdicts=[])


def verdicts(proposal: Proposal) -> list[tuple[str, bool]]:
    proposal.refresh_from_db()
    return [(verdict["name"], verdict["passed"]) for verdict in proposal.guardrail_verdicts]


def test_a_guardrail_change_rechecks_the_queue_and_starts_no_run(committed):
    proposal = a_pending_20_percent_raise()
    with committed():
        services.guardrail_create(**TIGHT_MAX_MOVE, reason="smaller steps")
    assert verdicts(proposal) == [("Max move", False)]
    assert not GenerationRun.objects.exists()


def test_each_new_objective_starts_one_forced_run_for_whoever_changed_it(committed):
    admin = guardrail_admin()
    for metric in ("pipeline_value", "closed_revenue", "pipeline_value"):
        with committed():
            services.objective_set(metric=metric, actor=admin, reason="planning")
    runs = GenerationRun.objects.order_by("pk").values_list("metric", "triggered_by")
    # Forced: going back to pipeline value gets a run of its own instead of the first one again.
    assert list(runs) == [("pipeline_value", admin.pk), ("closed_revenue", admin.pk), ("pipeline_value", admin.pk)]


def test_the_policy_command_gets_the_same_follow_ups_as_the_pages(committed, tmp_path):
    proposal = a_pending_20_percent_raise()
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"objective": {"metric": "closed_revenue"}, "guardrails": [TIGHT_MAX_MOVE]}))
    with committed():
        call_command("policy", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert verdicts(proposal) == [("Max move", False)]
    run = GenerationRun.objects.get()
    assert (run.metric, run.triggered_by) == ("closed_revenue", None)


def test_a_policy_command_import_that_keeps_the_objective_starts_no_run(committed, tmp_path):
    services.objective_set(metric="closed_revenue", reason="start")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"objective": {"metric": "closed_revenue"}, "guardrails": [TIGHT_MAX_MOVE]}))
    with committed():
        call_command("policy", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not GenerationRun.objects.exists()


class UnreachableBroker:
    """Stands in for a task whose publish fails, as Celery's does while Redis is down."""

    def __init__(self, name: str):
        self.name = name
        self.attempts = 0

    def apply_async(self, *args, **options):
        self.attempts += 1
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_broker_outage_is_logged_and_neither_the_change_nor_the_other_follow_up_is_lost(
    committed, monkeypatch, caplog
):
    refresh, generate = UnreachableBroker("refresh"), UnreachableBroker("generate")
    monkeypatch.setattr(policy_changes, "refresh_pending_verdicts", refresh)
    monkeypatch.setattr(policy_changes, "generate_proposals", generate)
    with caplog.at_level(logging.ERROR, logger="decisions.queueing"), committed():
        services.objective_set(metric="closed_revenue", reason="planning")
    assert Objective.objects.get(is_active=True).metric == "closed_revenue"
    run = GenerationRun.objects.get()
    assert (refresh.attempts, generate.attempts) == (1, 1)
    assert [record.getMessage() for record in caplog.records if record.name == "decisions.queueing"] == [
        "could not queue refresh(); the change that set it off stands",
        f"could not queue generate({run.pk}); the change that set it off stands",
    ]
