"""The History page's filters: who decided (a person or the auto-approval policy), what kind, which campaign or
channel, which decision and reason, when, and overrides only."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from decisions import date_window
from decisions.models import Campaign, Proposal, Review
from decisions.review import attribution, kinds
from decisions.review import history as history_selectors

# How a proposal left the queue: what the reviewer or the policy decided, or what happened when nobody did.
DECISIONS = list(history_selectors.EXIT_LABELS.items())
OVERRIDES = [("any", "Overrides only"), *history_selectors.OVERRIDE_LABELS.items()]
BY_POLICY = "policy"


def reviewers() -> QuerySet:
    """Only people who have decided something: the list stays short and every choice finds rows."""
    users = get_user_model().objects.filter(pk__in=Review.objects.values("reviewer"))
    return users.order_by("username")


def deciders() -> list[tuple[str, str]]:
    """The auto-approval policy, then each person who decided something, by username."""
    return [(BY_POLICY, "Auto-approval policy"), *((str(user.pk), str(user)) for user in reviewers())]


def channels() -> list[tuple[str, str]]:
    names = Campaign.objects.exclude(channel="").order_by("channel").values_list("channel", flat=True).distinct()
    return [(name, name) for name in names]


def validate_query_date(day: dt.date) -> None:
    """Refuse a date Waypoint cannot hold (9999-12-31 would also overflow the day-after arithmetic below)."""
    if not date_window.contains(day):
        raise ValidationError(f"Pick a date from {date_window.describe()}.", code="out_of_range")


def start_of(day: dt.date) -> dt.datetime:
    # A range on decided_at itself (not __date) keeps the comparison on the stored column.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class HistoryFilter(django_filters.FilterSet):
    reviewer = django_filters.ChoiceFilter(
        choices=deciders, method="filter_decider", label="Decided by", empty_label="Anyone"
    )
    kind = django_filters.ChoiceFilter(choices=kinds.choices, empty_label="Any kind")
    campaign = django_filters.CharFilter(
        method="filter_campaign",
        label="Campaign id",
        widget=forms.TextInput(attrs={"placeholder": "any", "size": 10}),
    )
    channel = django_filters.ChoiceFilter(
        choices=channels, method="filter_channel", label="Channel", empty_label="Any channel"
    )
    decision = django_filters.ChoiceFilter(
        choices=DECISIONS, method="filter_decision", label="Decision", empty_label="Any decision"
    )
    reason = django_filters.ChoiceFilter(
        field_name="review__reason_code", choices=Review.Reason.choices, label="Reject reason", empty_label="Any reason"
    )
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label="Decided from",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_query_date],
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label="to",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_query_date],
    )
    override = django_filters.ChoiceFilter(
        choices=OVERRIDES, method="filter_override", label="Overrides", empty_label="All decisions"
    )

    class Meta:
        model = Proposal
        fields: list[str] = []

    def filter_decider(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == BY_POLICY:
            return queryset.filter(review__by_policy=True)
        return queryset.filter(review__reviewer_id=int(value), review__by_policy=False)

    def filter_campaign(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Every proposal that moved the campaign (a shift's cuts and raises alike); ids match in any case."""
        wanted = value.strip()
        known = Campaign.objects.filter(external_id__iexact=wanted).values_list("external_id", flat=True).first()
        return queryset.filter(attribution.touches_campaign(known or wanted))

    def filter_channel(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The channel each proposal counts under in the report (decisions/review/attribution.py)."""
        return queryset.filter(attribution.in_channel(value))

    def filter_decision(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(history_selectors.exit_q(value))

    def filter_date_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(decided_at__gte=start_of(value))

    def filter_date_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(decided_at__lt=start_of(value + dt.timedelta(days=1)))

    def filter_override(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(history_selectors.override_q(value))
