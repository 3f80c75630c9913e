"""Auto-approval under risk limits: off by default, never over a verdict, a kill switch, audited, reversible."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from decisions.models import AuditEvent, Campaign, Proposal, Review
from decisions.review import autoapproval
from decisions.review import transitions as reviewing
from objectives import services as objective_services
from objectives.guardrails import Verdict
from objectives.models import AutoApprovalPolicy
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db


def small_change(campaign, pct=4.0, **kwargs):
    budget = float(campaign.daily_budget)
    changes = [
        {"campaign": campaign.external_id, "field": "daily_budget", "from": budget, "to": budget * (1 + pct / 100)}
    ]
    return ProposalFactory(campaign=campaign, changes=changes, p_loss=kwargs.pop("p_loss", 0.02), **kwargs)


def turn_on(**overrides):
    settings = {
        "is_enabled": True,
        "max_change_pct": 5.0,
        "max_p_loss": 0.05,
        "kinds": ["budget_change"],
        "channels": [],
    }
    return objective_services.auto_approval_update(actor=guardrail_admin(), reason="pilot", **{**settings, **overrides})


def policy(**fields):
    return AutoApprovalPolicy(
        **{
            "is_enabled": True,
            "max_change_pct": 5,
            "max_p_loss": 0.05,
            "kinds": ["budget_change"],
            "channels": ["search"],
            **fields,
        }
    )


PASS = Verdict("Cap", "max_budget_change_pct", "block", True, "ok")
WARN = Verdict("Cooldown", "cooldown", "warn", False, "changed 2 days ago")
BLOCK = Verdict("Cap", "max_budget_change_pct", "block", False, "moves 40%")
SMALL = [{"campaign": "C1", "field": "daily_budget", "from": 100, "to": 104}]


def why(p=None, kind="budget_change", channels=frozenset({"search"}), changes=SMALL, p_loss=0.02, verdicts=(PASS,)):
    return autoapproval.why_not(
        policy=p or policy(), kind=kind, channels=set(channels), changes=changes, p_loss=p_loss, verdicts=list(verdicts)
    )


def test_a_small_safe_proposal_qualifies():
    assert why() == ""


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"p": policy(is_enabled=False)}, "auto-approval is off"),
        ({"kind": "pause"}, "pause is not a kind"),
        ({"channels": {"display"}}, "channel display is not allowed"),
        ({"changes": [{"campaign": "C1", "field": "daily_budget", "from": 100, "to": 106}]}, "moves 6.0% (limit 5%)"),
        ({"changes": [{"campaign": "C1", "field": "status", "from": "active", "to": "paused"}]}, "moves 100.0%"),
        ({"p_loss": 0.06}, "P(loss) 0.06 (limit 0.05)"),
        ({"verdicts": (PASS, WARN)}, "guardrail Cooldown does not pass"),
        ({"verdicts": (BLOCK,)}, "guardrail Cap does not pass"),
    ],
)
def test_it_never_passes_a_proposal_outside_its_limits(kwargs, expected):
    assert expected in why(**kwargs)


def test_it_is_off_by_default():
    proposal = small_change(CampaignFactory())
    result = autoapproval.proposals_auto_approve(proposals=[proposal])
    assert result.approved == 0
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_the_policy_approves_and_applies_what_qualifies_and_leaves_the_rest(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(daily_budget=100)
    turn_on()
    ok = small_change(campaign)
    too_big = small_change(CampaignFactory(daily_budget=100), pct=20)
    risky = small_change(CampaignFactory(daily_budget=100), p_loss=0.2)
    with django_capture_on_commit_callbacks(execute=True):
        result = autoapproval.proposals_auto_approve(proposals=[ok, too_big, risky])
    assert (result.approved, result.skipped) == (1, 2)
    review = Review.objects.get(proposal=ok)
    assert review.by_policy and review.reviewer is None
    assert review.reviewer_label == "auto-approval policy v2"
    event = AuditEvent.objects.get(action="proposal.auto_approved")
    assert event.proposal_id == ok.pk and event.human_payload["policy_version"] == 2
    assert Proposal.objects.get(pk=ok.pk).status == Proposal.Status.APPLIED  # applied like any other
    assert float(Campaign.objects.get(pk=campaign.pk).daily_budget) == 104.0
    assert set(Proposal.objects.filter(pk__in=[too_big.pk, risky.pk]).values_list("status", flat=True)) == {"pending"}


def test_it_never_approves_over_a_warning():
    GuardrailFactory(kind="cooldown", severity="warn", params={"days": 7})
    campaign = CampaignFactory(last_changed_at=timezone.now() - dt.timedelta(days=2))
    turn_on()
    proposal = small_change(campaign)
    assert autoapproval.proposals_auto_approve(proposals=[proposal]).approved == 0
    assert not Review.objects.exists()


def test_the_kill_switch_stops_it_at_once():
    turn_on()
    objective_services.auto_approval_update(actor=marketer(), reason="odd numbers", is_enabled=False)
    assert AuditEvent.objects.filter(action="auto_approval.stopped").count() == 1
    proposal = small_change(CampaignFactory())
    assert autoapproval.proposals_auto_approve(proposals=[proposal]).approved == 0


def test_any_reviewer_can_roll_back_what_the_policy_approved(django_capture_on_commit_callbacks):
    turn_on()
    proposal = small_change(CampaignFactory(daily_budget=100))
    with django_capture_on_commit_callbacks(execute=True):
        autoapproval.proposals_auto_approve(proposals=[proposal])
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_rollback(proposal=Proposal.objects.get(pk=proposal.pk), actor=marketer(), reason="not now")
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.ROLLED_BACK
    assert float(Campaign.objects.get(pk=proposal.campaign_id).daily_budget) == 100.0


def test_a_policy_change_needs_a_reason_and_sane_limits():
    with pytest.raises(ValidationError, match="reason"):
        objective_services.auto_approval_update(actor=guardrail_admin(), reason=" ", is_enabled=True)
    with pytest.raises(ValidationError, match="max_change_pct"):
        objective_services.auto_approval_update(actor=guardrail_admin(), reason="x", max_change_pct=40)
    assert not AuditEvent.objects.exists()


def test_a_policy_change_is_versioned_and_audited():
    policy_row = turn_on(kinds=["budget_change", "budget_shift"])
    assert policy_row.version == 2
    event = AuditEvent.objects.get(action="auto_approval.changed")
    assert event.machine_payload["is_enabled"] is False and event.human_payload["is_enabled"] is True
    assert event.reason == "pilot"


# --- the page -----------------------------------------------------------------------


def test_everyone_can_read_the_policy_page(client):
    client.force_login(viewer())
    response = client.get(reverse("decisions:auto-approval"))
    assert response.status_code == 200 and b"Off by default" in response.content
    assert b"Save policy" not in response.content


def test_an_admin_sees_a_preview_then_turns_it_on_from_the_page(client):
    client.force_login(guardrail_admin())
    form = {
        "is_enabled": "on",
        "max_change_pct": "5",
        "max_p_loss": "0.05",
        "kinds": ["budget_change"],
        "reason": "pilot on search",
    }
    preview = client.post(reverse("decisions:auto-approval-update"), form)
    assert preview.status_code == 200 and b"With these limits it would approve" in preview.content
    assert not autoapproval.current_policy().is_enabled and not AuditEvent.objects.exists()
    response = client.post(reverse("decisions:auto-approval-update"), {**form, "confirm": "1"})
    assert response.status_code == 302
    assert autoapproval.current_policy().is_enabled
    assert AuditEvent.objects.filter(action="auto_approval.changed").exists()


def test_a_bad_limit_is_shown_and_nothing_changes(client):
    client.force_login(guardrail_admin())
    response = client.post(
        reverse("decisions:auto-approval-update"),
        {"is_enabled": "on", "max_change_pct": "50", "max_p_loss": "0.05", "reason": "x"},
    )
    assert response.status_code == 400 and b"max_change_pct" in response.content
    assert not autoapproval.current_policy().is_enabled


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_admins_change_the_policy(client, make_user):
    client.force_login(make_user())
    response = client.post(reverse("decisions:auto-approval-update"), {"is_enabled": "on", "reason": "x"})
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()


def test_a_marketer_may_pull_the_kill_switch_but_a_viewer_may_not(client):
    turn_on()
    client.force_login(viewer())
    assert client.post(reverse("decisions:auto-approval-stop")).status_code == 403
    client.force_login(marketer())
    assert client.post(reverse("decisions:auto-approval-stop")).status_code == 302
    assert not autoapproval.current_policy().is_enabled


@pytest.mark.parametrize("name", ["decisions:auto-approval-update", "decisions:auto-approval-stop"])
def test_policy_writes_need_a_post(client, name):
    client.force_login(guardrail_admin())
    assert client.get(reverse(name)).status_code == 405
