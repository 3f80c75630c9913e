"""The Pacing page (each monthly budget's course this month) and utilization in words, for every page that
shows it (proposal, campaign, Data)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from decisions.data import delivery
from decisions.review import selectors
from objectives import formatting
from objectives.selectors import describe_scope

TEMPLATE = "decisions/pacing.html"
LIMITED_BY = {
    "demand": "Demand-limited",
    "budget": "Budget-limited",
    "unknown": "Limit unknown",
}


def utilization_view(found: delivery.Delivery | None) -> dict | None:
    """One campaign's utilization as the pages show it: figures, the badge and the engine's sentence."""
    if found is None:
        return None
    u = found.utilization
    shares = {
        "impression_share": found.impression_share,
        "lost_is_budget": found.lost_is_budget,
        "lost_is_rank": found.lost_is_rank,
    }
    return {
        "share_spent": None if u.days == 0 else f"{u.share_spent:.0%}",
        "at_budget": f"{u.days_at_budget} of {u.days} days",
        "limited_by": u.limited_by,
        "limited_label": LIMITED_BY[u.limited_by],
        "sentence": u.sentence(),
        "ceiling": None if u.ceiling is None else formatting.money(u.ceiling),
        "ceiling_range": None
        if u.ceiling_low is None
        else f"{formatting.money(u.ceiling_low)}–{formatting.money(u.ceiling_high)}",
        "shares": {key: None if value is None else f"{value:.0%}" for key, value in shares.items()},
        "has_shares": any(value is not None for value in shares.values()),
    }


def utilization_by_pk(campaign_ids=None) -> dict[int, dict]:
    """Utilization in words per campaign pk (two queries, whatever the number of campaigns)."""
    found = delivery.delivery_by_campaign(campaign_ids=campaign_ids)
    return {pk: utilization_view(d) for pk, d in found.items()}


def course_view(entry: delivery.MonthlyBudgetCourse, band) -> dict:
    course = entry.course
    money = formatting.money
    state = "on" if not course.off_pace(band) else ("over" if (course.projected_share or 0) > 1 else "under")
    return {
        "name": entry.rule.name,
        "scope": describe_scope(entry.rule.scope),
        "severity": entry.rule.severity,
        "amount": money(course.amount),
        "spent": money(course.spent),
        "target_to_date": money(course.target_to_date),
        "pace": "—" if course.pace is None else f"{course.pace:.0%}",
        "projected": money(course.projected),
        "projected_share": "—" if course.projected_share is None else f"{course.projected_share:.0%}",
        "days": f"{course.days_gone} of {course.days_in_month} days",
        "days_left": course.days_left,
        "state": state,
        "campaigns": len(entry.campaigns),
        "chart": {
            "target": [[d.isoformat(), round(v, 2)] for d, v in course.target_line()],
            "spent": [[d.isoformat(), round(v, 2)] for d, v in course.cumulative],
            "projected": [[d.isoformat(), round(v, 2)] for d, v in course.projection_line()],
            "band": [band.low * course.amount, band.high * course.amount],
        },
    }


@require_GET
def pacing_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    band = delivery.pacing_band()
    facts = selectors.campaign_facts(today=today)
    courses = [course_view(entry, band) for entry in delivery.monthly_courses(today=today, facts=facts)]
    for n, course in enumerate(courses):
        course["chart_id"] = f"pacing-chart-{n}"
    context = {"courses": courses, "band": band, "month": today, "today": today}
    return render(request, TEMPLATE, context)
