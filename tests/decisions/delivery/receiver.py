"""A real HTTP receiver on loopback, run in a thread, standing in for an ad platform's webhook endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "receiver-shared-secret"
TIMEOUT = 0.5


class Receiver(ThreadingHTTPServer):
    """Plays a script of answers ("fail", "slow", "ok", or an HTTP status) and applies each key at most once.

    `on_request(body)` runs in the receiver's thread while the sender waits
    for the answer: the place to look at what the sender holds open.
    """

    daemon_threads = True

    def __init__(self, script: list, on_request: Callable[[dict], None] | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.on_request = on_request
        self.requests: list[dict] = []
        self.applied = Counter()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/changes"

    def apply_once(self, key: str) -> None:
        if key not in self.applied:
            self.applied[key] += 1


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["Idempotency-Key"]
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(self.headers.get("X-Waypoint-Signature", ""), expected)
        with self.server.lock:
            self.server.requests.append(
                {"key": key, "signed": signed, "body": json.loads(body), "at": time.monotonic()}
            )
            step = self.server.script.pop(0) if self.server.script else "ok"
        if self.server.on_request is not None:
            self.server.on_request(json.loads(body))
        if not signed:
            return self._answer(401)
        if step == "fail":
            return self._answer(503)
        if isinstance(step, int):
            return self._answer(step)
        # A slow receiver applies the change and answers too late: the sender
        # cannot tell this from a lost change, so it will send it again.
        with self.server.lock:
            self.server.apply_once(key)
        if step == "slow":
            time.sleep(TIMEOUT * 3)
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # keep test output quiet
        pass
