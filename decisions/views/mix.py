"""The Mix page: what each channel adds to the total outcome (the channel mix model), its returns with their
intervals, response curves, and the checks on the data. Read-only: every role may see it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.data import importing
from decisions.data.mix_inputs import METRICS, MixReading, read_mix
from decisions.data.totals import totals_run_execute
from objectives import formatting
from objectives.selectors import active_objective

PALETTE = ("#2453c4", "#c2410c", "#15803d", "#7c3aed", "#b45309", "#0e7490", "#be185d", "#4b5563")


@login_required
@require_GET
def mix_page(request: HttpRequest) -> HttpResponse:
    objective = active_objective()
    chosen = request.GET.get("metric") or (objective.metric if objective else "pipeline_value")
    metric = chosen if chosen in METRICS else "closed_revenue"
    reading = read_mix(metric)
    context = {
        "metric": metric,
        "metric_label": formatting.metric_label(metric),
        "metrics": [(m, formatting.metric_label(m)) for m in METRICS],
        "attribution": objective.attribution if objective else "campaign",
        "reading": reading,
        "checks": [check.as_dict() for check in reading.checks],
        **_fit_view(reading, metric),
    }
    return render(request, "decisions/mix.html", context)


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def totals_import(request: HttpRequest) -> HttpResponse:
    """The totals upload on the Data page. A totals file holds one row a day or a week, so it is imported in the
    request (a file above 20 MB is refused as not a totals file), then the run's page shows what happened."""
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file of totals to import.")
        return redirect("decisions:data")
    dry_run = request.POST.get("dry_run") == "on"
    run = importing.import_run_create(
        filename=upload.name, size_bytes=upload.size, actor=request.user, dry_run=dry_run, kind="totals"
    )
    with upload.open("rb") as stream:
        outcome = totals_run_execute(run=run, stream=stream)
    if outcome.ok:
        grain = {"weekly": "weekly", "daily": "daily"}.get(outcome.grain, "dated")
        verb = "would import" if dry_run else "imported"
        messages.success(
            request,
            f"{run.filename}: {verb} {outcome.rows_written} {grain} totals from {outcome.first_date} to "
            f"{outcome.last_date} ({', '.join(outcome.metrics)}; controls: {', '.join(outcome.controls) or 'none'}).",
        )
    return redirect("decisions:import-run", pk=run.pk)


def _value(metric: str, number: float) -> str:
    return formatting.count(number) if metric == "leads" else formatting.money(number)


def _return(metric: str, number: float) -> str:
    """Per dollar: "$1.24" of revenue, or "0.012 leads"."""
    return f"{number:.3f} leads" if metric == "leads" else f"${number:,.2f}"


def _fit_view(reading: MixReading, metric: str) -> dict:
    fit, inputs = reading.fit, reading.inputs
    if fit is None:
        return {"channels": [], "chart": None}
    period = "week" if inputs.period_days == 7 else "day"
    channels = []
    for i, c in enumerate(fit.channels):
        channels.append(
            {
                "name": c.channel,
                "color": PALETTE[i % len(PALETTE)],
                "spend": formatting.money(c.spend),
                "current": formatting.money(c.current_spend),
                "contribution": _value(metric, c.contribution.mean),
                "contribution_range": f"{_value(metric, c.contribution.low)}–{_value(metric, c.contribution.high)}",
                "roas": _return(metric, c.roas.mean),
                "roas_range": f"{_return(metric, c.roas.low)}–{_return(metric, c.roas.high)}",
                "marginal": _return(metric, c.marginal_roas.mean),
                "marginal_range": f"{_return(metric, c.marginal_roas.low)}–{_return(metric, c.marginal_roas.high)}",
                "half_life": _half_life(c.adstock_half_life_days),
                "warnings": c.warnings,
            }
        )
    chart = {
        "labels": [d.isoformat() for d in inputs.dates],
        "baseline": [round(float(v), 2) for v in fit.baseline],
        "outcome": [round(float(v), 2) for v in fit.outcome],
        "channels": [
            {
                "name": c.channel,
                "color": PALETTE[i % len(PALETTE)],
                "values": [round(float(v), 2) for v in fit.contributions[:, i]],
            }
            for i, c in enumerate(fit.channels)
        ],
        "curves": [
            {
                "name": c.channel,
                "color": PALETTE[i % len(PALETTE)],
                "spend": [round(float(s), 2) for s in c.curve_spend],
                "mean": [round(float(v), 2) for v in c.curve[0]],
                "low": [round(float(v), 2) for v in c.curve[1]],
                "high": [round(float(v), 2) for v in c.curve[2]],
                "current": round(c.current_spend, 2),
            }
            for i, c in enumerate(fit.channels)
        ],
        "ranges": [
            {
                "name": c.channel,
                "roas": [c.roas.low, c.roas.mean, c.roas.high],
                "marginal": [c.marginal_roas.low, c.marginal_roas.mean, c.marginal_roas.high],
            }
            for c in fit.channels
        ],
        "leads": metric == "leads",
    }
    return {
        "channels": channels,
        "chart": chart,
        "period": period,
        "holdout_mape": formatting.percent(fit.holdout_mape),
        "holdout_periods": fit.holdout_periods,
        "r2": f"{fit.in_sample_r2:.2f}",
        "first": inputs.dates[0],
        "last": inputs.dates[-1],
        "media_share": formatting.percent(fit.contributions.sum() / max(fit.outcome.sum(), 1e-9)),
        "controls": inputs.control_names,
    }


def _half_life(days: float) -> str:
    if days < 0.5:
        return "none"
    return f"{days:.0f} day{'s' if round(days) != 1 else ''}"
