"""A client's X-Request-ID reaches the audit log and the response only when it is plainly an id."""

import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from decisions import audit
from decisions.audit.middleware import RequestIdMiddleware
from decisions.models import AuditEvent

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


def request_through_the_middleware(**headers) -> tuple[HttpResponse, AuditEvent]:
    """Run one request whose view writes an audit event, as every write path does."""

    def view(request):
        audit.record(action="test.event")
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().post("/", headers=headers))
    return response, AuditEvent.objects.latest("id")


@pytest.mark.parametrize("supplied", ["3f1c2a9e", "req-2026.11.30_abc", "A" * 64, "trace.id-9f8e7d6c5b4a"])
def test_a_safe_client_id_is_kept_stored_and_echoed(supplied):
    response, event = request_through_the_middleware(**{"X-Request-ID": supplied})
    assert event.request_id == supplied
    assert response["X-Request-ID"] == supplied


@pytest.mark.parametrize(
    "supplied",
    [
        "",
        "short",  # fewer than 8 characters
        "a" * 65,  # longer than the column; once cut to 64 and stored
        "<script>alert(1)</script>",
        "id with spaces",
        "id;DROP TABLE x",
        "ünïcödé-request",
        "id\tforged",
        "../../etc/passwd",
    ],
    ids=["empty", "7 characters", "65 characters", "markup", "spaces", "semicolon", "non-ascii", "tab", "path"],
)
def test_anything_else_is_replaced_by_a_generated_id(supplied):
    response, event = request_through_the_middleware(**{"X-Request-ID": supplied})
    assert GENERATED.fullmatch(event.request_id)
    assert response["X-Request-ID"] == event.request_id


def test_a_request_without_an_id_gets_one():
    response, event = request_through_the_middleware()
    assert GENERATED.fullmatch(event.request_id)
    assert response["X-Request-ID"] == event.request_id


def test_the_id_is_echoed_on_a_real_page(client):
    response = client.get("/login/", headers={"X-Request-ID": "<b>not-an-id</b>"})
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert client.get("/login/", headers={"X-Request-ID": "proxy-7f3a9c21"})["X-Request-ID"] == "proxy-7f3a9c21"
