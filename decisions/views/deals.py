"""The deals page (match rates, unmatched references and deals, the alias table), the deals upload and the
page that follows one deals import."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.data import deal_figures, deal_selectors, importing
from decisions.data.tasks import import_deals_file
from decisions.models import Campaign, ImportRun
from decisions.queueing import WORKERS_AWAY

TEMPLATE = "decisions/deals.html"
RUN_TEMPLATE = "decisions/deal_import.html"
DEALS_PER_PAGE = 50
admin_only = roles.role_required(roles.GUARDRAIL_ADMIN)


def _render_deals(request: HttpRequest, *, status: int = 200, form_error: str = "") -> HttpResponse:
    references, reference_count = deal_selectors.unmatched_references()
    page = Paginator(deal_selectors.uncredited_deals(), DEALS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "summary": deal_selectors.match_summary(),
        "references": references,
        "reference_count": reference_count,
        "deals_page": page,
        "aliases": deal_selectors.aliases(),
        "totals": deal_selectors.daily_totals_summary(),
        "campaigns": Campaign.objects.filter(archived_at__isnull=True).only("pk", "external_id", "name"),
        "imports": ImportRun.objects.filter(kind="deals").select_related("uploaded_by")[:5],
        "weighted": settings.WAYPOINT_DEAL_PIPELINE_WEIGHTED,
        "form_error": form_error,
    }
    template = f"{TEMPLATE}#uncredited" if request.htmx and request.GET.get("page") else TEMPLATE
    return render(request, template, context, status=status)


@require_GET
def deals(request: HttpRequest) -> HttpResponse:
    return _render_deals(request)


@require_POST
@admin_only
def deals_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return _render_deals(request, status=400, form_error="Choose a CSV file of deals to import.")
    dry_run = request.POST.get("dry_run") == "on"
    campaign_column = request.POST.get("campaign_column", "").strip() or None
    if upload.size <= settings.IMPORT_INLINE_MAX_BYTES:
        run = importing.import_run_create(
            filename=upload.name, size_bytes=upload.size, actor=request.user, dry_run=dry_run, kind="deals"
        )
        with upload.open("rb") as stream:
            deal_figures.deal_run_execute(run=run, stream=stream, campaign_column=campaign_column)
        return redirect("decisions:deal-import-run", pk=run.pk)
    if campaign_column:
        # The background import reads the export's own columns; a chosen one travels only inline.
        return _render_deals(
            request,
            status=400,
            form_error="A campaign column can be chosen for files up to "
            f"{settings.IMPORT_INLINE_MAX_BYTES // 1024} KB here; import larger ones with manage.py import_deals.",
        )
    run, publication = importing.upload_queue(
        upload, actor=request.user, dry_run=dry_run, kind="deals", task=import_deals_file
    )
    if publication.reached_broker is False:
        messages.warning(request, f"{run.filename}: {WORKERS_AWAY}")
    return redirect("decisions:deal-import-run", pk=run.pk)


@require_GET
def deal_import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = importing.with_live_progress(
        get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk, kind="deals")
    )
    template = f"{RUN_TEMPLATE}#run-status" if request.htmx else RUN_TEMPLATE
    return render(request, template, {"run": run})


@require_POST
@admin_only
def alias_add(request: HttpRequest) -> HttpResponse:
    campaign = Campaign.objects.filter(pk=request.POST.get("campaign") or 0).first()
    reference = request.POST.get("reference", "")
    if campaign is None:
        messages.error(request, f"Choose the campaign “{reference}” means.")
        return _render_deals(request, status=422)
    try:
        alias = deal_figures.campaign_alias_add(reference=reference, campaign=campaign, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return _render_deals(request, status=422)
    except deal_figures.AliasStateError as error:
        messages.error(request, str(error))
        return _render_deals(request, status=409)
    messages.success(request, f"Deals naming “{alias.reference}” now count for {campaign}.")
    return redirect("decisions:deals")


@require_POST
@admin_only
def alias_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        alias = deal_figures.campaign_alias_remove(alias_id=pk, actor=request.user)
    except deal_figures.AliasStateError as error:
        messages.error(request, str(error))
        return _render_deals(request, status=409)
    messages.success(request, f"“{alias.reference}” no longer means {alias.campaign}; its deals are unmatched again.")
    return redirect("decisions:deals")
