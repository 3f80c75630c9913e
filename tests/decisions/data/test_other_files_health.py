"""The files besides campaign performance are checked too: outcome totals, transactions, tests, workflow lists."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from decisions.data import health
from decisions.engine import data_health as checks
from decisions.models import DailyTotal, Experiment, Transaction, Workflow
from tests.factories import marketer

TODAY = dt.date(2026, 11, 30)


def weeks(values):
    start = TODAY - dt.timedelta(weeks=len(values))
    return [(start + dt.timedelta(weeks=k), v) for k, v in enumerate(values)]


# --- the checks (pure) --------------------------------------------------------------------------------------


def test_totals_gone_to_zero_after_periods_with_value_are_a_failed_export():
    [finding] = checks.totals_findings(weeks([900.0] * 20 + [0.0, 0.0]), 7, TODAY)
    assert (finding.check, finding.severity, finding.source) == (checks.TOTALS_ZERO, checks.FAIL, "totals")
    assert "zero for the last 2 periods" in finding.message


def test_one_zero_week_or_totals_that_were_often_zero_are_not_a_failed_export():
    assert checks.totals_findings(weeks([900.0] * 20 + [0.0]), 7, TODAY) == []
    assert checks.totals_findings(weeks([900.0, 0.0] * 10 + [0.0, 0.0]), 7, TODAY) == []


def test_totals_whose_newest_period_is_long_past_are_stale():
    old = [(TODAY - dt.timedelta(days=60 - k), 100.0) for k in range(30)]
    [finding] = checks.totals_findings(old, 1, TODAY)
    assert (finding.check, finding.severity, finding.source) == (checks.STALE, checks.REVIEW, "totals")


def test_the_other_files_each_say_when_they_are_stale_or_unbalanced():
    files = checks.OtherFiles(
        newest_transaction=TODAY - dt.timedelta(days=10),
        unbalanced_experiments=[("Spring e-mail test", "age")],
        newest_inventory=TODAY - dt.timedelta(days=45),
    )
    found = {f.source: f for f in checks.other_files(files, TODAY)}
    assert set(found) == {"transactions", "experiments", "workflows"}
    assert found["experiments"].check == checks.BROKEN_RANDOMISATION
    assert "Spring e-mail test" in found["experiments"].message and "(age)" in found["experiments"].message
    fresh = checks.OtherFiles(newest_transaction=TODAY, newest_inventory=TODAY - dt.timedelta(days=5))
    assert checks.other_files(fresh, TODAY) == []


# --- stored with every check, shown on the Data page ----------------------------------------------------------


@pytest.mark.django_db
def test_a_check_reads_the_other_files_and_the_data_page_shows_their_sources(client):
    for day, value in weeks([900.0] * 12 + [0.0, 0.0]):
        DailyTotal.objects.create(date=day, source="totals", closed_revenue=Decimal(str(value)), period_days=7)
    Transaction.objects.create(customer_id="c1", date=TODAY - dt.timedelta(days=20), amount=Decimal("40"))
    Experiment.objects.create(
        name="Spring e-mail test",
        control_arm="no e-mail",
        balance={"passed": False, "attributes": [{"name": "age", "flagged": True}]},
    )
    Workflow.objects.create(platform="hubspot", workflow_id="1", name="Welcome series", status="enabled")

    check = health.data_health_check(trigger="test", today=TODAY, metric="closed_revenue")

    sources = {f["source"]: f for f in check.findings}
    assert sources["totals"]["check"] == checks.TOTALS_ZERO
    assert sources["transactions"]["check"] == checks.STALE
    assert sources["experiments"]["check"] == checks.BROKEN_RANDOMISATION
    assert "workflows" not in sources  # imported today
    client.force_login(marketer())
    page = client.get(reverse("decisions:data")).content.decode()
    assert "Outcome totals (channel mix)" in page and "Randomised tests" in page
    assert "Workflow inventory" not in page  # no finding about it: not listed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("importer", "example", "trigger"),
    [
        ("decisions.data.totals.import_totals", "examples/totals.csv", "totals import"),
        ("decisions.workflows.services.import_workflows", "examples/workflows.csv", "workflows import"),
    ],
)
def test_importing_totals_or_a_workflow_list_checks_the_data_once_it_commits(importer, example, trigger):
    from importlib import import_module
    from pathlib import Path

    from decisions.models import DataHealthCheck

    module, name = importer.rsplit(".", 1)
    path = Path(__file__).resolve().parents[3] / example
    with path.open("rb") as stream:
        outcome = getattr(import_module(module), name)(
            stream=stream, filename=path.name, dry_run=False, size_bytes=path.stat().st_size, label="test"
        )
    assert outcome.ok
    assert DataHealthCheck.objects.filter(trigger=trigger).count() == 1
