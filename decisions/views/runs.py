"""Engine runs: the list, one run's progress and what it left alone, and "Generate now" for guardrail admins."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Campaign, GenerationRun
from decisions.queueing import WORKERS_AWAY, queue_after_commit
from decisions.views.presenters import money
from objectives.formatting import metric_words

TEMPLATE = "decisions/runs.html"

# A run's counts and timings in words, in the order a reader follows the run.
COUNT_LABELS = {
    "campaigns": "Campaigns in the data",
    "fitted": "Response curves fitted",
    "held_back": "Campaigns left alone",
    "proposals": "Proposals written",
    "blocked_by_guardrails": "Drafts a block-level guardrail forbids",
    "below_value_floor": "Held back: below the value floor",
    "too_likely_to_lose": "Held back: too likely to lose",
    "already_proposed": "Already proposed by an earlier run",
    "superseded": "Older pending proposals it replaced",
}
TIMING_LABELS = {"fit_s_total": "fitting, all chunks", "finish_s": "allocating and writing"}


def limits_text(limits: dict) -> dict:
    """The value floor and P(loss) cap as a reader sees them: "$25/week", "30%"."""
    return {
        "floor": f"{money(float(limits['min_weekly_value']))}/week",
        "cap": f"{float(limits['max_proposal_p_loss']) * 100:g}%",
    }


def run_context(run: GenerationRun) -> dict:
    counts = run.counts or {}
    ordered = [key for key in COUNT_LABELS if key in counts] + [key for key in counts if key not in COUNT_LABELS]
    left_alone = run.left_alone or {}
    return {
        "run": run,
        "count_rows": [(COUNT_LABELS.get(key, key.replace("_", " ").capitalize()), counts[key]) for key in ordered],
        "timing_rows": [(TIMING_LABELS.get(key, key.replace("_", " ")), value) for key, value in run.timings.items()],
        "left_alone": [
            {**group, "more": group["count"] - len(group["campaigns"])} for group in left_alone.get("campaigns", [])
        ],
        "held_proposals": {key: counts.get(key, 0) for key in ("below_value_floor", "too_likely_to_lose")},
        "run_limits": limits_text(left_alone["limits"]) if "limits" in left_alone else None,
        "run_errors": named_errors(run.errors or []),
        "excluded_days": [
            {**days, "label": metric_words(days["source"]).short} for days in left_alone.get("excluded_days", [])
        ],
    }


def named_errors(errors: list[dict]) -> list[dict]:
    """A run's problems with the campaign each is about named, not numbered (one query)."""
    ids = {error.get("campaign_id") for error in errors if isinstance(error, dict) and error.get("campaign_id")}
    names = dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return [
        {**error, "campaign": names.get(error.get("campaign_id")) or error.get("campaign_id") or ""}
        for error in errors
        if isinstance(error, dict)
    ]


@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    runs = GenerationRun.objects.select_related("triggered_by", "objective")[:50]
    return render(request, TEMPLATE, {"runs": runs, "limits": limits_text(generating.noise_limits())})


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def run_generate(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        started = generating.generation_start(actor=request.user, force=request.POST.get("force") == "on")
        publication = queue_after_commit(generate_proposals, started.run.pk) if started.created else None
    if not started.created:
        messages.info(request, f"Run #{started.run.pk} already covers this data window, objective and policy.")
    elif publication.reached_broker is False:
        # The run is saved; the stuck-work sweep queues it again once the broker is back.
        messages.warning(request, f"Run #{started.run.pk}: {WORKERS_AWAY}")
    return redirect("decisions:run", pk=started.run.pk)


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(GenerationRun.objects.select_related("triggered_by", "objective"), pk=pk)
    template = f"{TEMPLATE}#run-status" if request.htmx else "decisions/run.html"
    return render(request, template, run_context(run))
