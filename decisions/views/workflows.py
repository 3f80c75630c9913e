"""The Workflows page: the automation inventory, what the audit would retire and what it keeps, near-duplicates,
retirements over time; the inventory upload, "Audit now" and the audit's threshold."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import ImportRun
from decisions.queueing import WORKERS_AWAY, queue_after_commit
from decisions.workflows import selectors, services

TEMPLATE = "decisions/workflows.html"
reviewers_only = roles.role_required(roles.MARKETER, roles.GUARDRAIL_ADMIN)
admin_only = roles.role_required(roles.GUARDRAIL_ADMIN)


def _render(request: HttpRequest, *, status: int = 200, problems: list[str] | None = None, form_error: str = ""):
    audit = selectors.audit_today()
    rows = selectors.inventory(audit)
    context = {
        "audit": audit,
        "rows": rows,
        "counts": selectors.counts(),
        "pending": sorted(set(selectors.pending_retirements().values()), key=lambda p: p.created_at),
        "retired_by_month": selectors.retired_by_month(),
        "imports": ImportRun.objects.filter(kind="workflows").select_related("uploaded_by")[:5],
        "problems": problems or [],
        "form_error": form_error,
        "min_days": services.MIN_STALE_DAYS,
        "max_days": services.MAX_STALE_DAYS,
    }
    return render(request, TEMPLATE, context, status=status)


@require_GET
def workflows(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@reviewers_only
def workflows_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return _render(request, status=400, form_error="Choose a workflow export (CSV or JSON) to import.")
    run, outcome = services.workflow_upload(
        upload=upload, actor=request.user, dry_run=request.POST.get("dry_run") == "on"
    )
    if not outcome.ok:
        return _render(request, status=400, problems=outcome.problem_lines())
    verb = "would import" if run.dry_run else "imported"
    messages.success(
        request,
        f"{run.filename} ({outcome.source_label}): {verb} {outcome.rows_written} workflows "
        f"({outcome.created} new, {outcome.updated} updated)."
        + (" Dry run: nothing was written." if run.dry_run else ""),
    )
    return redirect("decisions:workflows")


@require_POST
@reviewers_only
def workflows_audit(request: HttpRequest) -> HttpResponse:
    """Audit now: an engine run, which proposes the retirements with everything else it proposes."""
    with transaction.atomic():
        started = generating.generation_start(actor=request.user, force=True)
        publication = queue_after_commit(generate_proposals, started.run.pk)
    if publication.reached_broker is False:
        messages.warning(request, f"Run #{started.run.pk}: {WORKERS_AWAY}")
    else:
        messages.success(request, f"Run #{started.run.pk} audits the workflows; its retirements appear in the queue.")
    return redirect("decisions:workflows")


@require_POST
@admin_only
def workflows_threshold(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.POST.get("stale_after_days", ""))
        services.stale_after_days_change(actor=request.user, days=days, reason=request.POST.get("reason", ""))
    except ValueError as error:
        message = str(error) if "between" in str(error) else "Write a whole number of days."
        return _render(request, status=400, form_error=message)
    messages.success(request, f"Workflows are now stale after {days} days without firing.")
    return redirect("decisions:workflows")
