"""The weekly report's workflow line: how many workflows were retired, proposed for retirement and kept that week.

Counted in workflows, not proposals (one proposal may retire a group): proposed = in retire_workflow proposals
created that week; retired = in their applies that reached the platform that week; kept = in those a person
rejected, or rolled back, that week (a workflow someone decided to keep).
"""

from __future__ import annotations

import datetime as dt

from decisions.audit.actions import Action
from decisions.models import Application, AuditEvent, Proposal

KIND = "retire_workflow"


def _workflows(changes_lists) -> int:
    return sum(len(changes or ()) for changes in changes_lists)


def week_line(start: dt.datetime, end: dt.datetime) -> dict:
    proposed = Proposal.objects.filter(kind=KIND, created_at__gte=start, created_at__lt=end)
    retired = Application.objects.filter(
        proposal__kind=KIND,
        direction=Application.Direction.APPLY,
        status=Application.Status.SUCCEEDED,
        updated_at__gte=start,
        updated_at__lt=end,
    )
    kept = AuditEvent.objects.filter(
        proposal__kind=KIND,
        action__in=(Action.PROPOSAL_REJECTED, Action.PROPOSAL_ROLLED_BACK),
        created_at__gte=start,
        created_at__lt=end,
    )
    return {
        "retired": _workflows(retired.values_list("changes", flat=True)),
        "proposed": _workflows(proposed.values_list("changes", flat=True)),
        "kept": _workflows(kept.values_list("proposal__changes", flat=True)),
    }
