"""The Mix page and a channel_shift proposal in Chromium at desktop and phone widths: every chart is drawn, no
script error, and neither page scrolls sideways on a phone. Screenshots land in test-artifacts/ (mix-*.png)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from decisions import access as roles
from decisions.demo.mix import seed_mix_world
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Proposal
from objectives import services as objective_services
from tests.browser.conftest import log_in

WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
END = dt.date(2026, 11, 1)


@pytest.fixture
def mix_world(transactional_db):
    seed_mix_world(end=END, weeks=104)
    objective_services.objective_set(metric="closed_revenue", attribution="mix", reason="totals only")
    started = generating.generation_start(window_end=END - dt.timedelta(days=1))
    generate_proposals.delay(started.run.pk)
    user = User.objects.create_user("mia", password="pw-for-browser-1")
    user.groups.add(Group.objects.get_or_create(name=roles.MARKETER)[0])
    # The objective change queued a run of its own (in process here); the run started above superseded it.
    return Proposal.objects.get(kind="channel_shift", status=Proposal.Status.PENDING)


@pytest.mark.parametrize("size", WIDTHS)
def test_the_mix_page_and_a_channel_shift_draw_their_charts(browser, live_server, mix_world, size, screenshot):
    context = browser.new_context(viewport=WIDTHS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "mia", "pw-for-browser-1")
    page.goto(f"{live_server.url}/mix/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Returns per channel")).to_be_visible()
    assert page.locator("canvas[data-mix-chart]").count() == 2 + 6  # returns, time, six curves
    assert page.evaluate("[...document.querySelectorAll('canvas[data-mix-chart]')].every(c => Chart.getChart(c))")
    assert page.evaluate("document.documentElement.scrollWidth") == WIDTHS[size]["width"]
    screenshot(page, f"mix-{size}")
    page.goto(f"{live_server.url}/proposals/{mix_world.pk}/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Channel mix behind this move")).to_be_visible()
    curves = "[...document.querySelectorAll('canvas[data-mix-chart=\"evidence-curve\"]')]"
    assert page.evaluate(f"{curves}.length === 6 && {curves}.every(c => Chart.getChart(c))")
    assert page.evaluate("document.documentElement.scrollWidth") == WIDTHS[size]["width"]
    assert errors == []
    screenshot(page, f"mix-proposal-{size}")
    context.close()
