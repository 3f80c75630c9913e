"""Engine runs: the list, one run's progress, and "Generate now" for guardrail admins."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import GenerationRun

TEMPLATE = "decisions/runs.html"


@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    runs = GenerationRun.objects.select_related("triggered_by")[:50]
    return render(request, TEMPLATE, {"runs": runs})


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def run_generate(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        started = generating.generation_start(actor=request.user, force=request.POST.get("force") == "on")
        if started.created:
            generate_proposals.delay_on_commit(started.run.pk)
    if not started.created:
        messages.info(request, f"Run #{started.run.pk} already covers this data window, objective and policy.")
    return redirect("decisions:run", pk=started.run.pk)


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(GenerationRun.objects.select_related("triggered_by"), pk=pk)
    template = f"{TEMPLATE}#run-status" if request.htmx else "decisions/run.html"
    return render(request, template, {"run": run})
