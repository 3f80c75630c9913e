"""The upload page for performance data and the page that follows one import run."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from decisions import access as roles
from decisions.data import importing
from decisions.data.tasks import import_performance_file
from decisions.models import ImportRun
from decisions.queueing import WORKERS_AWAY

TEMPLATE = "decisions/import.html"


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.GUARDRAIL_ADMIN)
def import_form(request: HttpRequest) -> HttpResponse:
    context = {"inline_max": settings.IMPORT_INLINE_MAX_BYTES}
    if request.method == "GET":
        return render(request, TEMPLATE, context)
    upload = request.FILES.get("file")
    if upload is None:
        context["form_error"] = "Choose a CSV file to import."
        return render(request, TEMPLATE, context, status=400)
    dry_run = request.POST.get("dry_run") == "on"
    create_campaigns = request.POST.get("create_campaigns") == "on"
    if upload.size <= settings.IMPORT_INLINE_MAX_BYTES:
        run = importing.import_run_create(
            filename=upload.name, size_bytes=upload.size, actor=request.user, dry_run=dry_run
        )
        with upload.open("rb") as stream:
            importing.import_run_execute(run=run, stream=stream, create_campaigns=create_campaigns)
    else:
        run, publication = importing.upload_queue(
            upload,
            actor=request.user,
            dry_run=dry_run,
            kind="performance",
            task=import_performance_file,
            task_args=(create_campaigns,),
            create_campaigns=create_campaigns,
        )
        if publication.reached_broker is False:
            # The file and its run are saved; the stuck-work sweep queues the import again once the broker is back.
            messages.warning(request, f"{run.filename}: {WORKERS_AWAY}")
    return redirect("decisions:import-run", pk=run.pk)


@require_GET
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = importing.with_live_progress(get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk))
    run.skipped = importing.skipped_summary(run.warnings)
    template = f"{TEMPLATE}#run-status" if request.htmx else TEMPLATE
    return render(request, template, {"run": run})
