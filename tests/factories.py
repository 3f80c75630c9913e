"""Factories for the tests: every object with sensible defaults, overridable by keyword."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from decisions import access as roles
from decisions.models import Campaign, DailyMetric, GenerationRun, Proposal
from decisions.review import kinds
from objectives.models import Guardrail, Objective


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.add(Group.objects.get_or_create(name=extracted)[0])


def marketer(**kwargs) -> User:
    return UserFactory(role=roles.MARKETER, **kwargs)


def guardrail_admin(**kwargs) -> User:
    return UserFactory(role=roles.GUARDRAIL_ADMIN, **kwargs)


def viewer(**kwargs) -> User:
    return UserFactory(role=roles.VIEWER, **kwargs)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    external_id = factory.Sequence(lambda n: f"C{1000 + n}")
    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "search"
    platform = "google_ads"
    audience = "prospects"
    tags = factory.LazyFunction(list)
    daily_budget = Decimal("100.00")


class DailyMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyMetric

    campaign = factory.SubFactory(CampaignFactory)
    date = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    spend = Decimal("100.00")
    impressions = 10_000
    clicks = 200
    platform_conversions = 10.0
    platform_revenue = Decimal("500.00")
    leads = 5.0
    pipeline_value = Decimal("800.00")
    closed_revenue = None


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    metric = "pipeline_value"


class GuardrailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardrail

    name = factory.Sequence(lambda n: f"Guardrail {n}")
    kind = "max_budget_change_pct"
    severity = "block"
    params = factory.LazyFunction(lambda: {"pct": 20})


class GenerationRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GenerationRun

    metric = "pipeline_value"


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Proposal

    kind = kinds.BUDGET_CHANGE.name
    campaign = factory.SubFactory(CampaignFactory)
    changes = factory.LazyAttribute(
        lambda p: [{"campaign": p.campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0}]
    )
    rationale = "Spend more where the curve is still steep."
    expected_metric = "pipeline_value"
    expected_mean = 700.0
    expected_low = 300.0
    expected_high = 1100.0
    p_loss = 0.1
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
