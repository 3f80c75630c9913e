"""What a policy change sets off in decisions; objectives announces it (`policy_changed`), never calls in here.

Connected in DecisionsConfig.ready(), so the objective page, the policy import page, `manage.py policy
import` and the auto-approval page all get the same follow-ups.
"""

from __future__ import annotations

from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.queueing import queue_follow_up
from decisions.review.tasks import refresh_pending_verdicts


def follow_policy_change(sender, *, actor=None, objective_changed: bool = False, **kwargs) -> None:
    """Runs after the change committed: re-check the queue's verdicts; a new objective also gets a new run."""
    queue_follow_up(refresh_pending_verdicts)
    if objective_changed:
        # Forced: after a return to an earlier objective, the old run over this window must not be reused,
        # or the queue would keep the proposals made for the objective in between.
        started = generating.generation_start(actor=actor, force=True)
        queue_follow_up(generate_proposals, started.run.pk)
