"""Run a decision in its own transaction, again when PostgreSQL picked it as a deadlock's victim.

Every decision takes its locks in one order (the proposal's row by the conditional UPDATE, then the audit chain's
advisory lock), so a deadlock should not happen; should one still happen (a path added later, a lock taken by the
database itself), the victim's transaction was rolled back whole, so running it again is safe and answers the
reviewer instead of a 500. Inside an outer transaction nothing can be retried: the error goes up to its owner.
"""

from __future__ import annotations

import functools
import logging
import time

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

DEADLOCK_DETECTED = "40P01"
ATTEMPTS = 3


def is_deadlock(error: OperationalError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == DEADLOCK_DETECTED or getattr(cause, "pgcode", None) == DEADLOCK_DETECTED


def atomic_retried_on_deadlock(function):
    """Like @transaction.atomic, but a deadlock victim runs again (up to ATTEMPTS times in all)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        outermost = not connection.in_atomic_block
        for attempt in range(1, ATTEMPTS):
            try:
                with transaction.atomic():
                    return function(*args, **kwargs)
            except OperationalError as error:
                if not (outermost and is_deadlock(error)):
                    raise
                logger.warning("%s lost a deadlock (attempt %d); running it again", function.__name__, attempt)
                _forget_rolled_back_state(kwargs.get("proposal"))
                time.sleep(0.01 * attempt)
        with transaction.atomic():
            return function(*args, **kwargs)

    return run


def _forget_rolled_back_state(proposal) -> None:
    # The rolled-back attempt may have moved the instance out of pending; the database says where it is.
    if proposal is not None and proposal.pk is not None:
        proposal.refresh_from_db(fields=["status", "decided_at"])
