"""Settings come from the environment; production settings pass Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The test process's own settings must not leak into the child's.
OVERRIDDEN = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OVERRIDDEN}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        WAYPOINT_AUDIT_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="waypoint.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="waypoint.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_deploy_check_fails_with_debug_on():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="1")
    assert result.returncode != 0


def test_without_redis_url_celery_runs_tasks_in_process(settings):
    from config.settings import CELERY_TASK_ALWAYS_EAGER

    assert CELERY_TASK_ALWAYS_EAGER is (not os.environ.get("REDIS_URL"))


PRODUCTION_HOSTS = {"DEBUG": "0", "ALLOWED_HOSTS": "waypoint.example.com"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("dev-only-insecure-key-waypoint", "SECRET_KEY is a development key"),
        ("django-insecure-" + "x1y2z3" * 10, "SECRET_KEY is a development key"),
        ("k3y-" + "a9" * 20, "SECRET_KEY is too weak for DEBUG=0: it needs at least 50 characters"),
        ("abcd" * 20, "SECRET_KEY is too weak for DEBUG=0"),
    ],
    ids=["development key", "django-insecure prefix", "44 characters", "4 different characters"],
)
def test_production_refuses_a_weak_secret_key(key, message):
    result = run_manage("check", SECRET_KEY=key, **PRODUCTION_HOSTS)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("hosts", [None, "", " , "], ids=["unset", "empty", "only commas"])
def test_production_refuses_to_start_without_allowed_hosts(hosts):
    env = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50)}
    if hosts is not None:
        env["ALLOWED_HOSTS"] = hosts
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG=0" in result.stderr


def test_without_debug_set_the_development_defaults_still_start():
    """The README's `make run` path: no DEBUG, no SECRET_KEY, no ALLOWED_HOSTS."""
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.SECRET_KEY == s.DEVELOPMENT_SECRET_KEY)"
    )
    result = run_manage("shell", "--verbosity", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "['*']", "True"]


def test_make_run_says_it_is_a_development_server():
    dry_run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = dry_run.stdout.splitlines()
    runserver = next(i for i, line in enumerate(lines) if "manage.py runserver" in line)
    assert "development server" in lines[runserver - 1]
    assert "not for production" in lines[runserver - 1]


def test_collectstatic_builds_without_the_production_secrets(tmp_path):
    """A build step has no secrets: settings collect the problems, the places that serve refuse them."""
    result = run_manage("collectstatic", "--noinput", DEBUG="0", SECRET_KEY="short", STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()


def test_the_wsgi_app_refuses_to_serve_with_a_weak_secret_key():
    clean = {k: v for k, v in os.environ.items() if k not in OVERRIDDEN}
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "short", **PRODUCTION_HOSTS},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is too weak for DEBUG=0" in result.stderr
