"""Redis is down when a policy changes or data arrives: the change commits, the lost follow-ups are logged.

Follow-ups (re-checking the queue, a new run, refreshing outcomes) are queued after the commit; a broker
outage must cost only them, never the change the person made. Real PostgreSQL and a private redis-server,
as in test_redis_outage.py, whose fixtures these tests borrow.
"""

import io
import logging
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from decisions.models import DailyMetric, GenerationRun, ImportRun
from objectives import services
from objectives.models import Guardrail, Objective
from tests.decisions.test_redis_outage import celery_on_private_redis, private_redis  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Each lost publish gives up after about 0.6 s; two of them must still return well within this.
PATIENT_ADMIN_SECONDS = 5.0


@pytest.fixture
def redis_down(request):
    redis = request.getfixturevalue("celery_on_private_redis")
    redis.stop()
    assert not redis.answers()
    return redis


def test_an_objective_change_while_redis_is_down_stands_and_says_what_was_lost(redis_down, caplog):
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        services.objective_set(metric="closed_revenue", reason="planning")
        services.guardrail_create(name="Cooldown", kind="cooldown", params={"days": 3}, reason="calmer")
    waited = time.monotonic() - started

    assert waited < PATIENT_ADMIN_SECONDS, f"the change blocked for {waited:.1f} s"
    assert Objective.objects.get(is_active=True).metric == "closed_revenue"
    assert Guardrail.objects.get().name == "Cooldown"
    run = GenerationRun.objects.get()  # opened, but its fitting could not be queued
    lost = [record.getMessage() for record in caplog.records if record.name == "decisions.queueing"]
    assert lost == [
        "could not queue decisions.tasks.refresh_pending_verdicts(); the change that set it off stands",
        f"could not queue decisions.tasks.generate_proposals({run.pk}); the change that set it off stands",
        "could not queue decisions.tasks.refresh_pending_verdicts(); the change that set it off stands",
    ]


def test_an_import_while_redis_is_down_is_kept(redis_down, caplog):
    out = io.StringIO()
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        call_command("import_performance", str(FIXTURES / "generic.csv"), stdout=out, stderr=io.StringIO())
    waited = time.monotonic() - started

    assert waited < PATIENT_ADMIN_SECONDS, f"the import blocked for {waited:.1f} s"
    assert "wrote 4 daily rows" in out.getvalue()
    assert DailyMetric.objects.count() == 4
    assert ImportRun.objects.get().status == ImportRun.Status.SUCCEEDED
    lost = [record.getMessage() for record in caplog.records if record.name == "decisions.queueing"]
    assert lost == [
        "could not queue decisions.outcome_tasks.refresh_outcomes(); the change that set it off stands",
        "could not queue decisions.tasks.refresh_pending_verdicts(); the change that set it off stands",
        "could not queue decisions.tasks.check_data_health('performance import'); the change that set it off stands",
    ]
