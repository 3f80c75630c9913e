"""The default connector: Waypoint's own campaign table is the ad platform.

It is local: the outbox runs it inside the transaction that records the
row's success, so the campaign change and the application's "succeeded"
commit together, and a redelivered task finds the row already succeeded and
changes nothing a second time.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from decisions.delivery.connectors.base import ConnectorError
from decisions.models import Campaign
from objectives.guardrails import fields


class LedgerConnector:
    name = "ledger"
    local = True

    def send(self, application) -> dict:
        now = timezone.now()
        written = []
        for change in application.changes:
            values = _values(change)
            if not Campaign.objects.filter(external_id=change["campaign"]).update(**values, updated_at=now):
                raise ConnectorError(f'No campaign "{change["campaign"]}" in Waypoint.', permanent=True)
            written.append({"campaign": change["campaign"], "field": change["field"], "value": change["to"]})
        return {"written": written}


def _values(change: dict) -> dict:
    """The column update for one change: the field's own cleaning, then the campaign column of that name."""
    try:
        field = fields.get(change["field"])
        value = field.clean(change["to"])
    except (fields.UnknownField, fields.InvalidValue) as error:
        message = f"The ledger cannot set {change['field']} to {change['to']!r}: {error}"
        raise ConnectorError(message, permanent=True) from None
    if field.name not in _CAMPAIGN_COLUMNS:
        raise ConnectorError(f"The ledger keeps no {field.label} for campaigns.", permanent=True)
    if isinstance(field, fields.MoneyField):
        value = Decimal(str(value)).quantize(Decimal("0.01"))
    return {field.name: value}


# The campaign columns a change may set; everything else stays the import's business.
_CAMPAIGN_COLUMNS = frozenset({fields.BUDGET, fields.STATUS, fields.AUDIENCE})
