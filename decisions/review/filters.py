"""The review queue's filters: kind, channel, campaign and guardrail status (django-filter)."""

import django_filters
from django.db.models import Q, QuerySet

from decisions.models import Proposal
from decisions.review import kinds, selectors

GUARDRAIL_STATUSES = (
    ("pass", "Passes every guardrail"),
    ("warn", "Has warnings"),
    ("block", "Blocked"),
)


def _channel_choices() -> list[tuple[str, str]]:
    return [(channel, channel) for channel in selectors.campaign_channels()]


class QueueFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=kinds.choices, empty_label="Any kind", label="Kind")
    channel = django_filters.ChoiceFilter(
        field_name="campaign__channel", choices=_channel_choices, empty_label="Any channel", label="Channel"
    )
    # Free text, not a select: a team with a thousand campaigns must not render a thousand options per page.
    campaign = django_filters.CharFilter(method="filter_campaign", label="Campaign")
    guardrails = django_filters.ChoiceFilter(
        choices=GUARDRAIL_STATUSES, method="filter_guardrails", empty_label="Any verdict", label="Guardrails"
    )

    class Meta:
        model = Proposal
        fields = ["kind", "channel", "campaign", "guardrails"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read the channels once: the form validates and renders them, and each would query again. The field
        # puts its own empty choice ("Any channel") first.
        self.form.fields["channel"].choices = _channel_choices()
        self.form.fields["campaign"].widget.attrs.update({"placeholder": "Name or id", "type": "search"})

    def filter_campaign(self, queryset: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(campaign__external_id__iexact=value) | Q(campaign__name__icontains=value))

    def filter_guardrails(self, queryset: QuerySet[Proposal], name: str, value: str) -> QuerySet[Proposal]:
        return selectors.filter_by_guardrail_status(queryset, value)

    @property
    def active(self) -> bool:
        """Whether any filter narrows the queue (the empty state then says so)."""
        return self.is_bound and any(self.form.data.get(name) for name in self.filters)
