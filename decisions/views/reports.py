"""The weekly override report page, and opting in or out of it by email."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.models import ReportSubscription
from decisions.reports import weekly as reports

TEMPLATE = "decisions/reports.html"


def _charts(report: dict) -> dict:
    """Only what the charts draw, handed to Chart.js through json_script."""
    counts = report["counts"]
    return {
        "trend": [
            {"week": row["week"], "decisions": row["decisions"], "rate": row["override_rate"]}
            for row in report["trend"]
        ],
        "decisions": {
            "Approved as proposed": counts["approved_as_proposed"],
            "Edited": counts["edited"],
            "Rejected": counts["rejected"],
            "Expired unreviewed": counts["expired_unreviewed"],
            "Auto-approved": counts["auto_approved"],
            "Rolled back": counts["rolled_back"],
        },
        "by_kind": [{"key": r["key"], "rate": r["rate"]} for r in report["override_rate_by"]["kind"]],
        "by_channel": [{"key": r["key"], "rate": r["rate"]} for r in report["override_rate_by"]["channel"]],
    }


def _subscription_context(request: HttpRequest) -> dict:
    return {
        "subscribed": ReportSubscription.objects.filter(user=request.user).exists(),
        "has_email": bool(request.user.email),
    }


@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    current = reports.iso_week()
    week = request.GET.get("week") or current
    try:
        report = reports.weekly_report(week)
    except ValueError as error:
        context = {"error": str(error), "week": current, **_subscription_context(request)}
        return render(request, TEMPLATE, context, status=400)
    context = {
        "report": report,
        "week": week,
        "charts": _charts(report),
        "in_progress": week == current,
        "is_future": reports.week_monday(week) > reports.week_monday(current),
        **_subscription_context(request),
    }
    return render(request, TEMPLATE, context)


@require_POST
@roles.role_required(*roles.ROLES)
def report_subscription(request: HttpRequest) -> HttpResponse:
    """Any signed-in role opts itself in or out of the weekly email; nobody else's subscription is touched."""
    if request.POST.get("subscribe") == "1":
        ReportSubscription.objects.get_or_create(user=request.user)
        note = "You will get the weekly override report by email on Monday mornings."
    else:
        ReportSubscription.objects.filter(user=request.user).delete()
        note = "You will no longer get the weekly override report by email."
    if request.htmx:
        return render(request, f"{TEMPLATE}#subscription", {**_subscription_context(request), "note": note})
    messages.success(request, note)
    week = request.POST.get("week", "")
    url = reverse("decisions:reports")
    return redirect(f"{url}?week={week}" if reports.WEEK_RE.match(week) else url)
