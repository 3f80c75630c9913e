"""The weekly override report page, its CSV (one row per decision), and opting in or out of it by email."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from decisions import access as roles
from decisions.models import ReportSubscription
from decisions.reports import email as report_email
from decisions.reports import rows as report_rows
from decisions.reports import weekly as reports
from decisions.review import kinds

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
            "Auto-approved": counts["auto_approved"],
        },
        "by_kind": [{"key": kinds.label(r["key"]), "rate": r["rate"]} for r in report["override_rate_by"]["kind"]],
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


@require_GET
def report_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """One row per proposal decided in the week, tidy columns (decisions/reports/rows.py), streamed."""
    week = request.GET.get("week") or reports.iso_week()
    try:
        start, _ = reports.week_bounds(week)
        decisions = report_rows.decided_rows(reports.week_decisions(week), since=start)
    except ValueError as error:
        message = f"The report CSV was not made. {error}\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    site_url = getattr(settings, "WAYPOINT_SITE_URL", "")
    lines = report_rows.csv_lines(week, decisions, site_url=site_url)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="waypoint-report-{week}.csv"'
    return response


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


# A mail client's one-click unsubscribe (RFC 8058) posts without a session or a CSRF token: the signed link is
# what authorises it, and all it can do is stop one person's email.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def report_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners follow links, they must not unsubscribe anyone); POST stops the email."""
    user = report_email.user_for_unsubscribe(token)
    if user is None:
        return render(request, "decisions/report_unsubscribe.html", {"invalid": True}, status=400)
    done = request.method == "POST"
    if done:
        ReportSubscription.objects.filter(user=user).delete()
    subscribed = ReportSubscription.objects.filter(user=user).exists()
    return render(request, "decisions/report_unsubscribe.html", {"done": done, "subscribed": subscribed})
