"""Where approved changes go: the local ledger (default) or a signed webhook, chosen per platform.

`WAYPOINT_CONNECTORS` ("google_ads=webhook,meta=webhook") picks the connector
for new outbox rows of each campaign platform it names; `WAYPOINT_CONNECTOR`
serves every other platform. Each row keeps the name it was created with, so
changing the settings never reroutes a change that is already on its way.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from decisions.delivery.connectors.base import Connector, ConnectorError
from decisions.delivery.connectors.ledger import LedgerConnector
from decisions.delivery.connectors.webhook import WebhookConnector

__all__ = ["Connector", "ConnectorError", "REGISTRY", "default_name", "get", "name_for_platform"]

REGISTRY: dict[str, Connector] = {
    LedgerConnector.name: LedgerConnector(),
    WebhookConnector.name: WebhookConnector(),
}


def default_name() -> str:
    return getattr(settings, "WAYPOINT_CONNECTOR", "ledger") or "ledger"


def name_for_platform(platform: str) -> str:
    """The connector a new row for this platform uses; a name that is no connector is a configuration error.

    Raised when the row is written rather than when it is sent, so a typo in
    the settings stops the approval loudly instead of queueing changes that
    can only fail.
    """
    by_platform = getattr(settings, "WAYPOINT_CONNECTORS", None) or {}
    if platform in by_platform:
        name, source = by_platform[platform], f'WAYPOINT_CONNECTORS (platform "{platform}")'
    else:
        name, source = default_name(), "WAYPOINT_CONNECTOR"
    if name not in REGISTRY:
        raise ImproperlyConfigured(
            f'{source} names connector "{name}", which does not exist; expected one of {", ".join(REGISTRY)}.'
        )
    return name


def get(name: str) -> Connector:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConnectorError(
            f'Unknown connector "{name}"; expected one of {", ".join(REGISTRY)}.', permanent=True
        ) from None
