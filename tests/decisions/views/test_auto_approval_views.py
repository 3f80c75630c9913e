"""Auto-approval you can see: a preview before turning it on, pending proposals considered once it is on,
runs that count what it approved, and the page listing its recent decisions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions.models import AuditEvent, GenerationRun, Proposal
from decisions.review import autoapproval
from objectives.models import AutoApprovalPolicy
from tests.decisions.review.test_autoapproval import small_change, turn_on
from tests.factories import CampaignFactory, GenerationRunFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db
PAGE = reverse("decisions:auto-approval")
UPDATE = reverse("decisions:auto-approval-update")
FORM = {
    "is_enabled": "on",
    "max_change_pct": "5",
    "max_p_loss": "0.05",
    "kinds": ["budget_change"],
    "reason": "pilot",
}


@pytest.fixture
def admin(client):
    user = guardrail_admin()
    client.force_login(user)
    return user


def waiting_queue():
    """Two small safe proposals (one from a run), one too big, one too risky: two qualify."""
    run = GenerationRunFactory(status=GenerationRun.Status.SUCCEEDED)
    campaign = CampaignFactory()
    return {
        "small": small_change(campaign, pct=4, expected_mean=300.0, run=run),
        "small2": small_change(CampaignFactory(), pct=3, expected_mean=200.0),
        "big": small_change(CampaignFactory(), pct=20),
        "risky": small_change(CampaignFactory(), pct=2, p_loss=0.3),
        "run": run,
    }


def test_turning_it_on_previews_what_it_would_approve_first_and_changes_nothing(client, admin):
    waiting_queue()
    response = client.post(UPDATE, FORM)
    assert response.status_code == 200
    html = response.content.decode()
    assert "With these limits it would approve 2 of the 4 pending proposals, worth +$500/week" in html
    assert "Over the last 30 days it would have approved 2 of the 4 proposals" in html
    assert 'name="confirm" value="1"' in html and 'name="reason" value="pilot"' in html
    assert not autoapproval.current_policy().is_enabled
    assert not AuditEvent.objects.filter(action="auto_approval.changed").exists()


def test_the_30_day_preview_counts_decided_proposals_too_but_not_older_ones(client, admin):
    old = small_change(CampaignFactory(), status=Proposal.Status.REJECTED)
    Proposal.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    small_change(CampaignFactory(), status=Proposal.Status.APPLIED, expected_mean=150.0)
    preview = autoapproval.recent_preview(
        AutoApprovalPolicy(is_enabled=True, max_change_pct=5, max_p_loss=0.05, kinds=["budget_change"])
    )
    assert (preview.approved, preview.considered, preview.worth) == (1, 1, {"pipeline_value": 150.0})


def test_confirming_turns_it_on_and_approves_the_pending_proposals_that_qualify(
    client, admin, django_capture_on_commit_callbacks
):
    queue = waiting_queue()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPDATE, {**FORM, "confirm": "1"})
    assert response.status_code == 302
    assert autoapproval.current_policy().is_enabled
    statuses = {name: Proposal.objects.get(pk=p.pk).status for name, p in queue.items() if name != "run"}
    assert statuses["small"] in ("approved", "applied") and statuses["small2"] in ("approved", "applied")
    assert statuses["big"] == statuses["risky"] == "pending"
    queue["run"].refresh_from_db()
    assert queue["run"].counts["auto_approved"] == 1  # counted on the run that proposed it


def test_a_confirmation_without_a_reason_is_refused(client, admin):
    response = client.post(UPDATE, {**FORM, "reason": ""})
    assert response.status_code == 400 and b"reason" in response.content
    assert not autoapproval.current_policy().is_enabled


def test_turning_it_off_needs_no_preview(client, admin):
    turn_on()
    response = client.post(UPDATE, {**FORM, "is_enabled": "", "reason": "pause the pilot"})
    assert response.status_code == 302 and not autoapproval.current_policy().is_enabled


def test_a_run_counts_what_the_policy_approved_and_the_runs_page_shows_it(client):
    run = GenerationRunFactory(status=GenerationRun.Status.SUCCEEDED)
    turn_on()
    small_change(CampaignFactory(), run=run)
    small_change(CampaignFactory(), pct=30, run=run)
    assert autoapproval.run_auto_approve(run_id=run.pk).approved == 1
    run.refresh_from_db()
    assert run.counts["auto_approved"] == 1
    client.force_login(viewer())
    html = client.get(reverse("decisions:runs")).content.decode()
    assert "Auto-approved" in html


def test_the_page_lists_what_the_policy_approved_recently(client):
    turn_on()
    proposal = small_change(CampaignFactory(), expected_mean=420.0)
    autoapproval.proposals_auto_approve(proposals=[proposal])
    client.force_login(viewer())
    html = client.get(PAGE).content.decode()
    assert f'href="{reverse("decisions:proposal", args=[proposal.pk])}"' in html
    assert '<span class="badge auto">policy v2</span>' in html and "+$420" in html
    assert f'href="{reverse("decisions:history")}?reviewer=policy"' in html


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_admins_get_a_preview(client, make_user):
    client.force_login(make_user())
    assert client.post(UPDATE, FORM).status_code == 403


def test_the_preview_needs_a_post(client, admin):
    assert client.get(UPDATE).status_code == 405


def test_the_policy_reads_in_words_and_percents_for_a_reviewer(client, admin):
    client.post(UPDATE, {**FORM, "confirm": "1"})
    client.force_login(marketer())
    html = client.get(PAGE).content.decode()
    assert "highest P(loss): 5%" in html and "kinds: Budget change" in html
    assert "budget_change" not in html.split("What the policy approved recently")[0].split("<main")[-1]


def test_the_preview_lists_p_loss_as_a_percent(client, admin):
    waiting_queue()
    html = client.post(UPDATE, FORM).content.decode()
    assert '<td class="num">2%</td>' in html and '<td class="num">0.02</td>' not in html  # p_loss 0.02
