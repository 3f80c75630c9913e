"""Accounts: login throttling, password rules, the Content-Security-Policy, and users without a role."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, ProposalFactory, UserFactory, marketer, viewer

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "pw-for-tests-1"  # tests/factories.py
WRONG = "not-the-password"


def log_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username: str, times: int, address: str = "203.0.113.7"):
    """`times` wrong passwords; the last answer (the form again with its error, or the lockout page)."""
    for _ in range(times):
        response = log_in(client, username, WRONG, address)
    return response


# --- login throttling (django-axes) --------------------------------------------------------------------------


def test_ten_wrong_passwords_lock_the_username_out_from_that_address(client):
    marketer(username="maya")
    fail(client, "maya", settings.AXES_FAILURE_LIMIT)
    response = log_in(client, "maya", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert "logging in is paused\n    for 15 minutes" in html
    assert "_auth_user_id" not in client.session


def test_nine_failures_show_the_form_again_and_the_tenth_the_lockout_page(client):
    marketer(username="maya")
    nine = fail(client, "maya", settings.AXES_FAILURE_LIMIT - 1)
    assert nine.status_code == 200
    assert "didn't match" in nine.content.decode()
    assert log_in(client, "maya", WRONG).status_code == 429


def test_a_lockout_touches_neither_other_addresses_nor_other_usernames(client):
    marketer(username="maya")
    marketer(username="noah")
    fail(client, "maya", settings.AXES_FAILURE_LIMIT)
    assert log_in(client, "noah", PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, "maya", PASSWORD, address="198.51.100.20").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client):
    marketer(username="maya")
    fail(client, "maya", settings.AXES_FAILURE_LIMIT)
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == dt.timedelta(minutes=15)
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert log_in(client, "maya", PASSWORD).status_code == 302


def test_a_successful_login_forgets_earlier_failures(client):
    marketer(username="maya")
    fail(client, "maya", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "maya", PASSWORD).status_code == 302
    client.logout()
    fail(client, "maya", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "maya", PASSWORD).status_code == 302


def test_the_test_client_still_logs_users_in(client):
    """force_login skips authentication; login() goes through axes, which needs the request to key on."""
    user = marketer(username="maya")
    client.force_login(user)
    assert client.get(reverse("decisions:queue")).status_code == 200
    client.logout()
    assert client.login(request=RequestFactory().post(LOGIN), username="maya", password=PASSWORD)
    assert client.get(reverse("decisions:queue")).status_code == 200


# --- passwords -----------------------------------------------------------------------------------------------


def test_all_four_of_djangos_password_validators_are_on():
    names = {validator["NAME"].rsplit(".", 1)[1] for validator in settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("short7", "too short"),
        ("password123", "too common"),
        ("9081726354", "entirely numeric"),
        ("maya.lindqvist", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused(password, complaint):
    user = UserFactory.build(username="maya.lindqvist")
    with pytest.raises(ValidationError, match=complaint):
        validate_password(password, user)


# --- Content-Security-Policy ---------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_every_page_sends_a_strict_content_security_policy(client):
    directives = csp_directives(client.get(LOGIN))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in " ".join(directives.values())


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(client):
    html = client.get(LOGIN).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>""" in html


PAGES = [
    "decisions:queue",
    "decisions:history",
    "decisions:reports",
    "decisions:data",
    "decisions:runs",
    "decisions:auto-approval",
    "objectives:guardrails",
    "objectives:objectives",
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>")


@pytest.mark.parametrize("name", PAGES)
def test_pages_carry_no_inline_script_or_style_the_policy_would_block(client, name):
    decided = ProposalFactory(campaign=CampaignFactory(name="Search – Brand"))
    reviewing.proposal_approve(proposal=decided, actor=marketer())
    ProposalFactory()  # one pending, so the queue draws its rows
    client.force_login(marketer())
    html = client.get(reverse(name)).content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no onclick= and the like either


# --- users without a role ------------------------------------------------------------------------------------

NO_ROLE_PAGES = [*PAGES, "decisions:history-csv", "decisions:import", "objectives:guardrail-new"]


@pytest.fixture
def roleless(client):
    user = UserFactory(username="newcomer")
    client.force_login(user)
    return user


@pytest.mark.parametrize("name", NO_ROLE_PAGES)
def test_a_user_without_a_role_sees_a_page_that_says_so_instead_of_the_data(client, roleless, name):
    CampaignFactory(name="Secret Launch Campaign")
    response = client.get(reverse(name))
    assert response.status_code == 403
    html = response.content.decode()
    assert "you have no role yet" in html
    assert "Secret Launch Campaign" not in html
    assert f'action="{reverse("logout")}"' in html
    assert "python manage.py grant_role newcomer ROLE" in html


def test_the_no_role_page_answers_htmx_requests_and_posts_too(client, roleless):
    proposal = ProposalFactory()
    assert client.get(reverse("decisions:history"), headers={"HX-Request": "true"}).status_code == 403
    response = client.post(reverse("decisions:proposal-approve", args=[proposal.pk]))
    assert response.status_code == 403
    assert "you have no role yet" in response.content.decode()


def test_the_no_role_page_names_who_to_ask_when_configured(client, roleless, settings):
    settings.WAYPOINT_ROLE_CONTACT = "the marketing-ops team (#waypoint-access)"
    html = client.get(reverse("decisions:queue")).content.decode()
    assert "Ask <strong>the marketing-ops team (#waypoint-access)</strong>" in html


def test_a_user_without_a_role_can_still_log_in_and_out(client, roleless):
    assert client.get(LOGIN).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_the_admin_keeps_its_own_checks(client, roleless):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_superuser_without_a_role_reads_everything(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.get(reverse("decisions:queue")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("make_user", [viewer, marketer])
def test_a_user_with_a_role_is_let_through(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("decisions:history-csv")).status_code == 200
