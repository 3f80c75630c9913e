"""A signed JSON POST per outbox row, for a real ad platform behind a small adapter.

The receiver verifies `X-Waypoint-Signature: sha256=<hex>` (HMAC-SHA256 of
the raw body with the shared secret) and applies each `Idempotency-Key` at
most once: after a timeout we cannot know whether the change landed, so we
send it again with the same key and let the receiver deduplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from decisions import targets
from decisions.delivery.connectors.base import ConnectorError

SIGNATURE_HEADER = "X-Waypoint-Signature"
# Refusals that may succeed later (timeout, conflict while another copy is in
# flight, rate limit); every other 4xx means the request itself is wrong.
_TRANSIENT_4XX = frozenset({408, 409, 425, 429})


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(application) -> bytes:
    document = {
        "idempotency_key": application.idempotency_key,
        "application": application.pk,
        "proposal": application.proposal_id,
        "direction": application.direction,
        "changes": [_with_delivery(change) for change in application.changes],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _with_delivery(change: dict) -> dict:
    """The change, and what its target sends beside it (an audience change: the customer list, README)."""
    delivery = getattr(targets.of(change), "delivery", None)
    return {**change, **delivery(change)} if delivery is not None else change


class WebhookConnector:
    name = "webhook"
    # Remote: the outbox sends with no transaction open and no row locked, so
    # a receiver that takes the whole timeout holds nothing up.
    local = False

    def send(self, application) -> dict:
        url = getattr(settings, "WAYPOINT_WEBHOOK_URL", "")
        secret = getattr(settings, "WAYPOINT_WEBHOOK_SECRET", "")
        timeout = float(getattr(settings, "WAYPOINT_WEBHOOK_TIMEOUT", 10))
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConnectorError("WAYPOINT_WEBHOOK_URL must be an http(s) URL.", permanent=True)
        if not secret:
            raise ConnectorError(
                "WAYPOINT_WEBHOOK_SECRET is not set; refusing to send unsigned changes.", permanent=True
            )
        body = payload(application)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Waypoint",
                "Idempotency-Key": application.idempotency_key,
                SIGNATURE_HEADER: sign(body, secret),
            },
        )
        return {"status": _post(request, timeout)}


def _post(request: urllib.request.Request, timeout: float) -> int:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in _TRANSIENT_4XX
        raise ConnectorError(f"Webhook answered HTTP {exc.code} {exc.reason}", permanent=permanent) from None
    except TimeoutError:
        raise ConnectorError(f"Webhook did not answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        raise ConnectorError(f"Webhook unreachable: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectorError(f"Webhook connection failed: {exc}") from None
    if not 200 <= status < 300:
        raise ConnectorError(f"Webhook answered HTTP {status}, not a success")
    return status
