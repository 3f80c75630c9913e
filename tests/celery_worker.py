"""A real Celery worker process for tests: started against Redis and the test database, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def running_worker(timeout: float = 60) -> Iterator[str]:
    """Yield a queue name that only this worker consumes, so no stray task from elsewhere reaches it."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    hostname = f"{queue}@localhost"
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": os.environ["REDIS_URL"], "CELERY_QUEUE": queue}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = tempfile.NamedTemporaryFile("w+", prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-c", "1"]
    command += ["-Q", queue, "-n", hostname, "--loglevel=INFO", "--without-heartbeat", "--without-gossip"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_ping(hostname, process, log.name, timeout)
        yield queue
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_ping(hostname: str, process: subprocess.Popen, log_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{Path(log_path).read_text()}")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return
        time.sleep(0.5)
    raise RuntimeError(f"worker did not answer a ping in {timeout} s:\n{Path(log_path).read_text()}")
