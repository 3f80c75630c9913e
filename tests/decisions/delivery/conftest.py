import threading

import pytest

from tests.decisions.delivery.receiver import SECRET, TIMEOUT, Receiver


@pytest.fixture
def receiver(settings):
    """Start a receiver with a script (and an optional on_request hook) and point the webhook connector at it."""
    servers = []

    def start(script: list, on_request=None) -> Receiver:
        server = Receiver(script, on_request)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        settings.WAYPOINT_CONNECTOR = "webhook"
        settings.WAYPOINT_WEBHOOK_URL = server.url
        settings.WAYPOINT_WEBHOOK_SECRET = SECRET
        settings.WAYPOINT_WEBHOOK_TIMEOUT = TIMEOUT
        settings.WAYPOINT_APPLY_MAX_ATTEMPTS = 5
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
