"""The default connector: Waypoint's own campaign table is the ad platform.

It runs inside the outbox transaction, so the campaign change and the
application's "succeeded" commit together: a redelivered task finds the row
already succeeded and changes nothing a second time.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from decisions.delivery.connectors.base import ConnectorError
from decisions.models import Campaign


class LedgerConnector:
    name = "ledger"

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
    if change["field"] == "daily_budget":
        return {"daily_budget": Decimal(str(change["to"])).quantize(Decimal("0.01"))}
    if change["field"] == "status" and change["to"] in Campaign.Status.values:
        return {"status": change["to"]}
    raise ConnectorError(f"The ledger cannot set {change['field']} to {change['to']!r}.", permanent=True)
