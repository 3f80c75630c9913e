"""The weekly override report, checked against figures worked out by hand.

A scripted week of decisions, made through the real services, whose report figures are worked out by hand.

Shared by the report, page and email tests. What happens this week:

    proposal   channel  kind           created   what people (and the clock) did
    approve    search   budget_change  -1 min    approved as proposed by mia, applied
    edit       search   budget_change  -2 min    noah: 100→140 edited to 120 (ratio 20/40 = 0.5)
    edit2      social   budget_change  -3 min    noah: 200→300 edited to 225 (ratio 25/100 = 0.25)
    reject     social   pause          -4 min    rejected by mia, reason strategy
    warn       search   budget_change  -5 min    noah approves over the warn guardrail "Cap search moves"
    block      social   budget_change  -6 min    ada (guardrail admin) approves over the block guardrail "Brand floor"
    rollback   search   budget_change  -10 min   approved by mia, applied, then rolled back by mia
    expire     social   budget_change  now       nobody looked: expired
    auto       search   budget_change  now       auto-approved by the policy
    old        search   budget_change  now       superseded by a newer proposal (not a decision)

Decisions 8 (approved as proposed 4 — approve, warn, block, rollback —, edited 2, rejected 1, auto 1); the expiry
and the supersession left the queue undecided. Overrides 6 (edit, edit2, reject, warn, block, and the approval
later rolled back). A week earlier: one approval and one rejection (2 decisions, 1 override).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions import audit
from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, Outcome, Proposal, Review
from decisions.reports import weekly as reports
from decisions.reports.weekly import iso_week, week_bounds
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory, guardrail_admin, marketer


@dataclass
class ScriptedWeek:
    week: str
    proposals: dict[str, Proposal]
    people: dict


def _proposal(name: str, *, channel: str, to: float, before: float = 100.0, kind=kinds.BUDGET_CHANGE.name, **kw):
    campaign = CampaignFactory(channel=channel, daily_budget=before, external_id=f"C-{name}")
    field, start, end = ("status", "active", "paused") if kind == kinds.PAUSE.name else ("daily_budget", before, to)
    changes = [{"campaign": campaign.external_id, "field": field, "from": start, "to": end}]
    proposal = ProposalFactory(campaign=campaign, kind=kind, changes=changes, **kw)
    # What the engine writes for each proposal it makes (decisions/generating.py).
    audit.record(action="proposal.created", label="engine", proposal=proposal, machine_payload={"changes": changes})
    return proposal


def _created_ago(proposal: Proposal, minutes: int) -> None:
    Proposal.objects.filter(pk=proposal.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes))


def _apply(proposal: Proposal, direction=Application.Direction.APPLY) -> None:
    application = Application.objects.get(proposal=proposal, direction=direction)
    applying.application_apply(application_id=application.pk)


def auto_approve(proposal: Proposal) -> None:
    """What the auto-approval policy records: a Review by_policy and a proposal.auto_approved event."""
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.APPROVED, decided_at=timezone.now())
    Review.objects.create(
        proposal=proposal,
        reviewer_label="auto-approval policy v1",
        decision=Review.Decision.APPROVED,
        final_changes=proposal.changes,
        by_policy=True,
    )
    audit.record(action="proposal.auto_approved", label="auto-approval policy v1", proposal=proposal)


def past_event(*, action: str, proposal: Proposal, at: dt.datetime) -> AuditEvent:
    """An audit row dated in an earlier week (services always write "now")."""
    event = AuditEvent(action=action, actor_label="mia", proposal=proposal, created_at=at, hash=uuid.uuid4().hex)
    event.save()
    return event


def script_week() -> ScriptedWeek:
    mia = marketer(username="mia")
    noah = marketer(username="noah")
    ada = guardrail_admin(username="ada")
    GuardrailFactory(name="Cap search moves", severity="warn", params={"pct": 10}, scope={"campaign": "C-warn"})
    GuardrailFactory(name="Brand floor", severity="block", params={"pct": 10}, scope={"campaign": "C-block"})
    failing = {"passed": False, "kind": "max_budget_change_pct", "message": "moves too far"}

    p = {
        "approve": _proposal("approve", channel="search", to=110),
        "edit": _proposal("edit", channel="search", to=140),
        "edit2": _proposal("edit2", channel="social", before=200, to=300),
        "reject": _proposal("reject", channel="social", to=0, kind=kinds.PAUSE.name),
        "warn": _proposal(
            "warn",
            channel="search",
            to=120,
            guardrail_verdicts=[{**failing, "name": "Cap search moves", "severity": "warn"}],
        ),
        "block": _proposal(
            "block",
            channel="social",
            to=130,
            guardrail_verdicts=[{**failing, "name": "Brand floor", "severity": "block"}],
        ),
        "rollback": _proposal("rollback", channel="search", to=105),
        "expire": _proposal("expire", channel="social", to=90, expires_at=timezone.now() - dt.timedelta(seconds=1)),
        "auto": _proposal("auto", channel="search", to=104),
        "old": _proposal("old", channel="search", to=101),
    }
    for name, minutes in (("approve", 1), ("edit", 2), ("edit2", 3), ("reject", 4), ("warn", 5), ("block", 6)):
        _created_ago(p[name], minutes)
    _created_ago(p["rollback"], 10)
    for proposal in p.values():
        proposal.refresh_from_db()

    reviewing.proposal_approve(proposal=p["approve"], actor=mia)
    _apply(p["approve"])
    edit_to = {"edit": 120, "edit2": 225}
    for name, to in edit_to.items():
        final = [{**p[name].changes[0], "to": to}]
        reviewing.proposal_edit_and_approve(proposal=p[name], actor=noah, final_changes=final)
    reviewing.proposal_reject(proposal=p["reject"], actor=mia, reason_code="strategy", note="Not before the launch")
    reviewing.proposal_approve(proposal=p["warn"], actor=noah, confirm_warnings=True)
    reviewing.proposal_approve(proposal=p["block"], actor=ada, override_reason="Board approved the launch budget")
    reviewing.proposal_approve(proposal=p["rollback"], actor=mia)
    _apply(p["rollback"])
    p["rollback"].refresh_from_db()
    reviewing.proposal_rollback(proposal=p["rollback"], actor=mia, reason="Spend spiked overnight")
    _apply(p["rollback"], direction=Application.Direction.ROLLBACK)
    reviewing.proposal_expire_due()
    auto_approve(p["auto"])
    reviewing.proposal_supersede(proposal=p["old"], by=p["auto"])

    _outcomes(p)
    week = iso_week()
    _last_week(week)
    return ScriptedWeek(week=week, proposals=p, people={"mia": mia, "noah": noah, "ada": ada})


def _outcomes(p: dict[str, Proposal]) -> None:
    today = timezone.localdate()
    base = {"metric": "pipeline_value", "days": 7, "window_start": today, "window_end": today}
    interval = {"expected_low": 50.0, "expected_mean": 100.0, "expected_high": 200.0}
    Outcome.objects.create(proposal=p["approve"], realised=150.0, verdict="hit", **interval, **base)
    Outcome.objects.create(proposal=p["edit"], realised=80.0, machine_estimate=60.0, **interval, **base)
    Outcome.objects.create(proposal=p["edit2"], realised=10.0, machine_estimate=40.0, **interval, **base)
    Outcome.objects.create(proposal=p["reject"], machine_estimate=-30.0, **interval, **base)


def _last_week(week: str) -> None:
    start, _ = week_bounds(week)
    at = start - dt.timedelta(days=3)
    past_event(action="proposal.approved", proposal=ProposalFactory(status=Proposal.Status.APPROVED), at=at)
    rejected = ProposalFactory(status=Proposal.Status.REJECTED)
    past_event(action="proposal.rejected", proposal=rejected, at=at + dt.timedelta(hours=1))


# --- the tests -----------------------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def scripted() -> ScriptedWeek:
    return script_week()


@pytest.fixture
def report(scripted) -> dict:
    return reports.weekly_report(scripted.week)


def test_it_counts_each_kind_of_decision_of_the_week(report):
    assert report["counts"] == {
        "created": 10,
        "reviewed": 7,
        "approved_as_proposed": 4,
        "edited": 2,
        "rejected": 1,
        "expired_unreviewed": 1,
        "auto_approved": 1,
        "superseded": 1,
        "applied": 2,
        "rolled_back": 1,
        "override_warn": 1,
        "override_block": 1,
        "decisions": 8,
        "overrides": 6,
    }
    assert report["override_rate"] == 0.75


def test_it_breaks_the_override_rate_down_by_kind_channel_and_reviewer(report):
    by = report["override_rate_by"]
    assert by["kind"] == [
        {"key": "budget_change", "decisions": 7, "overrides": 5, "rate": 0.7143, "few": False},
        {"key": "pause", "decisions": 1, "overrides": 1, "rate": 1.0, "few": True},
    ]
    assert by["channel"] == [
        {"key": "search", "decisions": 5, "overrides": 3, "rate": 0.6, "few": False},
        {"key": "social", "decisions": 3, "overrides": 3, "rate": 1.0, "few": True},
    ]
    # People only: the policy's approval is nobody's review; a rollback flags the approval it reverses.
    assert by["reviewer"] == [
        {"key": "mia", "decisions": 3, "overrides": 2, "rate": 0.6667, "few": True},
        {"key": "noah", "decisions": 3, "overrides": 3, "rate": 1.0, "few": True},
        {"key": "ada", "decisions": 1, "overrides": 1, "rate": 1.0, "few": True},
    ]


def test_override_rates_by_reason_add_up_to_the_overall_rate(report):
    by_reason = report["override_rate_by"]["reason"]
    assert by_reason == [
        {"key": "approved over a guardrail", "overrides": 2, "rate": 0.25},
        {"key": "edited", "overrides": 2, "rate": 0.25},
        {"key": "approved, later rolled back", "overrides": 1, "rate": 0.125},
        {"key": "rejected: strategy", "overrides": 1, "rate": 0.125},
    ]
    assert sum(row["overrides"] for row in by_reason) == report["counts"]["overrides"]


def test_it_reports_each_guardrail_that_flagged_or_was_overridden(report):
    assert report["override_rate_by"]["guardrail"] == [
        {
            "key": "Brand floor",
            "decisions": 1,
            "overrides": 1,
            "approved_over_warn": 0,
            "approved_over_block": 1,
            "rate": 1.0,
            "few": True,
        },
        {
            "key": "Cap search moves",
            "decisions": 1,
            "overrides": 1,
            "approved_over_warn": 1,
            "approved_over_block": 0,
            "rate": 1.0,
            "few": True,
        },
    ]


def test_it_lists_guardrail_overrides_with_who_and_why(report, scripted):
    overrides = [
        (o["who"], o["severity"], o["guardrails"], o["why"], o["proposal"]) for o in report["guardrail_overrides"]
    ]
    assert overrides == [
        ("noah", "warn", ["Cap search moves"], "", scripted.proposals["warn"].pk),
        ("ada", "block", ["Brand floor"], "Board approved the launch budget", scripted.proposals["block"].pk),
    ]


def test_the_median_edit_ratio_is_the_reviewers_move_over_the_machines(report):
    # 0.5 and 0.25: the median of two interpolates, as percentile_cont does.
    assert report["edit_ratio_by_kind"] == [{"kind": "budget_change", "edits": 2, "median": 0.375}]


def test_time_to_decision_counts_people_decisions_from_creation(report):
    ttd = report["time_to_decision"]
    # Waits of 1, 2, 3, 4, 5, 6 and 10 minutes (plus the test's own run time).
    assert ttd["decisions"] == 7
    assert 4 * 60 <= ttd["median_seconds"] < 4 * 60 + 30
    assert 7.6 * 60 <= ttd["p90_seconds"] < 7.6 * 60 + 30


def test_outcomes_say_whether_the_machine_or_the_human_was_right(report):
    outcomes = report["outcomes"]
    followed = {key: value for key, value in outcomes["followed"].items() if key != "by_metric"}
    assert followed == {
        "decisions": 5,
        "known": 1,
        "hit": 1,
        "above": 0,
        "below": 0,
        "mean_error": 50.0,
        "metric": "pipeline_value",
        "not_yet_known": 4,
    }
    # edit: 80 vs 60 (+20), reject: 0 vs -30 (+30), edit2: 10 vs 40 (-30).
    overridden = {key: value for key, value in outcomes["overridden"].items() if key != "by_metric"}
    assert overridden == {
        "decisions": 3,
        "known": 3,
        "human_right": 2,
        "machine_right": 1,
        "tie": 0,
        "mean_gap": 6.67,
        "total_gap": 20.0,
        "metric": "pipeline_value",
        "not_yet_known": 0,
    }
    # In the objective's unit, per week: never a bare number.
    [row] = outcomes["overridden"]["by_metric"]
    assert (row["unit"], row["mean_gap_text"], row["total_gap_text"]) == ("USD", "+$6.67/week", "+$20.00/week")


def test_the_trend_covers_this_week_and_the_four_before(report, scripted):
    weeks = [reports.shift_week(scripted.week, n) for n in range(-4, 1)]
    assert [row["week"] for row in report["trend"]] == weeks
    assert report["trend"][-2] == {
        "week": weeks[-2],
        "created": 0,
        "decisions": 2,
        "overrides": 1,
        "override_rate": 0.5,
    }
    assert report["trend"][-1]["decisions"] == 8 and report["trend"][-1]["override_rate"] == 0.75
    assert [row["decisions"] for row in report["trend"][:3]] == [0, 0, 0]


def test_an_empty_week_has_zero_counts_and_no_rates(db):
    report = reports.weekly_report("2020-W10")
    assert report["counts"]["decisions"] == 0
    assert report["override_rate"] is None
    assert report["time_to_decision"] == {
        "decisions": 0,
        "median_seconds": None,
        "p90_seconds": None,
        "median_text": "—",
        "p90_text": "—",
    }
    assert report["edit_ratio_by_kind"] == []


def test_the_report_is_plain_json(report):
    import json

    assert json.loads(reports.to_json(report))["counts"]["overrides"] == 6
    assert "override" in report["definitions"]


def test_the_csv_has_one_figure_per_row(report):
    lines = reports.to_csv(report).splitlines()
    assert lines[0] == "week,section,dimension,key,metric,value"
    assert f"{report['week']},counts,,,overrides,6" in lines
    assert f"{report['week']},override_rate_by,channel,social,rate,1.0" in lines


@pytest.mark.parametrize("week", ["2026-47", "2026-W54", "", "W47"])
def test_it_refuses_what_is_not_an_iso_week(week):
    with pytest.raises(ValueError):
        reports.week_bounds(week)


def test_iso_weeks_cross_years():
    assert reports.shift_week("2026-W01", -1) == "2025-W52"
    assert reports.shift_week("2026-W53", 1) == "2027-W01"
    assert reports.iso_week(dt.date(2021, 1, 3)) == "2020-W53"


def test_percentile_interpolates_like_percentile_cont():
    assert reports.percentile([], 0.5) is None
    assert reports.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert reports.percentile([1, 2, 3, 4, 5, 6, 10], 0.9) == pytest.approx(7.6)


def test_the_command_prints_the_report_as_json_csv_or_html(scripted):
    import io
    import json

    from django.core.management import call_command

    def run(fmt: str) -> str:
        out = io.StringIO()
        call_command("override_report", week=scripted.week, format=fmt, stdout=out)
        return out.getvalue()

    assert json.loads(run("json"))["counts"]["overrides"] == 6
    assert f"{scripted.week},counts,,,decisions,8" in run("csv").splitlines()
    assert "Board approved the launch budget" in run("html")


def test_the_command_refuses_a_bad_week(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Not an ISO week"):
        call_command("override_report", week="47")


@pytest.mark.django_db
def test_the_report_says_where_the_engine_now_proposes_smaller_steps(client):
    from decisions.learning import service as learning
    from tests.decisions.learning.test_learning import _scripted_decisions
    from tests.factories import viewer

    _scripted_decisions(marketer(), n=40)  # display raises are consistently halved
    model = learning.acceptance_retrain()
    week = reports.iso_week(timezone.now())
    report = reports.weekly_report(week)
    assert report["learning"]["model"]["decisions"] == model.n_decisions
    (cell,) = report["learning"]["step_calibration"]
    assert (cell["kind"], cell["channel"]) == ("budget_change", "display") and cell["factor"] < 0.9
    client.force_login(viewer())
    page = client.get(reverse("decisions:reports"), {"week": week})
    assert b"its step: reviewers consistently shrink these" in page.content


@pytest.mark.django_db
def test_without_a_model_the_report_says_the_engine_proposes_its_full_step():
    assert reports.weekly_report(reports.iso_week(timezone.now()))["learning"] == {
        "model": None,
        "step_calibration": [],
    }


@pytest.mark.django_db
def test_the_report_lists_guardrails_silent_for_90_days_as_candidates_to_retire():
    from objectives.models import Guardrail

    old_and_silent = GuardrailFactory(name="Never fires")
    Guardrail.objects.filter(pk=old_and_silent.pk).update(created_at=timezone.now() - dt.timedelta(days=120))
    GuardrailFactory(name="Too new to judge")
    report = reports.weekly_report(reports.iso_week(timezone.now()))
    assert [g["name"] for g in report["stale_guardrails"]] == ["Never fires"]


@pytest.mark.django_db
def test_a_change_applied_on_two_platforms_counts_as_one_applied_proposal():
    proposal = ProposalFactory(status=Proposal.Status.APPLIED)
    for platform in ("google_ads", "meta"):
        audit.record(
            action="application.succeeded",
            proposal=proposal,
            machine_payload={"direction": "apply", "platform": platform, "changes": proposal.changes},
        )
    assert reports.weekly_report(iso_week(timezone.localdate()))["counts"]["applied"] == 1
