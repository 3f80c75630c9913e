"""A monthly budget through the guardrail form: created, refused, forbidden, audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from decisions.models import AuditEvent
from objectives.models import Guardrail
from tests.factories import CampaignFactory, guardrail_admin, marketer

pytestmark = pytest.mark.django_db

NEW = reverse("objectives:guardrail-new")


@pytest.fixture
def campaign():
    return CampaignFactory(external_id="SIM-0001", name="Search – Brand", channel="search", daily_budget=Decimal("200"))


def form(**overrides) -> dict:
    data = {
        "name": "Search spends 6,000 a month",
        "kind": "monthly_budget",
        "severity": "warn",
        "scope_type": "channel",
        "scope_value": "search",
        "param_amount": "6000",
        "reason": "Finance set the month's search budget",
    }
    return data | overrides


def test_an_admin_creates_a_monthly_budget_and_it_is_audited(client, campaign):
    client.force_login(guardrail_admin(username="ada"))
    response = client.post(NEW, form())
    assert response.status_code == 302
    guardrail = Guardrail.objects.get(name="Search spends 6,000 a month")
    assert (guardrail.kind, guardrail.scope, guardrail.params) == (
        "monthly_budget",
        {"channel": "search"},
        {"amount": 6000},
    )
    event = AuditEvent.objects.get(action="guardrail.created", guardrail=guardrail)
    assert (event.human_payload["kind"], event.human_payload["params"]) == ("monthly_budget", {"amount": 6000})
    assert event.actor.username == "ada"
    assert event.reason == "Finance set the month's search budget"


def test_a_negative_amount_is_refused_on_its_field(client, campaign):
    client.force_login(guardrail_admin(username="ada"))
    response = client.post(NEW, form(param_amount="-5"))
    assert response.status_code == 422
    assert "param_amount" in response.context["form"].errors
    assert not Guardrail.objects.filter(kind="monthly_budget").exists()


def test_a_marketer_may_not_create_one(client, campaign):
    client.force_login(marketer())
    assert client.post(NEW, form()).status_code == 403
    assert not Guardrail.objects.exists()


def test_the_form_answers_only_get_and_post(client, campaign):
    client.force_login(guardrail_admin(username="ada"))
    assert client.put(NEW, form()).status_code == 405
    assert client.get(NEW, {"kind": "monthly_budget"}).status_code == 200
    assert "Spend allowed in a calendar month" in client.get(NEW, {"kind": "monthly_budget"}).content.decode()
