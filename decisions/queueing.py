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


WORKERS_AWAY = "The work is queued and will start when the workers are back; nothing you saved is lost."


class Publication:
    """Whether a task published on commit reached the broker: None until the commit has published it."""

    reached_broker: bool | None = None


def queue_after_commit(task, *args) -> Publication:
    """Like queue_follow_up_on_commit, and the page that made the change can then say whether it got through."""
    publication = Publication()
    transaction.on_commit(functools.partial(_publish, publication, task, *args))
    return publication


def _publish(publication: Publication, task, *args) -> None:
    publication.reached_broker = queue_follow_up(task, *args)
