import os

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse ORM calls from live_server tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import uuid  # noqa: E402

import pytest  # noqa: E402
from celery._state import _set_task_join_will_block  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.base.operations import BaseDatabaseOperations  # noqa: E402
from django.test import override_settings  # noqa: E402

from config.celery import app as celery_app  # noqa: E402

_execute_sql_flush = BaseDatabaseOperations.execute_sql_flush


def _execute_sql_flush_past_the_audit_truncate_trigger(self, sql_list):
    """Transactional tests empty every table with TRUNCATE afterwards, which the audit log's trigger refuses
    on PostgreSQL, as it must in production; the suite's superuser flushes with triggers off (replica mode)."""
    if self.connection.vendor == "postgresql":
        sql_list = ["SET LOCAL session_replication_role = replica", *sql_list]
    return _execute_sql_flush(self, sql_list)


BaseDatabaseOperations.execute_sql_flush = _execute_sql_flush_past_the_audit_truncate_trigger


@pytest.fixture(autouse=True, scope="session")
def run_celery_tasks_in_process():
    """Tests run tasks eagerly even when REDIS_URL is set; the worker test opts out explicitly."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def audit_checkpoints(tmp_path_factory):
    """Each test anchors the audit log in a checkpoint file of its own: var/ belongs to the project's database."""
    path = tmp_path_factory.getbasetemp() / f"audit-checkpoints-{uuid.uuid4().hex}.jsonl"
    with override_settings(WAYPOINT_AUDIT_CHECKPOINT_PATH=path):
        yield path


@pytest.fixture(autouse=True)
def not_inside_a_worker():
    """The test process is never a Celery worker: joining a result must be allowed in every test.

    Celery keeps a process-wide "task join will block" flag that worker code sets; once something in this
    process has set it, every later `result.get()` here refuses ("Never call result.get() within a task!").
    """
    _set_task_join_will_block(False)
    yield


@pytest.fixture
def on_postgres(db) -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def require_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
