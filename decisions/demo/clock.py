"""The demo's clock: demo_outcomes replays decisions made days ago, and everything written meanwhile says so.

Outcomes need the days after a change, and those must be days that have passed: so the demo's decisions are
made in the past, on the data that existed then. While the replay runs, Django's clock (`timezone.now`, which
every service, model field and audit event reads) shows that past moment, running forward from it: the engine
run, the reviews, the outbox rows, the cooldown's "last change" and the audit events all carry that day, and the
audit log, History and the weekly report tell one consistent story.

For the demo command only: one process, one thread, nothing else writing meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_real_now = timezone.now


class ReplayClock:
    """Reads a past moment that moves forward at the speed of real time; `set` jumps to another moment."""

    def __init__(self, at: dt.datetime):
        self.set(at)

    def set(self, at: dt.datetime) -> None:
        if timezone.is_naive(at):
            raise ValueError("the replay clock needs an aware datetime")
        self._offset = at - _real_now()

    def now(self) -> dt.datetime:
        return _real_now() + self._offset


@contextlib.contextmanager
def replaying(at: dt.datetime) -> Iterator[ReplayClock]:
    """Inside, Django's clock reads `at` (and onward); outside, the real time again, whatever happened inside."""
    clock = ReplayClock(at)
    timezone.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = _real_now


def local_moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """That day at that local time, aware: when a replayed step happens."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
