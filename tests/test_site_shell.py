"""The frame around every page: the menu (Runs and Auto-approval included), the auto-approval state in the top bar,
the one live region, and the 403, 404 and 500 pages with the site's navigation."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from objectives import services as objective_services
from tests.factories import guardrail_admin, marketer, viewer

MENU = [
    "Queue",
    "History",
    "Guardrails",
    "Objectives",
    "Reports",
    "Runs",
    "Pacing",
    "Mix",
    "Workflows",
    "Experiments",
    "Data",
    "Auto-approval",
]


def menu_links(html: str) -> list[str]:
    nav = html[html.index('<nav aria-label="Main">') : html.index("</nav>")]
    return [part.split("</a>")[0].rsplit(">", 1)[-1] for part in nav.split("<a ")[1:]]


@pytest.mark.django_db
def test_every_page_has_the_whole_menu_and_the_live_region(client):
    client.force_login(viewer())
    for name in ("decisions:queue", "decisions:runs", "decisions:auto-approval", "objectives:guardrails"):
        html = client.get(reverse(name)).content.decode()
        assert menu_links(html) == MENU, name
        assert '<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>' in html


@pytest.mark.django_db
def test_the_current_section_is_marked_in_the_menu(client):
    client.force_login(viewer())
    html = client.get(reverse("decisions:runs")).content.decode()
    assert f'href="{reverse("decisions:runs")}" aria-current="page">Runs</a>' in html
    html = client.get(reverse("decisions:auto-approval")).content.decode()
    assert f'href="{reverse("decisions:auto-approval")}" aria-current="page">Auto-approval</a>' in html


@pytest.mark.django_db
def test_while_auto_approval_is_on_the_top_bar_links_to_its_kill_switch(client):
    client.force_login(marketer())
    assert "Auto-approval on" not in client.get(reverse("decisions:history")).content.decode()
    objective_services.auto_approval_update(actor=guardrail_admin(), reason="small moves", is_enabled=True)
    html = client.get(reverse("decisions:history")).content.decode()
    assert f'<a class="auto-on" href="{reverse("decisions:auto-approval")}#kill-switch">Auto-approval on</a>' in html
    page = client.get(reverse("decisions:auto-approval")).content.decode()
    assert 'id="kill-switch"' in page and "Turn auto-approval off now" in page


# --- error pages ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_forbidden_page_says_why_with_the_menu(client):
    client.force_login(marketer(username="mia"))
    response = client.get(reverse("objectives:guardrail-new"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "You cannot do this with your role" in html and "<strong>mia</strong> (Marketer)" in html
    assert menu_links(html) == MENU
    assert "/static/css/waypoint" in html


@pytest.mark.django_db
def test_a_review_refused_to_a_viewer_shows_the_reason(client):
    client.force_login(viewer())
    response = client.post(reverse("decisions:proposal-approve", args=[1]))
    assert response.status_code == 403
    assert "Only marketers and guardrail admins may decide proposals." in response.content.decode()


@pytest.mark.django_db
def test_a_missing_page_has_the_menu(client):
    client.force_login(viewer())
    for address in ("/no-such-page/", reverse("decisions:proposal", args=[999999])):
        response = client.get(address)
        assert response.status_code == 404
        assert "There is nothing at this address" in response.content.decode()
        assert menu_links(response.content.decode()) == MENU


def test_the_server_error_page_needs_neither_the_database_nor_the_request():
    # No django_db mark: any query here would fail the test.
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert menu_links(html) == MENU
    assert "/static/css/waypoint" in html

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    response = defaults.server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_no_page_loads_axe_core_it_is_for_the_accessibility_tests_only():
    templates = Path(settings.BASE_DIR) / "templates"
    assert (Path(settings.BASE_DIR) / "static" / "vendor" / "axe-4.14.1.min.js").exists()
    assert [str(path) for path in templates.rglob("*.html") if "axe-" in path.read_text()] == []
