"""The mix demo raises the starter total budget cap for its own campaigns, audited, so a channel may be tested."""

import datetime as dt

import pytest
from django.db.models import Sum

from decisions.audit.actions import Action
from decisions.demo.mix import raise_total_cap_for_new_campaigns, seed_mix_world
from decisions.demo.seed import demo_seed
from decisions.models import AuditEvent, Campaign, DailyMetric, DailyTotal
from objectives.models import Guardrail

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


def _cap() -> Guardrail:
    return Guardrail.objects.get(kind="total_budget_cap", name="Total daily budget cap", is_active=True)


def test_the_cap_is_set_a_tenth_above_the_total_with_the_mix_campaigns_and_audited():
    demo_seed(n_campaigns=6, days=45, seed=3, end_date=END)
    starter = _cap().params["amount"]
    seed_mix_world(end=END, weeks=30, daily=False)
    total = float(Campaign.objects.filter(status="active").aggregate(total=Sum("daily_budget"))["total"])
    assert total > starter  # every raise would be blocked without the change
    raised = raise_total_cap_for_new_campaigns()
    assert raised == _cap().params["amount"] and total * 1.1 <= raised < total * 1.1 + 100
    event = AuditEvent.objects.filter(action=Action.GUARDRAIL_UPDATED).latest("pk")
    assert "mix world" in event.reason


def test_a_cap_already_above_the_total_is_left_alone():
    demo_seed(n_campaigns=6, days=45, seed=3, end_date=END)
    before = _cap().params["amount"]
    assert raise_total_cap_for_new_campaigns() is None
    assert _cap().params["amount"] == before
    assert not AuditEvent.objects.filter(action=Action.GUARDRAIL_UPDATED).exists()


def test_daily_rows_run_to_the_last_day_while_totals_cover_full_weeks_only():
    thursday = dt.date(2026, 11, 26)
    world, campaigns = seed_mix_world(end=thursday, weeks=20, daily=True)
    last_row = DailyMetric.objects.filter(campaign__in=campaigns).latest("date").date
    assert last_row == thursday  # no days missing before yesterday: data health has nothing to flag
    last_total = DailyTotal.objects.latest("date").date
    assert last_total == dt.date(2026, 11, 16) and last_total + dt.timedelta(days=6) < thursday
    assert DailyTotal.objects.count() == 20
    days = DailyMetric.objects.filter(campaign=campaigns[0]).count()
    assert days == 20 * 7 + 4  # four days of the week that has no total yet
