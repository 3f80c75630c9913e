"""The transactions upload (from the Data page) and the page that follows one transactions import."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.data import importing, transactions
from decisions.data.tasks import import_transactions_file
from decisions.models import ImportRun
from decisions.queueing import WORKERS_AWAY

RUN_TEMPLATE = "decisions/transaction_import.html"
admin_only = roles.role_required(roles.GUARDRAIL_ADMIN)


@require_POST
@admin_only
def transactions_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file of transactions to import.")
        return redirect("decisions:data")
    dry_run = request.POST.get("dry_run") == "on"
    if upload.size <= settings.IMPORT_INLINE_MAX_BYTES:
        run = importing.import_run_create(
            filename=upload.name, size_bytes=upload.size, actor=request.user, dry_run=dry_run, kind="transactions"
        )
        with upload.open("rb") as stream:
            transactions.transaction_run_execute(run=run, stream=stream)
        return redirect("decisions:transaction-import-run", pk=run.pk)
    run, publication = importing.upload_queue(
        upload, actor=request.user, dry_run=dry_run, kind="transactions", task=import_transactions_file
    )
    if publication.reached_broker is False:
        messages.warning(request, f"{run.filename}: {WORKERS_AWAY}")
    return redirect("decisions:transaction-import-run", pk=run.pk)


@require_GET
def transaction_import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = importing.with_live_progress(
        get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk, kind="transactions")
    )
    context = {"run": run, "lifetime_value": transactions.lifetime_value_status()}
    template = f"{RUN_TEMPLATE}#run-status" if request.htmx else RUN_TEMPLATE
    return render(request, template, context)
