import os

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse ORM calls from live_server tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.db import connection  # noqa: E402


@pytest.fixture
def on_postgres(db) -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def require_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
