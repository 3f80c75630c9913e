"""Experiments: the list, one test's page (arms, balance, audiences with their uplift, the actions' names and
copy), the upload (imported within the request up to IMPORT_INLINE_MAX_BYTES, by a Celery task above it), and
the page that follows one upload."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.data import experiments as experiment_import
from decisions.data import importing
from decisions.data.tasks import import_experiment_file
from decisions.experiments import follow_ups, presenting, services
from decisions.experiments import lists as audience_lists
from decisions.models import Experiment, ExperimentAction, ImportRun
from decisions.queueing import WORKERS_AWAY
from objectives import formatting

LIST_TEMPLATE = "decisions/experiments.html"
TEMPLATE = "decisions/experiment.html"
RUN_TEMPLATE = "decisions/experiment_import.html"


def _render_list(request: HttpRequest, *, status: int = 200, form_error: str = "", values=None) -> HttpResponse:
    context = {
        "experiments": Experiment.objects.select_related("imported_by"),
        "imports": ImportRun.objects.filter(kind="experiment").select_related("uploaded_by")[:5],
        "form_error": form_error,
        "values": values or {},
        "inline_max": settings.IMPORT_INLINE_MAX_BYTES,
    }
    return render(request, LIST_TEMPLATE, context, status=status)


@require_GET
def experiment_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request)


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def experiment_import_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    name, control = request.POST.get("name", "").strip(), request.POST.get("control", "").strip()
    follows = request.POST.get("follows", "").strip()
    values = {"name": name, "control": control, "follows": follows}
    if upload is None or not name or not control:
        error = "Choose the test's CSV file, give the experiment a name and say which arm is the control."
        return _render_list(request, status=400, form_error=error, values=values)
    dry_run = request.POST.get("dry_run") == "on"
    if upload.size > settings.IMPORT_INLINE_MAX_BYTES:
        # Kept with the file on the run, not only in the task's arguments: the sweep queues it again as asked.
        run, publication = importing.upload_queue(
            upload, actor=request.user, dry_run=dry_run, kind="experiment", task=import_experiment_file, options=values
        )
        if publication.reached_broker is False:
            messages.warning(request, f"{run.filename}: {WORKERS_AWAY}")
        return redirect("decisions:experiment-import-run", pk=run.pk)
    run = importing.import_run_create(
        filename=upload.name,
        size_bytes=upload.size,
        actor=request.user,
        dry_run=dry_run,
        kind="experiment",
        options=values,
    )
    with upload.open("rb") as stream:
        outcome = experiment_import.experiment_run_execute(
            run=run, stream=stream, name=name, control=control, follows=follows
        )
    if outcome.ok and not run.dry_run and outcome.experiment_id:
        messages.success(request, f"Imported {outcome.rows_written:,} customers of {name}.")
        return redirect("decisions:experiment", pk=outcome.experiment_id)
    return redirect("decisions:experiment-import-run", pk=run.pk)


@require_GET
def experiment_import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = importing.with_live_progress(
        get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk, kind="experiment")
    )
    experiment = None
    if run.status == ImportRun.Status.SUCCEEDED and not run.dry_run:
        experiment = Experiment.objects.filter(import_run=run).only("pk", "name").first()
    context = {"run": run, "experiment": experiment}
    template = f"{RUN_TEMPLATE}#run-status" if request.htmx else RUN_TEMPLATE
    return render(request, template, context)


def _render_experiment(request: HttpRequest, experiment: Experiment, *, status: int = 200, errors=None):
    context = presenting.experiment_context(experiment)
    for action in context["actions"]:
        action.form_errors = [
            message for messages_ in (errors or {}).get(action.pk, {}).values() for message in messages_
        ]
    context["may_edit"] = roles.has_role(request.user, roles.MARKETER, roles.GUARDRAIL_ADMIN)
    # Customer ids are personal data: the same roles as the download itself (decisions/views/audiences.py).
    context["may_download"] = roles.has_role(request.user, roles.MARKETER, roles.GUARDRAIL_ADMIN)
    context["audience_lists"] = audience_lists.lists_of_experiment(experiment)
    context["follow_up_comparisons"] = follow_ups.comparisons_in(experiment)
    return render(request, TEMPLATE, context, status=status)


@require_GET
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_experiment(request, get_object_or_404(Experiment, pk=pk))


@require_POST
@roles.role_required(roles.MARKETER, roles.GUARDRAIL_ADMIN)
def experiment_action_update(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(ExperimentAction.objects.select_related("experiment"), pk=pk)
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        revision = -1
    try:
        services.experiment_action_update(
            action_id=action.pk,
            revision=revision,
            name=request.POST.get("name", ""),
            subject_line=request.POST.get("subject_line", ""),
            message=request.POST.get("message", ""),
            actor=request.user,
        )
    except ValidationError as error:
        return _render_experiment(request, action.experiment, status=422, errors={action.pk: error.message_dict})
    except services.StaleActionError as error:
        messages.error(request, str(error))
        return _render_experiment(request, action.experiment, status=409)
    messages.success(request, f"Saved the action {request.POST.get('name', '').strip()}.")
    return redirect(reverse("decisions:experiment", args=[action.experiment_id]) + "#actions")


@require_POST
@roles.role_required(roles.MARKETER, roles.GUARDRAIL_ADMIN)
def experiment_reanalyse(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    metric = services.experiment_reanalyse(experiment=experiment, actor=request.user)
    messages.success(
        request,
        f"Analysing {experiment.name} again, judged in {formatting.metric_label(metric).lower()}; "
        "this page shows the new analysis when it is done.",
    )
    return redirect("decisions:experiment", pk=experiment.pk)
