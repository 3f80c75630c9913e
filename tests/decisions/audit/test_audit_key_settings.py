"""With DEBUG=0 Waypoint refuses to start without an audit key of its own, as it does without SECRET_KEY."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SECRET_KEY = secrets.token_urlsafe(50)
PRODUCTION = {"DEBUG": "0", "ALLOWED_HOSTS": "waypoint.example.com", "SECRET_KEY": SECRET_KEY}
# The test process's own settings must not leak into the child's.
OVERRIDDEN = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "WAYPOINT_AUDIT_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in OVERRIDDEN}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "WAYPOINT_AUDIT_KEY must be set when DEBUG=0"),
        ("", "WAYPOINT_AUDIT_KEY must be set when DEBUG=0"),
        ("dev-only-insecure-audit-key-waypoint", "WAYPOINT_AUDIT_KEY is the development key"),
        (SECRET_KEY, "WAYPOINT_AUDIT_KEY must differ from SECRET_KEY"),
        ("short-audit-key-31-characters-x", "WAYPOINT_AUDIT_KEY is too short for DEBUG=0: it needs at least 32"),
    ],
    ids=["unset", "empty", "development key", "same as SECRET_KEY", "31 characters"],
)
def test_production_refuses_to_start_without_an_audit_key_of_its_own(key, message):
    env = PRODUCTION if key is None else {**PRODUCTION, "WAYPOINT_AUDIT_KEY": key}
    result = run_check(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_starts_with_a_random_audit_key():
    result = run_check(**PRODUCTION, WAYPOINT_AUDIT_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr


def test_development_falls_back_to_the_development_key():
    clean = {key: value for key, value in os.environ.items() if key not in OVERRIDDEN}
    code = "from django.conf import settings as s; print(s.WAYPOINT_AUDIT_KEY == s.DEVELOPMENT_AUDIT_KEY)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]
