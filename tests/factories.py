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


def linear_curve(campaign: str, slope: float, low: float, high: float) -> dict:
    """A stored response curve that is a straight line (value = slope × spend per day), with its 80% band."""
    spend = [0.0, 100.0, 200.0, 300.0]
    return {
        "campaign": campaign,
        "spend": spend,
        "value": [slope * s for s in spend],
        "low": [low * s for s in spend],
        "high": [high * s for s in spend],
        "marginal": slope,
    }


def shift_with_curves() -> Proposal:
    """Display – Prospecting gives $20/day to Search – Brand, with straight-line curves to re-estimate edits from."""
    giver = CampaignFactory(name="Display – Prospecting", external_id="SIM-0028", channel="display", daily_budget=143)
    taker = CampaignFactory(name="Search – Brand", external_id="SIM-0020", channel="search")
    return ProposalFactory(
        kind=kinds.BUDGET_SHIFT.name,
        campaign=taker,
        changes=[
            {"campaign": giver.external_id, "field": "daily_budget", "from": 143.0, "to": 123.0},
            {"campaign": taker.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0},
        ],
        evidence={
            "curves": [linear_curve(giver.external_id, 1.0, 0.8, 1.2), linear_curve(taker.external_id, 3.0, 2.0, 4.0)]
        },
        expected_mean=280.0,
        expected_low=100.0,
        expected_high=460.0,
        p_loss=0.05,
    )
