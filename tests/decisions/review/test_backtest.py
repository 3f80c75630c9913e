import datetime as dt

import pytest
from django.utils import timezone

from decisions import audit
from decisions.models import AuditEvent, Proposal
from decisions.review.backtest import backtest, guardrail_activity
from objectives.guardrails import Rule
from objectives.models import GuardrailVersion
from objectives.services import guardrail_create
from tests.factories import CampaignFactory, ProposalFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _proposal(*, to: float, days_ago: float = 1, campaign=None, verdicts=None, status=Proposal.Status.PENDING):
    campaign = campaign or CampaignFactory()
    proposal = ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
        guardrail_verdicts=verdicts or [],
        status=status,
    )
    Proposal.objects.filter(pk=proposal.pk).update(created_at=NOW - dt.timedelta(days=days_ago))
    return proposal


@pytest.fixture
def max_move():
    return guardrail_create(name="Max move", kind="max_budget_change_pct", params={"pct": 30}, reason="start")


def test_it_counts_what_a_tighter_limit_would_have_blocked(max_move):
    small = [_proposal(to=120) for _ in range(3)]
    large = [_proposal(to=150) for _ in range(2)]
    _proposal(to=150, days_ago=31)  # outside the window
    result = backtest(
        candidate=Rule("Max move", "max_budget_change_pct", params={"pct": 10}), replaces="Max move", now=NOW
    )
    assert (result.total, result.blocked, result.warned) == (5, 5, 0)
    assert (result.blocked_now, result.warned_now) == (2, 0)
    assert result.summary == "This version would have blocked 5 and warned on 0 of the last 30 days' 5 proposals"
    assert [row.proposal_id for row in result.rows[:3]] == sorted((p.pk for p in small), reverse=True)
    assert all(row.changed for row in result.rows[:3]) and not any(row.changed for row in result.rows[3:])
    assert {row.proposal_id for row in result.rows} == {p.pk for p in small + large}
    assert result.rows[0].verdict.message == "Budget moves 20% (limit 10%)"


def test_a_warn_version_warns_instead_of_blocking(max_move):
    _proposal(to=120)
    _proposal(to=150)
    candidate = Rule("Max move", "max_budget_change_pct", severity="warn", params={"pct": 25})
    result = backtest(candidate=candidate, replaces="Max move", now=NOW)
    assert (result.blocked, result.warned, result.blocked_now) == (0, 1, 1)


def test_a_looser_limit_lists_the_proposals_it_lets_through(max_move):
    let_through = _proposal(to=150)
    _proposal(to=110)
    result = backtest(
        candidate=Rule("Max move", "max_budget_change_pct", params={"pct": 60}), replaces="Max move", now=NOW
    )
    assert (result.blocked, result.blocked_now) == (0, 1)
    assert [(row.proposal_id, row.before, row.after) for row in result.rows] == [(let_through.pk, "block", "pass")]


def test_a_new_guardrail_is_checked_beside_the_existing_ones(max_move):
    _proposal(to=150)
    _proposal(to=125)
    candidate = Rule("Cap per campaign", "budget_bounds", severity="warn", params={"min": 0, "max": 120})
    result = backtest(candidate=candidate, now=NOW)
    # The 150 proposal is blocked by "Max move" already; the 125 one only warns under the new rule.
    assert (result.blocked, result.warned, result.blocked_now, result.warned_now) == (1, 1, 1, 0)


def test_a_deactivation_shows_what_it_would_let_through(max_move):
    _proposal(to=150)
    candidate = Rule("Max move", "max_budget_change_pct", params={"pct": 30})
    result = backtest(candidate=candidate, replaces="Max move", active=False, now=NOW)
    assert (result.blocked, result.blocked_now) == (0, 1)


def test_it_replays_from_the_budget_the_proposal_saw(max_move):
    campaign = CampaignFactory(daily_budget=140)  # the budget has moved since the proposal was made
    _proposal(to=150, campaign=campaign)
    result = backtest(
        candidate=Rule("Max move", "max_budget_change_pct", params={"pct": 40}), replaces="Max move", now=NOW
    )
    assert result.blocked == 1  # 100 → 150 is 50%, although 140 → 150 would be 7%


def test_a_backtest_writes_nothing(max_move):
    _proposal(to=150)
    events, versions = AuditEvent.objects.count(), GuardrailVersion.objects.count()
    backtest(candidate=Rule("Max move", "max_budget_change_pct", params={"pct": 5}), replaces="Max move", now=NOW)
    assert (AuditEvent.objects.count(), GuardrailVersion.objects.count()) == (events, versions)
    max_move.refresh_from_db()
    assert max_move.params == {"pct": 30} and max_move.version == 1


def _failing(name, severity="block"):
    return {"name": name, "kind": "max_budget_change_pct", "severity": severity, "passed": False, "message": "x"}


def _passing(name):
    return {**_failing(name), "passed": True}


def test_activity_counts_failing_stored_verdicts_per_guardrail_and_severity():
    _proposal(to=150, verdicts=[_failing("Max move"), _passing("Bounds")])
    _proposal(to=150, verdicts=[_failing("Max move"), _failing("Bounds", "warn")], days_ago=3)
    _proposal(to=150, verdicts=[_failing("Max move")], days_ago=45)  # older than 30 days: no count, but triggered
    activity = guardrail_activity(now=NOW)
    assert (activity["Max move"].blocks, activity["Max move"].warnings) == (2, 0)
    assert (activity["Bounds"].blocks, activity["Bounds"].warnings) == (0, 1)
    assert abs(activity["Max move"].last_triggered - (NOW - dt.timedelta(days=1))) < dt.timedelta(seconds=1)
    assert abs(activity["Bounds"].last_triggered - (NOW - dt.timedelta(days=3))) < dt.timedelta(seconds=1)


def test_activity_knows_a_guardrail_that_last_failed_more_than_30_days_ago():
    _proposal(to=150, verdicts=[_failing("Old rule")], days_ago=45)
    _proposal(to=150, verdicts=[_failing("Ancient rule")], days_ago=120)
    activity = guardrail_activity(now=NOW)
    assert activity["Old rule"].blocks == 0 and activity["Old rule"].last_triggered is not None
    assert "Ancient rule" not in activity  # beyond the 90-day look-back: a candidate to retire


def test_activity_counts_overrides_and_one_proposal_once():
    overridden = _proposal(to=150, verdicts=[_failing("Max move")])
    late = _proposal(to=150, verdicts=[], days_ago=50)  # created clean, overridden now under a newer rule
    for proposal in (overridden, late):
        audit.record(
            action="proposal.override_block",
            proposal=proposal,
            machine_payload={"changes": proposal.changes, "verdicts": [_failing("Max move")]},
        )
    audit.record(
        action="proposal.override_warn", proposal=late, machine_payload={"verdicts": [_failing("Tone", "warn")]}
    )
    activity = guardrail_activity(now=NOW)
    assert activity["Max move"].blocks == 2
    assert activity["Tone"].warnings == 1


def test_activity_ignores_passing_verdicts_and_other_events():
    _proposal(to=110, verdicts=[_passing("Max move")])
    audit.record(action="proposal.approved", machine_payload={"verdicts": [_failing("Max move")]})
    assert guardrail_activity(now=NOW) == {}


# --- what the summary counts: the version's own verdicts, the whole policy beside them -----------------


def test_the_summary_counts_only_this_versions_own_verdicts(max_move):
    """A block-level rule that fails nothing must not read "warned on 1" because another guardrail warns."""
    guardrail_create(name="Cap", kind="budget_bounds", severity="warn", params={"min": 0, "max": 120}, reason="start")
    _proposal(to=125)  # 25%: within Max move's 30%, over Cap's 120
    result = backtest(
        candidate=Rule("Max move", "max_budget_change_pct", params={"pct": 30}), replaces="Max move", now=NOW
    )
    assert (result.own_blocked, result.own_warned) == (0, 0)
    assert result.summary == "This version would have blocked 0 and warned on 0 of the last 30 days' 1 proposals"
    assert (result.blocked, result.warned) == (0, 1)  # every guardrail together, shown beside it


def test_a_deactivations_summary_says_what_the_others_would_do(max_move):
    _proposal(to=150)
    candidate = Rule("Max move", "max_budget_change_pct", params={"pct": 30})
    result = backtest(candidate=candidate, replaces="Max move", active=False, now=NOW)
    assert result.summary == (
        "Switched off, it judges nothing: the other guardrails would have blocked 0 and warned on 0 "
        "of the last 30 days' 1 proposals"
    )


def test_the_listed_proposals_name_their_campaigns_and_budgets(max_move):
    campaign = CampaignFactory(name="Search – Brand", external_id="SIM-0020")
    _proposal(to=150, campaign=campaign)
    result = backtest(
        candidate=Rule("Max move", "max_budget_change_pct", params={"pct": 10}), replaces="Max move", now=NOW
    )
    assert result.rows[0].change_texts == ("Search – Brand daily budget: $100 → $150",)
