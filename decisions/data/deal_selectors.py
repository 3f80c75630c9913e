"""Reads for the deals page: how many deals (and how much of their value) credit a campaign, the references
that match none with what they may mean, the deals no campaign is credited with, the aliases."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from decisions.data.deal_figures import TOTALS_SOURCE
from decisions.data.deal_matching import BY_ALIAS, Suggestion, suggest
from decisions.models import CampaignAlias, DailyTotal, Deal

MAX_LISTED_REFERENCES = 50


@dataclass(frozen=True)
class Share:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class MatchSummary:
    total: Share
    matched: Share
    unmatched: Share  # a campaign reference that matches no campaign
    without_campaign: Share  # no reference at all
    by_method: dict[str, int]  # id, name, alias → deals

    @property
    def rate_by_count(self) -> float | None:
        return self.matched.count / self.total.count if self.total.count else None

    @property
    def rate_by_amount(self) -> float | None:
        """Attribution coverage: the share of the deals' value a campaign is credited with."""
        return float(self.matched.amount / self.total.amount) if self.total.amount else None


def _share(deals: QuerySet[Deal]) -> Share:
    found = deals.aggregate(count=Count("pk"), amount=Sum("amount"))
    return Share(found["count"], found["amount"] or Decimal(0))


def match_summary() -> MatchSummary:
    deals = Deal.objects.order_by()
    methods = dict(
        deals.filter(campaign__isnull=False).values("matched_by").annotate(n=Count("pk")).values_list("matched_by", "n")
    )
    return MatchSummary(
        total=_share(deals),
        matched=_share(deals.filter(campaign__isnull=False)),
        unmatched=_share(deals.filter(campaign__isnull=True).exclude(campaign_ref="")),
        without_campaign=_share(deals.filter(campaign__isnull=True, campaign_ref="")),
        by_method=methods,
    )


@dataclass(frozen=True)
class UnmatchedReference:
    reference: str
    deals: int
    amount: Decimal
    suggestions: list[Suggestion]


def unmatched_references(limit: int = MAX_LISTED_REFERENCES) -> tuple[list[UnmatchedReference], int]:
    """The references matching no campaign, the largest amounts first, each with its suggestions; and how
    many there are in all."""
    grouped = (
        Deal.objects.filter(campaign__isnull=True)
        .exclude(campaign_ref="")
        .order_by()
        .values("campaign_ref_key")
        .annotate(deals=Count("pk"), amount=Sum("amount"), reference=Max("campaign_ref"))
        .order_by("-amount", "campaign_ref_key")
    )
    total = grouped.count()
    rows = list(grouped[:limit])
    suggestions = suggest([row["reference"] for row in rows])
    listed = [
        UnmatchedReference(row["reference"], row["deals"], row["amount"] or Decimal(0), suggestions[row["reference"]])
        for row in rows
    ]
    return listed, total


def uncredited_deals() -> QuerySet[Deal]:
    """Every deal no campaign is credited with, the largest first: listed on the page, never dropped."""
    return Deal.objects.filter(campaign__isnull=True).order_by("-amount", "source", "deal_id")


def aliases() -> QuerySet[CampaignAlias]:
    """Each alias with the stored deals it matches."""
    matched = (
        Deal.objects.filter(campaign_ref_key=OuterRef("reference_key"), matched_by=BY_ALIAS)
        .order_by()
        .values("campaign_ref_key")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return CampaignAlias.objects.select_related("campaign", "created_by").annotate(deals=Coalesce(Subquery(matched), 0))


def daily_totals_summary() -> dict:
    found = DailyTotal.objects.filter(source=TOTALS_SOURCE).aggregate(
        days=Count("pk"), pipeline=Sum("pipeline_value"), closed=Sum("closed_revenue")
    )
    return {key: value or 0 for key, value in found.items()}
