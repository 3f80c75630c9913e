"""Where approved changes go: the local ledger (default) or a signed webhook.

`WAYPOINT_CONNECTOR` picks the one new outbox rows use; each row keeps the
name it was created with, so changing the setting never reroutes a change
that is already on its way.
"""

from __future__ import annotations

from django.conf import settings

from decisions.delivery.connectors.base import Connector, ConnectorError
from decisions.delivery.connectors.ledger import LedgerConnector
from decisions.delivery.connectors.webhook import WebhookConnector

__all__ = ["Connector", "ConnectorError", "REGISTRY", "default_name", "get"]

REGISTRY: dict[str, Connector] = {
    LedgerConnector.name: LedgerConnector(),
    WebhookConnector.name: WebhookConnector(),
}


def default_name() -> str:
    return getattr(settings, "WAYPOINT_CONNECTOR", "ledger") or "ledger"


def get(name: str) -> Connector:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConnectorError(
            f'Unknown connector "{name}"; expected one of {", ".join(REGISTRY)}.', permanent=True
        ) from None
