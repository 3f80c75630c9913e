"""The objective page: everyone reads what the engine optimises; guardrail admins change it.

It lives in decisions, not objectives, because saving names the generation run the change started.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.models import GenerationRun
from objectives import selectors, services
from objectives.forms import ObjectiveForm
from objectives.models import Objective

OBJECTIVE_PAGE = "objectives/objectives.html"


@require_GET
def objectives(request: HttpRequest) -> HttpResponse:
    objective = selectors.active_objective()
    form = ObjectiveForm(initial=ObjectiveForm.initial_for(objective))
    return render(request, OBJECTIVE_PAGE, {"objective": objective, "form": form})


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def objective_set(request: HttpRequest) -> HttpResponse:
    """Change what the engine optimises; the change starts a generation run, so the queue follows it."""
    form = ObjectiveForm(request.POST)
    if not form.is_valid():
        context = {"objective": selectors.active_objective(), "form": form}
        return render(request, OBJECTIVE_PAGE, context, status=422)
    before = selectors.active_objective()
    objective = services.objective_set(**form.values, actor=request.user, reason=form.cleaned_data["reason"])
    if before is not None and objective.pk == before.pk:
        messages.info(request, "That is already the objective; nothing changed and no run was started.")
        return redirect("objectives:objectives")
    run = _run_started_for(objective)
    if run is None:
        messages.warning(
            request, f"The engine now optimises {objective}. No run could be started; start one from Engine runs."
        )
    else:
        messages.success(request, f"The engine now optimises {objective}. Run #{run.pk} started.")
    return redirect("objectives:objectives")


def _run_started_for(objective: Objective) -> GenerationRun | None:
    # The service committed the change, and policy_changed has already started the run
    # (decisions/policy_changes.py); starting one here too would make two. A new objective is a new
    # row, so the run that uses it is the one just started.
    return GenerationRun.objects.filter(objective=objective).order_by("pk").first()
