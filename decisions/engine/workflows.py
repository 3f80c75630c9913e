"""The workflow audit: which automation workflows to retire, which to keep for now, which look alike. Pure.

An enabled workflow is stale when it has not fired for `stale_after_days` (90 by default), or has never fired
and was created more than that long ago: nobody would miss it. Two things keep a stale workflow from being
proposed for retirement:

- another enabled workflow that still fires relies on it (enrols into it, or reads what it sets): switching it
  off would break that one, so the page says "retire together with …, or change … first" instead;
- a block-level protected_workflows guardrail covers it (a consent or legal flow): the reason is passed in.

Stale workflows that rely only on each other (or on nothing) go together: one proposal retires the group, so a
rollback re-enables it as one. Near-duplicates (same platform, names that say the same thing, the same trigger
and goal where the export has them) are listed for a person to review; nothing is proposed for them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

ENABLED = "enabled"
# Names that differ only by these words are the same workflow copied ("Welcome series (old)", "… copy 2").
_NOISE = re.compile(r"\b(old|new|copy|clone|v\d+|draft|test|\d+)\b")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
SIMILAR_NAMES = 0.85


@dataclass(frozen=True)
class Workflow:
    platform: str
    workflow_id: str
    name: str
    status: str
    created_at: dt.date | None = None
    last_triggered_at: dt.date | None = None  # None: never fired
    enrolled_90d: int | None = None
    used_by: tuple[str, ...] = ()  # ids (same platform) of workflows that rely on this one
    tags: tuple[str, ...] = ()
    trigger: str = ""  # what starts it, where the export says (a list, an event)
    goal: str = ""
    activity_known: bool = True  # False: the export does not say when it fires, so it is never judged stale

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.workflow_id)

    @property
    def label(self) -> str:
        return self.name or self.workflow_id


@dataclass(frozen=True)
class Hold:
    """A stale workflow kept for now, and why."""

    workflow: Workflow
    reason: str
    users: tuple[Workflow, ...] = ()  # the enabled, active workflows that rely on it


@dataclass
class Audit:
    retire: list[list[Workflow]] = field(default_factory=list)  # each group is one proposal
    held: list[Hold] = field(default_factory=list)
    duplicates: list[tuple[Workflow, Workflow]] = field(default_factory=list)
    stale_after_days: int = 90

    @property
    def stale_count(self) -> int:
        return sum(len(group) for group in self.retire) + len(self.held)


def days_idle(workflow: Workflow, today: dt.date) -> int | None:
    """Days since it last fired; None when it never did."""
    return None if workflow.last_triggered_at is None else (today - workflow.last_triggered_at).days


def is_stale(workflow: Workflow, today: dt.date, stale_after_days: int) -> bool:
    if workflow.status != ENABLED or not workflow.activity_known:
        return False
    idle = days_idle(workflow, today)
    if idle is not None:
        return idle >= stale_after_days
    # Never fired: stale once it has had the time to (a workflow built last week may be waiting for its list).
    return workflow.created_at is not None and (today - workflow.created_at).days > stale_after_days


def why_stale(workflow: Workflow, today: dt.date) -> str:
    """ "last fired 214 days ago, 0 enrolments in 90 days", or "never fired, created 300 days ago"."""
    idle = days_idle(workflow, today)
    if not workflow.activity_known:
        said = "the export does not say when it last fired"
    elif idle is None:
        said = "never fired"
        if workflow.created_at is not None:
            said += f", created {_days((today - workflow.created_at).days)} ago"
    else:
        said = f"last fired {_days(idle)} ago"
    if workflow.enrolled_90d is not None:
        said += f", {workflow.enrolled_90d:,} enrolment{'' if workflow.enrolled_90d == 1 else 's'} in 90 days"
    return said


def _days(n: int) -> str:
    return f"{n:,} day{'' if n == 1 else 's'}"


def _names(workflows: Iterable[Workflow]) -> str:
    names = [w.label for w in workflows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def audit(
    workflows: Iterable[Workflow],
    *,
    today: dt.date,
    stale_after_days: int = 90,
    protection: Callable[[Workflow], str] = lambda workflow: "",
) -> Audit:
    """What to retire (in groups), what to keep for now and why, and which workflows look alike."""
    workflows = list(workflows)
    by_key = {w.key: w for w in workflows}
    stale = {w.key for w in workflows if is_stale(w, today, stale_after_days)}
    found = Audit(stale_after_days=stale_after_days)
    held_keys = set()
    for key in sorted(stale, key=lambda k: by_key[k].label.lower()):
        workflow = by_key[key]
        users = [by_key[(key[0], u)] for u in workflow.used_by if (key[0], u) in by_key]
        active = tuple(u for u in users if u.status == ENABLED and u.key not in stale)
        if active:
            names = _names(active)
            reason = f"Still used by {names}: retire together with {names}, or change {names} first."
            found.held.append(Hold(workflow, reason, active))
            held_keys.add(key)
        elif reason := protection(workflow):
            found.held.append(Hold(workflow, f"Not proposed: {reason}."))
            held_keys.add(key)
    # A kept workflow keeps what it relies on: a stale workflow that a held one uses stays too.
    changed = True
    while changed:
        changed = False
        for key in stale - held_keys:
            workflow = by_key[key]
            keepers = [by_key[(key[0], u)] for u in workflow.used_by if (key[0], u) in held_keys]
            if keepers:
                reason = f"Used by {_names(keepers)}, which is kept for now: retire them together later."
                found.held.append(Hold(workflow, reason, tuple(keepers)))
                held_keys.add(key)
                changed = True
    found.retire = _groups([by_key[k] for k in stale - held_keys], by_key)
    found.duplicates = near_duplicates(workflows)
    return found


def _groups(retiring: list[Workflow], by_key: dict) -> list[list[Workflow]]:
    """Retiring workflows joined by a use between them, each group in name order, groups by their first name."""
    parent = {w.key: w.key for w in retiring}

    def root(key):
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for workflow in retiring:
        for user in workflow.used_by:
            other = (workflow.platform, user)
            if other in parent:
                parent[root(other)] = root(workflow.key)
    groups: dict = {}
    for workflow in retiring:
        groups.setdefault(root(workflow.key), []).append(workflow)
    ordered = [sorted(group, key=lambda w: w.label.lower()) for group in groups.values()]
    return sorted(ordered, key=lambda group: group[0].label.lower())


def _plain_name(name: str) -> str:
    words = _NOT_WORD.sub(" ", name.lower())
    return " ".join(_NOISE.sub(" ", words).split())


def look_alike(a: Workflow, b: Workflow) -> bool:
    """Same platform, and names that say the same thing once copies' marks are dropped; where both exports
    say what starts them and what they aim at, those must match too."""
    if a.platform != b.platform or a.key == b.key:
        return False
    if a.trigger and b.trigger and a.trigger != b.trigger:
        return False
    if a.goal and b.goal and a.goal != b.goal:
        return False
    first, second = _plain_name(a.name), _plain_name(b.name)
    if not first or not second:
        return False
    return first == second or SequenceMatcher(None, first, second).ratio() >= SIMILAR_NAMES


def near_duplicates(workflows: Iterable[Workflow]) -> list[tuple[Workflow, Workflow]]:
    """Pairs that look alike, among workflows not already retired; each pair once, in name order."""
    live = sorted((w for w in workflows if w.status != "retired"), key=lambda w: (w.platform, w.label.lower()))
    by_platform: dict[str, list[Workflow]] = {}
    for workflow in live:
        by_platform.setdefault(workflow.platform, []).append(workflow)
    pairs = []
    for same in by_platform.values():
        for i, a in enumerate(same):
            pairs.extend((a, b) for b in same[i + 1 :] if look_alike(a, b))
    return pairs
