"""The weekly report's pacing section: each monthly budget as of the week's last day (or today, for the week
in progress): spend so far in that month, the pro-rated target, the pace and, at today's budgets, where the
month ends."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from decisions.data import delivery
from decisions.review import selectors


def pacing_section(end: dt.datetime) -> dict:
    """`end`: the week's end (the Monday after it, 00:00). Nothing but the band when no monthly budget exists."""
    day = min(timezone.localtime(end).date() - dt.timedelta(days=1), timezone.localdate())
    band = delivery.pacing_band()
    entries = delivery.monthly_courses(today=day, facts=selectors.campaign_facts(today=day))
    rows = []
    for entry in entries:
        course = entry.course
        off = course.off_pace(band)
        rows.append(
            {
                "name": entry.rule.name,
                "scope": entry.rule.scope,
                "amount": round(course.amount, 2),
                "spent": round(course.spent, 2),
                "through": course.through,
                "target_to_date": round(course.target_to_date, 2),
                "pace": None if course.pace is None else round(course.pace, 4),
                "projected": round(course.projected, 2),
                "projected_share": None if course.projected_share is None else round(course.projected_share, 4),
                "state": "on" if not off else ("over" if (course.projected_share or 0) > 1 else "under"),
            }
        )
    return {"as_of": day, "band": [band.low, band.high], "budgets": rows}
