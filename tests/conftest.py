import os

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse ORM calls from live_server tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.db import connection  # noqa: E402

from config.celery import app as celery_app  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def run_celery_tasks_in_process():
    """Tests run tasks eagerly even when REDIS_URL is set; the worker test opts out explicitly."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture
def on_postgres(db) -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def require_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
