"""A request id for every request, so audit rows can be traced to the request that wrote them."""

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="")

# A proxy's or client's id is kept only when it is plainly an id: it is stored in the audit log, echoed in a
# response header and written to logs, so anything else (markup, spaces, line breaks, a novel) is replaced.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str:
    return _request_id.get()


def request_id_for(supplied: str | None) -> str:
    """The client's X-Request-ID when it is safe to store and echo, otherwise a fresh one."""
    if supplied and _SAFE_REQUEST_ID.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request.headers.get("X-Request-ID"))
        token = _request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
