"""The data overview, and archiving a campaign created by mistake from it (guardrail admins)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.data import campaigns as campaign_services
from decisions.data import delivery
from decisions.models import Campaign
from decisions.review import selectors
from decisions.views import health as health_views
from decisions.views import pacing as pacing_views
from objectives import formatting

admin_only = roles.role_required(roles.GUARDRAIL_ADMIN)


def _render_data(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    campaigns = list(selectors.campaigns_with_latest_figures())
    # The window ends on the latest imported day, which the list already read: one query, not two.
    end = max((c.latest_date for c in campaigns if c.latest_date), default=None)
    # Every campaign's rows, not an IN list of thousands of ids; archived ones are simply not looked up.
    found = delivery.delivery_by_campaign(end=end) if end else {}
    health = health_views.overview({c.external_id: c.name or c.external_id for c in campaigns})
    for campaign in campaigns:
        campaign.utilization = pacing_views.utilization_view(found.get(campaign.pk))
        campaign.health = health["health_by_campaign"].get(campaign.external_id)
    context = {
        "campaigns": campaigns,
        "demand_limited": [
            (campaign, pacing_views.utilization_view(d), formatting.money(campaign.daily_budget))
            for campaign, d in delivery.demand_limited_campaigns(found)
        ],
        "archived": selectors.campaigns_with_latest_figures(archived=True).order_by("-archived_at"),
        "imports": selectors.recent_imports(),
        **health,
    }
    return render(request, "decisions/data.html", context, status=status)


@require_GET
def data(request: HttpRequest) -> HttpResponse:
    return _render_data(request)


def _change(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    """Call the archive or restore service; a missing reason answers 422, the wrong state 409, with the page."""
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        service(campaign=campaign, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError:
        messages.error(request, f"Say why, for {campaign}: the reason goes into the audit log.")
        return _render_data(request, status=422)
    except campaign_services.CampaignStateError as error:
        messages.error(request, str(error))
        return _render_data(request, status=409)
    messages.success(request, done.format(campaign=campaign))
    return redirect("decisions:data")


@require_POST
@admin_only
def campaign_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(
        request,
        pk,
        campaign_services.campaign_archive,
        "{campaign} archived: it is left out of engine runs, guardrail scopes and the campaign list. "
        "Restore it under “Archived”.",
    )


@require_POST
@admin_only
def campaign_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, campaign_services.campaign_restore, "{campaign} restored.")
