"""Follow-ups: tasks a committed change sets off (re-check the queue, refresh outcomes, start a run's fitting).

The change has committed and stays whatever happens to its follow-ups, so a broker outage is logged, never
raised into the page, command or task that made the change. Nobody waits for a follow-up's result, so none
is subscribed to: with Redis down, the result backend would retry that subscription for about 20 s before
the publish failed anyway.
"""

from __future__ import annotations

import functools
import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_follow_up(task, *args) -> bool:
    """Publish `task(*args)` now; False (and a log line) when the broker cannot take it."""
    try:
        task.apply_async(args, ignore_result=True)
    except Exception:
        call = f"{task.name}({', '.join(map(repr, args))})"
        logger.exception("could not queue %s; the change that set it off stands", call)
        return False
    return True


def queue_follow_up_on_commit(task, *args) -> None:
    """Publish `task(*args)` once the current transaction commits; nothing if it rolls back."""
    transaction.on_commit(functools.partial(queue_follow_up, task, *args))
