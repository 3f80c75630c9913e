"""The README's production steps serve pages: collectstatic with DEBUG=0, then gunicorn answers with hashed static URLs.

Everything runs in child processes with the production settings (config.settings, DEBUG=0) and their own
environment: a temporary STATIC_ROOT and SQLite database, no Redis, plain HTTP on a free loopback port.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
USERNAME = "prod-marketer"
PASSWORD = "a-long-production-password-7"
# The test process's own settings and services must not leak into the children.
NOT_INHERITED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
HASHED_STATIC = re.compile(r"/static/(?:css|js|vendor)/[\w.-]+\.[0-9a-f]{12}\.(?:css|js)")

pytestmark = pytest.mark.slow


def production_env(workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        WAYPOINT_AUDIT_KEY=secrets.token_urlsafe(50),
        WAYPOINT_AUDIT_CHECKPOINT_PATH=str(workdir / "audit-checkpoints.jsonl"),
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=str(workdir / "static"),
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        # Plain HTTP on loopback: what a TLS-terminating proxy in front would otherwise provide.
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """collectstatic into a temporary STATIC_ROOT, as the README's production steps do."""
    workdir = tmp_path_factory.mktemp("production")
    env = production_env(workdir)
    collected = manage(env, "collectstatic", "--noinput")
    return workdir, env, collected


def test_collectstatic_passes_with_debug_off(production):
    workdir, _, collected = production
    assert collected.returncode == 0, collected.stderr
    assert (workdir / "static" / "staticfiles.json").exists()
    assert (workdir / "static" / "vendor" / "chart.umd.js.map").exists()


@pytest.fixture(scope="module")
def server(production):
    """gunicorn on config.wsgi, as the Procfile runs it, over a migrated database with one marketer."""
    workdir, env, collected = production
    assert collected.returncode == 0, collected.stderr
    for args in (
        ("migrate", "--noinput"),
        ("shell", "-c", create_marketer_code()),
    ):
        result = manage(env, *args)
        assert result.returncode == 0, result.stderr
    port = free_port()
    log = (workdir / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(GUNICORN), "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_answering(process, port, workdir / "gunicorn.log")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def create_marketer_code() -> str:
    return (
        "from django.contrib.auth.models import User; from decisions import access; "
        f"user = User.objects.create_user({USERNAME!r}, password={PASSWORD!r}); "
        "access.role_grant(user=user, role=access.MARKETER)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(process: subprocess.Popen, port: int, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
        with contextlib.suppress(OSError):
            request(port, "GET", "/login/")
            return
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {timeout} s:\n{log.read_text()}")


def request(port: int, method: str, path: str, *, cookies: dict | None = None, form: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": "127.0.0.1"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    finally:
        connection.close()


def remember_cookies(headers, cookies: dict) -> None:
    for line in headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(line)
        cookies.update({name: morsel.value for name, morsel in jar.items()})


def test_the_login_page_is_served_with_hashed_static_urls(server):
    status, headers, html = request(server, "GET", "/login/")
    assert status == 200, html
    assert "Log in to Waypoint" in html
    urls = HASHED_STATIC.findall(html)
    assert any("/css/waypoint." in url for url in urls), html
    assert any("/vendor/htmx-2.0.11.min." in url for url in urls), html
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_the_hashed_stylesheet_is_served_by_whitenoise(server):
    _, _, html = request(server, "GET", "/login/")
    stylesheet = next(url for url in HASHED_STATIC.findall(html) if "/css/waypoint." in url)
    status, headers, body = request(server, "GET", stylesheet)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert ".topbar" in body


def test_a_marketer_logs_in_and_sees_the_queue(server):
    cookies = {"csrftoken": secrets.token_hex(16)}
    form = {"csrfmiddlewaretoken": cookies["csrftoken"], "username": USERNAME, "password": PASSWORD}
    status, headers, body = request(server, "POST", "/login/", cookies=cookies, form=form)
    assert status == 302, body
    remember_cookies(headers, cookies)
    status, _, html = request(server, "GET", "/", cookies=cookies)
    assert status == 200, html
    assert 'aria-current="page">Queue' in html
    urls = HASHED_STATIC.findall(html)
    assert any("/vendor/chart-4.6.1.umd." in url for url in urls), html
    assert any("/js/queue." in url for url in urls), html
