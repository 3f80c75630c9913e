"""The dates a query may name: from 1 January of WAYPOINT_EARLIEST_YEAR (1990 by default) to the end of next year.

Waypoint holds nothing older than the earliest year and decides nothing beyond next year, so a date outside
the window is a typo or a probe, and the History filters and the report's ISO weeks refuse it with this
message. The window also keeps date arithmetic (the day after, four weeks before) far from year 1 and year
9999, where Python's dates overflow.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def first_day() -> dt.date:
    return dt.date(settings.WAYPOINT_EARLIEST_YEAR, 1, 1)


def last_day() -> dt.date:
    return dt.date(timezone.localdate().year + 1, 12, 31)


def contains(day: dt.date) -> bool:
    return first_day() <= day <= last_day()


def describe() -> str:
    """ "1990-01-01 to 2027-12-31", for messages that say which dates would be accepted."""
    return f"{first_day().isoformat()} to {last_day().isoformat()}"
