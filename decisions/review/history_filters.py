"""The History page's filters: who decided, what kind, which decision and reason, when, and overrides only."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from decisions import date_window
from decisions.models import Proposal, Review
from decisions.review import history as history_selectors
from decisions.review import kinds

# A decision is what the reviewer did, or what happened when nobody did.
DECISIONS = [
    (Review.Decision.APPROVED, "Approved as proposed"),
    (Review.Decision.EDITED, "Edited and approved"),
    (Review.Decision.REJECTED, "Rejected"),
    (Proposal.Status.EXPIRED, "Expired (nobody decided)"),
    (Proposal.Status.SUPERSEDED, "Superseded by a newer proposal"),
]
OVERRIDES = [("any", "Overrides only"), *history_selectors.OVERRIDE_LABELS.items()]


def reviewers() -> QuerySet:
    """Only people who have decided something: the list stays short and every choice finds rows."""
    users = get_user_model().objects.filter(pk__in=Review.objects.values("reviewer"))
    return users.order_by("username")


def validate_query_date(day: dt.date) -> None:
    """Refuse a date Waypoint cannot hold (9999-12-31 would also overflow the day-after arithmetic below)."""
    if not date_window.contains(day):
        raise ValidationError(f"Pick a date from {date_window.describe()}.", code="out_of_range")


def _start_of(day: dt.date) -> dt.datetime:
    # A range on decided_at itself (not __date) keeps the comparison on the stored column.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class HistoryFilter(django_filters.FilterSet):
    reviewer = django_filters.ModelChoiceFilter(
        field_name="review__reviewer", queryset=lambda request: reviewers(), label="Decided by", empty_label="Anyone"
    )
    kind = django_filters.ChoiceFilter(choices=kinds.choices, empty_label="Any kind")
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

    def filter_decision(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value in Review.Decision.values:
            return queryset.filter(review__decision=value)
        return queryset.filter(Q(status=value) & Q(review__isnull=True))

    def filter_date_from(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(decided_at__gte=_start_of(value))

    def filter_date_to(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(decided_at__lt=_start_of(value + dt.timedelta(days=1)))

    def filter_override(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(history_selectors.override_q(value))
