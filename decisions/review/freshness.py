"""Whether a change still starts where its campaign is: what keeps an out-of-date proposal from being applied.

A change is stored as an absolute target ("to") beside the value the engine computed it from ("from"). Once the
campaign has moved since (an import, a change made on the platform, another proposal), the same target means
another move: a raise from $324 to $336 becomes a cut once an import has set the budget to $350. Such a proposal
is out of date. It is shown as such in the queue, refused when someone (or the auto-approval policy) decides it,
refused again when its outbox row is sent, and the next run proposes afresh from the campaign's value of the day.

Waypoint's campaign table is the reference: the ledger writes it, imports bring the platforms' values into it.
Each field compares its own way (money to the cent). A field with no campaign column cannot be checked here and
is left alone; a campaign Waypoint does not know is the connector's to refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from decisions import targets
from objectives.guardrails import fields


@dataclass(frozen=True)
class Drift:
    """One change whose campaign is no longer where the change starts."""

    campaign: str  # the campaign's external id (a workflow's id)
    name: str
    field: fields.Field
    expected: object  # where the change starts: its "from"
    current: object  # where the campaign is now
    target: object  # where the change goes: its "to"

    @property
    def current_text(self) -> str:
        return show(self.field, self.current)

    @property
    def expected_text(self) -> str:
        return show(self.field, self.expected)


def show(field: fields.Field, value) -> str:
    text = field.show(value)
    return f"${text}" if isinstance(field, fields.MoneyField) and value is not None else text


def current_values(changes: Iterable[dict], *, lock: bool = False) -> dict[tuple, dict]:
    """Each changed campaign's (or workflow's) name and the current value of every field a change may name, by
    its ref (decisions/targets.py): one query per target.

    `lock` holds the rows until the transaction ends, so a concurrent import cannot slip in between the check
    and the write that relies on it (PostgreSQL; SQLite serialises writers anyway).
    """
    return targets.current_values(changes, lock=lock)


def drifts(changes: Iterable[dict], values: dict[tuple, dict], *, done_is_fine: bool = False) -> list[Drift]:
    """The changes whose campaign (or workflow) is not at their "from" now.

    With `done_is_fine`, one already at the change's "to" is fine too: there is nothing left to move
    (the outbox resending a change whose answer was lost, or a rollback of a change the platform never
    reported back to Waypoint).
    """
    found = []
    for change in changes:
        now = values.get(targets.ref(change))
        try:
            field = fields.of(change)
        except fields.UnknownField:
            continue
        if now is None or field.name not in now:
            continue
        current = now[field.name]
        if field.same(change.get("from"), current) or (done_is_fine and field.same(change.get("to"), current)):
            continue
        identity = targets.ref(change)[-1]
        found.append(Drift(identity, now["name"], field, change.get("from"), current, change.get("to")))
    return found


def out_of_date(changes: list[dict]) -> list[Drift]:
    """The changes whose campaign moved since the engine computed them (reads the campaigns: one query)."""
    return drifts(changes, current_values(changes))


def _labels(found: list[Drift]) -> str:
    return " and ".join(dict.fromkeys(drift.field.label for drift in found))


def proposal_message(found: list[Drift]) -> str:
    """Why a proposal cannot be approved or applied any more, in the reviewer's words."""
    moved = "; ".join(f"{d.name}'s {d.field.label} is {d.current_text} now, not the {d.expected_text}" for d in found)
    return f"{moved} this proposal started from; the next run will propose again from today's {_labels(found)}."


def rollback_message(found: list[Drift]) -> str:
    """Why an applied change cannot be rolled back: undoing it now would be another move than the one it made.

    `found` are drifts of the inverse changes: their "from" is what the change set, their "to" what it replaced.
    """
    moved = "; ".join(
        f"{d.name}'s {d.field.label} is {d.current_text} now, not the {d.expected_text} this change set: "
        f"rolling back would move it from {d.current_text} to {show(d.field, d.target)}"
        for d in found
    )
    return f"{moved}, which is not undoing this change. Nothing was changed; set the {_labels(found)} by hand."
