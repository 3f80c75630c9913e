"""The review queue page and every decision taken from it: happy path, wrong state, roles, methods, audit."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions import audit
from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, Proposal, Review
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import (
    CampaignFactory,
    DailyMetricFactory,
    GuardrailFactory,
    ProposalFactory,
    guardrail_admin,
    marketer,
    viewer,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"decisions:{name}", args=args)


def actions(proposal: Proposal) -> list[str]:
    return list(AuditEvent.objects.filter(proposal=proposal).order_by("id").values_list("action", flat=True))


def budget_limit(pct: float, severity: str = "block"):
    return GuardrailFactory(kind="max_budget_change_pct", params={"pct": pct}, severity=severity)


@pytest.fixture
def reviewer(client):
    user = marketer(first_name="Maya", last_name="Lind")
    client.force_login(user)
    return user


def applied_proposal(**kwargs) -> Proposal:
    proposal = ProposalFactory(**kwargs)
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    applying.application_apply(application_id=application.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    return proposal


# --- the queue page ---------------------------------------------------------------------


def test_the_queue_ranks_pending_proposals_by_priority(client, reviewer):
    low = ProposalFactory(priority=10, campaign=CampaignFactory(name="Low one"))
    high = ProposalFactory(priority=900, campaign=CampaignFactory(name="High one"))
    ProposalFactory(priority=5000, status=Proposal.Status.REJECTED, campaign=CampaignFactory(name="Decided one"))
    ProposalFactory(priority=4000, expires_at=timezone.now() - dt.timedelta(minutes=1))
    body = client.get(url("queue")).content.decode()
    assert body.index(f'id="proposal-{high.pk}"') < body.index(f'id="proposal-{low.pk}"')
    assert "Decided one" not in body
    assert "<strong>2</strong>" in body  # the expired one is not counted either


def test_each_row_shows_the_change_impact_risk_and_badges(client, reviewer):
    campaign = CampaignFactory(name="Search Brand", external_id="C-1")
    ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": "C-1", "field": "daily_budget", "from": 100.0, "to": 120.0}],
        expected_mean=700,
        expected_low=300,
        expected_high=1100,
        p_loss=0.12,
        expires_at=timezone.now() + dt.timedelta(hours=30),
        guardrail_verdicts=[
            {"name": "Cap", "kind": "max_budget_change_pct", "severity": "warn", "passed": False, "message": "Too big"}
        ],
    )
    body = client.get(url("queue")).content.decode()
    assert "Raise Search Brand’s daily budget by $20.00" in body
    assert "$100 → <strong>$120</strong>" in body
    assert "+$700" in body and "+$300 to +$1,100" in body
    assert "12%" in body
    assert '<span class="badge warn">warn</span>' in body and "Too big" in body
    assert "expires in 1\xa0day" in body  # Django keeps the number and unit together


def test_a_budget_shift_reads_as_a_move_between_campaigns(client, reviewer):
    CampaignFactory(name="Display", external_id="D")
    receiver = CampaignFactory(name="Social", external_id="S")
    ProposalFactory(
        kind=kinds.BUDGET_SHIFT.name,
        campaign=receiver,
        changes=[
            {"campaign": "D", "field": "daily_budget", "from": 200.0, "to": 150.0},
            {"campaign": "S", "field": "daily_budget", "from": 100.0, "to": 150.0},
        ],
    )
    assert "Move $50.00/day from Display to Social" in client.get(url("queue")).content.decode()


@pytest.mark.parametrize("size", [25, 100])
def test_the_queue_page_costs_the_same_few_queries_whatever_its_size(
    client, reviewer, size, django_assert_max_num_queries
):
    campaigns = [CampaignFactory(channel=f"ch{i % 3}") for i in range(10)]
    for i in range(130):
        ProposalFactory(campaign=campaigns[i % 10], priority=i)
    with django_assert_max_num_queries(10):
        response = client.get(url("queue"), {"per_page": size, "page": 1})
    assert response.content.decode().count('class="proposal status-pending"') == size


def test_the_queue_pages_without_counting_every_row(client, reviewer):
    for i in range(30):
        ProposalFactory(priority=i)
    first = client.get(url("queue")).content.decode()
    assert "showing 1–25" in first and "page=2" in first
    second = client.get(url("queue"), {"page": 2}).content.decode()
    assert "showing 26–30" in second and "Next →" not in second


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "pause"}, "paused"),
        ({"channel": "social"}, "social"),
        ({"campaign": "Retarget"}, "social"),
        ({"guardrails": "warn"}, "warned"),
        ({"guardrails": "block"}, "blocked"),
        ({"guardrails": "pass"}, "plain"),
    ],
)
def test_the_queue_filters(client, reviewer, params, expected):
    failing = {"name": "G", "kind": "cooldown", "passed": False, "message": "m"}
    rows = {
        "plain": ProposalFactory(campaign=CampaignFactory(channel="search", name="Brand search")),
        "paused": ProposalFactory(
            kind=kinds.PAUSE.name, campaign=CampaignFactory(channel="search", name="Generic search")
        ),
        "social": ProposalFactory(campaign=CampaignFactory(channel="social", name="Retargeting")),
        "warned": ProposalFactory(guardrail_verdicts=[{**failing, "severity": "warn"}]),
        "blocked": ProposalFactory(guardrail_verdicts=[{**failing, "severity": "block"}]),
    }
    for name in ("plain", "paused", "social"):
        Proposal.objects.filter(pk=rows[name].pk).update(
            guardrail_verdicts=[{**failing, "severity": "warn", "passed": True}]
        )
    if params.get("guardrails") == "pass":
        # "pass" also means untouched by any failing verdict; keep one row to assert on.
        Proposal.objects.filter(pk__in=[rows["paused"].pk, rows["social"].pk]).delete()
    body = client.get(url("queue"), params).content.decode()
    shown = {name for name, proposal in rows.items() if f'id="proposal-{proposal.pk}"' in body}
    assert shown == {expected}


def test_a_filter_change_over_htmx_redraws_only_the_results(client, reviewer):
    ProposalFactory()
    response = client.get(url("queue"), {"kind": "pause"}, HTTP_HX_TARGET="queue-results", **HTMX)
    body = response.content.decode()
    assert "<html" not in body and 'id="queue-results"' in body
    assert "No pending proposal matches these filters" in body


def test_the_empty_queue_explains_where_proposals_come_from(client, reviewer):
    body = client.get(url("queue")).content.decode()
    assert "Nothing is waiting for review" in body and url("runs") in body


def test_reviewers_see_the_decision_buttons_and_viewers_do_not(client):
    ProposalFactory()
    client.force_login(marketer())
    body = client.get(url("queue")).content.decode()
    assert ">Approve</button>" in body and ">Edit</button>" in body and ">Reject</button>" in body
    client.force_login(viewer())
    body = client.get(url("queue")).content.decode()
    assert ">Approve</button>" not in body and ">Edit</button>" not in body and ">Reject</button>" not in body
    assert "Approve all shown" not in body


def test_bulk_approve_offers_only_the_shown_rows_that_pass(client, reviewer):
    passing = ProposalFactory(priority=2)
    failing = ProposalFactory(
        priority=1,
        guardrail_verdicts=[{"name": "G", "kind": "cooldown", "severity": "warn", "passed": False, "message": "m"}],
    )
    body = client.get(url("queue")).content.decode()
    assert "Approve all shown that pass every guardrail (1)" in body
    assert f'name="ids" value="{passing.pk}"' in body and f'name="ids" value="{failing.pk}"' not in body


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_queue_is_read_only(client, reviewer, method):
    assert getattr(client, method)(url("queue")).status_code == 405


# --- detail ---------------------------------------------------------------------------------


def test_the_detail_page_shows_rationale_curve_trend_platform_view_and_timeline(client, reviewer):
    campaign = CampaignFactory(external_id="C-9", name="Video")
    today = timezone.localdate()
    for days_ago in range(40):
        DailyMetricFactory(campaign=campaign, date=today - dt.timedelta(days=days_ago))
    curve = {"campaign": "C-9", "name": "Video", "spend": [0, 100, 200], "value": [0, 5, 8], "low": [0, 3, 6]}
    curve.update({"high": [0, 7, 10], "from": 100, "to": 120, "seen": [50, 150], "marginal": 0.04})
    proposal = ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": "C-9", "field": "daily_budget", "from": 100.0, "to": 120.0}],
        rationale="Video still climbs.",
        evidence={"curves": [curve]},
        platform_view={"summary": "Platform ROAS agrees.", "disagrees": False, "campaigns": []},
    )
    audit.record(action="proposal.created", label="engine", proposal=proposal)
    budget_limit(10, severity="warn")
    body = client.get(url("proposal", proposal.pk)).content.decode()
    assert "Video still climbs." in body
    assert 'id="charts-' in body and 'data-chart="curve"' in body and 'data-chart="trend"' in body
    assert body.count('\\"date\\"') == 0 and body.count('"date"') == 28  # exactly the last 28 days
    assert "Platform ROAS agrees." in body
    assert "proposal.created" in body
    # Re-checked live: the warn guardrail added after proposing shows up here.
    assert "Guardrails now" in body and '<span class="badge warn">warn</span>' in body


def test_the_detail_over_htmx_is_an_inline_fragment(client, reviewer):
    proposal = ProposalFactory()
    body = client.get(url("proposal", proposal.pk), **HTMX).content.decode()
    assert body.lstrip().startswith(f'<tr id="detail-{proposal.pk}"')
    row = client.get(url("proposal", proposal.pk), {"row": 1}, **HTMX).content.decode()
    assert row.lstrip().startswith(f'<tbody id="proposal-{proposal.pk}"')


def test_a_viewer_reads_the_detail_without_buttons(client):
    proposal = ProposalFactory()
    client.force_login(viewer())
    response = client.get(url("proposal", proposal.pk))
    assert response.status_code == 200 and ">Approve</button>" not in response.content.decode()


def test_an_unknown_proposal_is_404(client, reviewer):
    assert client.get(url("proposal", 999)).status_code == 404
    assert client.post(url("proposal-approve", 999)).status_code == 404


# --- approve ------------------------------------------------------------------------------


def test_approve_redirects_back_with_a_message_and_is_audited(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), {"next": "/?kind=pause"})
    assert response.status_code == 302 and response["Location"] == "/?kind=pause"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert proposal.review.reviewer == reviewer
    assert actions(proposal) == ["proposal.approved"]


def test_approve_refuses_a_next_on_another_site(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), {"next": "https://evil.example/"})
    assert response["Location"] == url("queue")


def test_approve_over_htmx_redraws_the_row_in_place(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-approve", proposal.pk), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tbody id="proposal-{proposal.pk}"')
    assert "Approved as proposed by Maya Lind" in body
    assert ">Approve</button>" not in body


def test_a_second_approval_over_htmx_is_409_with_who_decided(client, reviewer):
    proposal = ProposalFactory()
    first = marketer(first_name="Ann", last_name="Lee")
    reviewing.proposal_approve(proposal=proposal, actor=first)
    response = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert response.status_code == 409
    assert "Already approved by Ann Lee" in response.content.decode()
    assert Review.objects.filter(proposal=proposal).count() == 1
    assert actions(proposal) == ["proposal.approved"]


def test_a_second_approval_without_htmx_redirects_with_who_decided(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_reject(proposal=proposal, actor=marketer(username="ann"), reason_code="brand")
    response = client.post(url("proposal-approve", proposal.pk), follow=True)
    assert "Already rejected by ann" in response.content.decode()
    assert Review.objects.get(proposal=proposal).decision == Review.Decision.REJECTED


def test_an_expired_proposal_cannot_be_approved(client, reviewer):
    proposal = ProposalFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert response.status_code == 409
    assert "can no longer be decided" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_approving_over_a_warning_asks_then_logs_the_override(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity="warn")
    asked = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert asked.status_code == 200
    assert 'name="confirm_warnings"' in asked.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    client.post(url("proposal-approve", proposal.pk), {"confirm_warnings": "on"}, **HTMX)
    assert actions(proposal) == ["proposal.approved", "proposal.override_warn"]


def test_a_marketer_cannot_approve_over_a_block(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10)
    response = client.post(url("proposal-approve", proposal.pk), {"override_reason": "please"}, **HTMX)
    assert response.status_code == 403
    assert "Only a guardrail admin" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    assert actions(proposal) == []


def test_a_guardrail_admin_approves_over_a_block_with_a_reason(client):
    proposal = ProposalFactory()
    budget_limit(10)
    client.force_login(guardrail_admin())
    asked = client.post(url("proposal-approve", proposal.pk), **HTMX)
    assert 'name="override_reason"' in asked.content.decode()
    client.post(url("proposal-approve", proposal.pk), {"override_reason": "Launch week"}, **HTMX)
    assert actions(proposal) == ["proposal.approved", "proposal.override_block"]
    assert AuditEvent.objects.get(proposal=proposal, action="proposal.override_block").reason == "Launch week"


def test_approve_without_javascript_shows_the_guardrail_question_on_the_proposal_page(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(10, severity="warn")
    response = client.post(url("proposal-approve", proposal.pk))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body and 'name="confirm_warnings"' in body


# --- edit --------------------------------------------------------------------------------------


def test_the_edit_form_holds_the_proposed_numbers(client, reviewer):
    proposal = ProposalFactory()
    body = client.get(url("proposal-edit", proposal.pk), **HTMX).content.decode()
    assert 'value="120.0"' in body and "Save and approve" in body
    assert url("proposal-check", proposal.pk) in body


def test_edit_and_approve_keeps_both_values_and_is_audited(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110", "note": "Smaller step"}, **HTMX)
    assert response.status_code == 200 and "Edited and approved by Maya Lind" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.changes[0]["to"] == 120.0
    assert proposal.review.final_changes[0]["to"] == 110.0
    assert proposal.review.note == "Smaller step"
    event = AuditEvent.objects.get(proposal=proposal, action="proposal.edited")
    assert event.machine_payload["changes"][0]["to"] == 120.0 and event.human_payload["final_changes"][0]["to"] == 110.0


def test_edit_refuses_a_negative_budget(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "-5"}, **HTMX)
    assert response.status_code == 422
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_edit_without_javascript_redirects_to_the_queue(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"})
    assert response.status_code == 302 and response["Location"] == url("queue")


def test_editing_a_decided_proposal_is_refused(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    assert client.get(url("proposal-edit", proposal.pk), **HTMX).status_code == 409
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "110"}, **HTMX)
    assert response.status_code == 409 and "Already approved by ann" in response.content.decode()


def test_edited_values_over_a_block_are_refused_for_a_marketer(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    response = client.post(url("proposal-edit", proposal.pk), {"change_0": "150"}, **HTMX)
    assert response.status_code == 403
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_the_live_check_shows_a_violation_and_its_fix(client, reviewer):
    proposal = ProposalFactory()
    budget_limit(30)
    over = client.post(url("proposal-check", proposal.pk), {"change_0": "150"}).content.decode()
    assert '<span class="badge block">block</span>' in over and "only a guardrail admin" in over
    fixed = client.post(url("proposal-check", proposal.pk), {"change_0": "125"}).content.decode()
    assert '<span class="badge block">' not in fixed and '<span class="badge pass">pass</span>' in fixed
    unusable = client.post(url("proposal-check", proposal.pk), {"change_0": "abc"}).content.decode()
    assert "Enter a number" in unusable


# --- reject ----------------------------------------------------------------------------------


def test_reject_needs_a_reason(client, reviewer):
    proposal = ProposalFactory()
    form = client.get(url("proposal-reject", proposal.pk), **HTMX).content.decode()
    assert "Confirm rejection" in form and 'value="too_risky"' in form
    response = client.post(url("proposal-reject", proposal.pk), {"note": "no"}, **HTMX)
    assert response.status_code == 422 and "Choose a reason" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING


def test_reject_with_a_reason_is_recorded(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-reject", proposal.pk), {"reason_code": "timing", "note": "After launch"})
    assert response.status_code == 302
    review = Review.objects.get(proposal=proposal)
    assert (review.decision, review.reason_code, review.note) == ("rejected", "timing", "After launch")
    event = AuditEvent.objects.get(proposal=proposal)
    assert (event.action, event.reason) == ("proposal.rejected", "After launch")


def test_rejecting_a_decided_proposal_is_409(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(username="ann"))
    response = client.post(url("proposal-reject", proposal.pk), {"reason_code": "brand"}, **HTMX)
    assert response.status_code == 409 and "Already approved by ann" in response.content.decode()


# --- rollback and retry ----------------------------------------------------------------------


def test_rollback_sends_the_inverse_change_and_is_audited(client, reviewer):
    proposal = applied_proposal()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "Sales pushed back"}, **HTMX)
    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ROLLED_BACK
    rollback = Application.objects.get(proposal=proposal, direction=Application.Direction.ROLLBACK)
    assert rollback.changes[0]["to"] == 100.0
    assert AuditEvent.objects.get(proposal=proposal, action="proposal.rolled_back").reason == "Sales pushed back"


def test_rollback_needs_a_reason(client, reviewer):
    proposal = applied_proposal()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": ""}, **HTMX)
    assert response.status_code == 422
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.APPLIED


def test_rollback_of_a_pending_proposal_is_refused(client, reviewer):
    proposal = ProposalFactory()
    response = client.post(url("proposal-rollback", proposal.pk), {"reason": "x"}, **HTMX)
    assert response.status_code == 409 and "Only an applied proposal" in response.content.decode()


def test_an_applied_row_offers_rollback(client, reviewer):
    proposal = applied_proposal()
    body = client.get(url("proposal", proposal.pk)).content.decode()
    assert ">Rollback</button>" in body and "Applied" in body


def failed_application() -> Application:
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.FAILED, attempts=5, last_error="Platform said 500"
    )
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.FAILED)
    return application


def test_a_failed_apply_shows_its_error_and_a_retry_button(client, reviewer):
    application = failed_application()
    body = client.get(url("proposal", application.proposal_id)).content.decode()
    assert "Platform said 500" in body and ">Retry</button>" in body


def test_retry_requeues_a_failed_apply_and_is_audited(client, reviewer):
    application = failed_application()
    response = client.post(url("application-retry", application.pk))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(proposal_id=application.proposal_id, action="application.retried").exists()
    application.refresh_from_db()
    assert application.status != Application.Status.FAILED


def test_retrying_an_application_that_did_not_fail_is_409(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    assert client.post(url("application-retry", application.pk), **HTMX).status_code == 409


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_approve_approves_what_passes_now_and_holds_the_rest(client, reviewer):
    small = ProposalFactory(
        campaign=CampaignFactory(external_id="S"),
        changes=[{"campaign": "S", "field": "daily_budget", "from": 100.0, "to": 105.0}],
    )
    big = ProposalFactory()
    decided = ProposalFactory()
    reviewing.proposal_reject(proposal=decided, actor=marketer(), reason_code="brand")
    budget_limit(10)
    response = client.post(url("bulk-approve"), {"ids": [small.pk, big.pk, decided.pk]}, follow=True)
    body = response.content.decode()
    assert "Approved 1 proposal; 1 held back: a guardrail fails now; 1 already decided" in body
    assert Proposal.objects.get(pk=small.pk).status == Proposal.Status.APPROVED
    assert Proposal.objects.get(pk=big.pk).status == Proposal.Status.PENDING
    assert AuditEvent.objects.get(proposal=small).human_payload["bulk"] is True


# --- roles and methods for every transition ----------------------------------------------------

WRITES = [
    ("proposal-approve", {}),
    ("proposal-edit", {"change_0": "110"}),
    ("proposal-check", {"change_0": "110"}),
    ("proposal-reject", {"reason_code": "brand"}),
    ("proposal-rollback", {"reason": "x"}),
    ("application-retry", {}),
    ("bulk-approve", {"ids": ["1"]}),
]


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_viewers_get_403_on_every_post(client, name, data):
    proposal = applied_proposal()
    client.force_login(viewer())
    args = (
        ()
        if name == "bulk-approve"
        else (proposal.applications.get().pk if name == "application-retry" else proposal.pk,)
    )
    assert client.post(url(name, *args), data).status_code == 403
    assert client.post(url(name, *args), data, **HTMX).status_code == 403
    assert not AuditEvent.objects.filter(actor__username__startswith="user", action__startswith="proposal.r").exists()


@pytest.mark.parametrize("name", ["proposal-edit", "proposal-reject"])
def test_viewers_get_403_on_the_decision_forms(client, name):
    proposal = ProposalFactory()
    client.force_login(viewer())
    assert client.get(url(name, proposal.pk)).status_code == 403


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("proposal-approve", "get"),
        ("proposal-check", "get"),
        ("proposal-rollback", "get"),
        ("application-retry", "get"),
        ("bulk-approve", "get"),
        ("proposal-edit", "put"),
        ("proposal-reject", "delete"),
        ("proposal", "post"),
    ],
)
def test_wrong_methods_get_405(client, reviewer, name, method):
    proposal = ProposalFactory()
    args = () if name == "bulk-approve" else (proposal.pk,)
    assert getattr(client, method)(url(name, *args)).status_code == 405
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
