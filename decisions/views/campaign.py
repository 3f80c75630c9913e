"""A campaign's page: its change timeline drawn over its daily spend and objective, and the list of changes."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from decisions.models import Campaign
from decisions.review import campaign_changes
from decisions.views import pacing as pacing_views

TEMPLATE = "decisions/campaign.html"


@require_GET
def campaign_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, external_id=external_id)
    objective = campaign_changes.current_objective()
    series = campaign_changes.daily_series(campaign, objective)
    proposals = campaign_changes.changes(campaign)
    lines = campaign_changes.markers(proposals)
    chart = {
        "series": campaign_changes.through_markers(series, lines),
        "markers": lines,
        "objective": {"label": objective.label, "unit": objective.unit.noun, "money": objective.unit.is_money},
    }
    context = {
        "campaign": campaign,
        "objective": objective,
        "chart": chart if series else None,
        "days": len(series),
        "proposals": proposals,
        "limit": campaign_changes.CHANGE_LIMIT,
        "history_url": f"{reverse('decisions:history')}?{urlencode({'campaign': campaign.external_id})}",
        "utilization": pacing_views.utilization_by_pk(campaign_ids=[campaign.pk]).get(campaign.pk),
    }
    return render(request, TEMPLATE, context)
