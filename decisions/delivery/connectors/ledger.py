"""The default connector: Waypoint's own campaign (and workflow) table is the ad platform.

It is local: the outbox runs it inside the transaction that records the
row's success, so the campaign change and the application's "succeeded"
commit together, and a redelivered task finds the row already succeeded and
changes nothing a second time.
"""

from __future__ import annotations

from django.utils import timezone

from decisions import targets
from decisions.delivery.connectors.base import ConnectorError
from objectives.guardrails import fields


class LedgerConnector:
    name = "ledger"
    local = True

    def send(self, application) -> dict:
        now = timezone.now()
        written = []
        for change in application.changes:
            target = targets.of(change)
            value = _value(change, target)
            # The proposal is passed on: a target that records who set its value (an audience's list) links it.
            if not target.write(change, value, now=now, proposal_id=application.proposal_id):
                raise ConnectorError(f"No {target.label(change)} in Waypoint.", permanent=True)
            key = fields.TARGET_KEYS[target.name]
            written.append({key: change[key], "field": change["field"], "value": change["to"]})
        return {"written": written}


def _value(change: dict, target) -> object:
    """The value one change sets: the field's own cleaning, on a field the target keeps a column for."""
    try:
        field = fields.of(change)
        value = field.clean(change["to"])
    except (fields.UnknownField, fields.InvalidValue) as error:
        message = f"The ledger cannot set {change['field']} to {change['to']!r}: {error}"
        raise ConnectorError(message, permanent=True) from None
    if not target.writable(field):
        raise ConnectorError(f"The ledger keeps no {field.label} for {target.name}s.", permanent=True)
    return value
