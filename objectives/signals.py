"""`policy_changed`: how decisions hears that the rules changed, without objectives importing decisions.

The services send it once a change commits (a guardrail created, updated or switched off, the objective set
or cleared, the auto-approval policy changed); a policy import sends it once for the whole file. Arguments:

    actor              the user who changed the policy (None: the system, or a command run without --actor)
    objective_changed  True when the active objective was replaced or cleared

Receivers run after the commit, so nothing they do can undo the change; a receiver that fails is logged and
the change stands.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.dispatch import Signal

policy_changed = Signal()


@dataclass
class _Batch:
    """Changes made inside `announced_once`, held back until the block ends."""

    changed: bool = False
    objective_changed: bool = False


_open_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("policy_change_batch", default=None)


def announce_on_commit(*, actor, objective_changed: bool = False) -> None:
    """Send `policy_changed` once the current transaction commits, or add the change to the open batch."""
    batch = _open_batch.get()
    if batch is not None:
        batch.changed = True
        batch.objective_changed = batch.objective_changed or objective_changed
        return

    def send_policy_changed() -> None:
        policy_changed.send(sender=None, actor=actor, objective_changed=objective_changed)

    # Robust: the change is already committed; a receiver that fails must not turn it into an error.
    transaction.on_commit(send_policy_changed, robust=True)


@contextlib.contextmanager
def announced_once(*, actor) -> Iterator[None]:
    """Announce the changes made inside the block as one, at its end: a policy import is one change."""
    batch = _Batch()
    token = _open_batch.set(batch)
    try:
        yield
    finally:
        _open_batch.reset(token)
    if batch.changed:
        announce_on_commit(actor=actor, objective_changed=batch.objective_changed)
