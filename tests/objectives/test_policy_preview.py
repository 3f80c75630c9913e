"""The policy import says what it changes: before → after of every changed field, guardrails by name (errors too),
the objective's diff, and a backtest of the whole imported policy."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from decisions.models import Proposal
from decisions.review.backtest import backtest_policy
from objectives import services
from objectives.guardrails import Rule
from objectives.models import Guardrail
from objectives.policy import PolicyError, ordinal, parse_policy, plan_import, rules_of, validate_policy
from tests.factories import CampaignFactory, ProposalFactory, guardrail_admin

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def cap(name="Display cap", pct=30, **overrides) -> dict:
    rule = {"name": name, "kind": "max_budget_change_pct", "scope": {}, "severity": "block", "params": {"pct": pct}}
    rule.update(overrides)
    return rule


def document(*guardrails, objective=None) -> dict:
    return {"objective": objective or {"metric": "pipeline_value"}, "guardrails": list(guardrails)}


@pytest.fixture
def today():
    """Today's policy: pipeline over 7 days, a 30% block cap on all campaigns and a cooldown."""
    services.objective_set(metric="pipeline_value", reason="start")
    services.guardrail_create(**cap(), reason="start")
    services.guardrail_create(name="Cool", kind="cooldown", params={"days": 7}, reason="start")


# --- before → after, by name -----------------------------------------------------------------------


def test_the_plan_gives_before_and_after_of_every_changed_field(today):
    changed = cap(pct=25, severity="warn", scope={"channel": "display"})
    plan = plan_import(validate_policy(document(changed, {"name": "Cool", "kind": "cooldown", "params": {"days": 7}})))
    assert plan.updated == ["Display cap"] and plan.unchanged == ["Cool"]
    assert plan.details["Display cap"] == [
        "severity: block → warn",
        "scope: all campaigns → channel display",
        "pct: 30 → 25",
    ]


def test_the_plan_says_what_a_new_or_switched_off_guardrail_is(today):
    new = {"name": "Brand floor", "kind": "budget_bounds", "scope": {"tag": "brand"}, "params": {"min": 50, "max": 500}}
    plan = plan_import(validate_policy(document(cap(), new)))
    assert plan.details["Brand floor"] == ["Budget bounds, block, tag brand: min: 50 · max: 500"]
    assert plan.deactivated == ["Cool"] and plan.details["Cool"] == ["was Cooldown, block, all campaigns: days: 7"]
    assert [(action, name) for action, name, _ in plan.changed_guardrails()] == [
        ("Created", "Brand floor"),
        ("Switched off", "Cool"),
    ]


def test_switching_an_inactive_guardrail_back_on_says_so(today):
    cool = services.guardrail_deactivate(guardrail=Guardrail.objects.get(name="Cool"), reason="pause")
    plan = plan_import(validate_policy(document(cap(), {"name": cool.name, "kind": "cooldown", "params": {"days": 7}})))
    assert plan.details["Cool"] == ["switched on"]


def test_the_plan_gives_the_objectives_before_and_after(today):
    objective = {"metric": "closed_revenue", "weights": {"pipeline_value": 0.3}, "horizon_days": 14}
    plan = plan_import(validate_policy(document(cap(), objective=objective)))
    assert plan.objective_changes == [
        "Pipeline value → Closed revenue",
        "weights none → 0.3 × Pipeline value",
        "horizon 7 → 14 days",
    ]


def test_clearing_the_objective_says_what_it_was(today):
    plan = plan_import(validate_policy({"objective": None, "guardrails": [cap()]}))
    assert plan.objective_changes == ["cleared (was Pipeline value, 7-day horizon)"]


def test_an_unchanged_objective_has_no_lines(today):
    assert plan_import(validate_policy(document(cap()))).objective_changes == []


# --- errors by name -------------------------------------------------------------------------------------


def named_errors_of(data) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        validate_policy(data)
    return caught.value.named


def test_errors_name_the_guardrail_and_keep_the_path():
    data = document(cap("a"), cap("b"), cap("c"), cap("Display cap", pct=250))
    assert named_errors_of(data) == [
        "Guardrail “Display cap” (4th in the file) — guardrails[3].params.pct: must be a number between 0 and 100"
    ]


def test_a_duplicate_name_is_named():
    assert named_errors_of(document(cap("Same"), cap("Same", pct=10))) == [
        'Guardrail “Same” (2nd in the file) — guardrails[1].name: duplicate name "Same" (also guardrails[0])'
    ]


def test_a_guardrail_without_a_name_is_counted_instead():
    assert named_errors_of(document({"kind": "cooldown", "params": {"days": 3}})) == [
        "The 1st guardrail in the file (no name) — guardrails[0].name: required"
    ]


def test_problems_outside_the_guardrails_read_as_before():
    assert named_errors_of({"objective": {"metric": "roas"}, "guardrails": "x"})[0].startswith("objective.metric:")


def test_malformed_json_has_no_names_to_give():
    with pytest.raises(PolicyError) as caught:
        parse_policy("{")
    assert caught.value.named == caught.value.errors


@pytest.mark.parametrize(
    ("number", "said"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (13, "13th"), (22, "22nd"), (101, "101st")],
)
def test_ordinals(number, said):
    assert ordinal(number) == said


# --- the command line says the same ------------------------------------------------------------------------


def test_a_dry_run_prints_the_diffs(today, tmp_path):
    path = tmp_path / "policy.json"
    objective = {"metric": "pipeline_value", "horizon_days": 14}
    path.write_text(json.dumps(document(cap(pct=25), objective=objective)))
    out = io.StringIO()
    call_command("policy", "import", str(path), "--dry-run", stdout=out)
    said = out.getvalue()
    assert "  objective   horizon 7 → 14 days" in said
    assert "  updated     Display cap\n                pct: 30 → 25" in said
    assert "  deactivated Cool\n                was Cooldown, block, all campaigns: days: 7" in said


def test_the_command_names_a_bad_guardrail(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document(cap(pct=250))))
    with pytest.raises(Exception) as caught:
        call_command("policy", "import", str(path))
    assert "Guardrail “Display cap” (1st in the file) — guardrails[0].params.pct: must be" in str(caught.value)


# --- the backtest of the whole imported policy ------------------------------------------------------------------


def _proposal(*, to: float, days_ago: float = 1, channel="search"):
    campaign = CampaignFactory(channel=channel)
    proposal = ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
    )
    Proposal.objects.filter(pk=proposal.pk).update(created_at=NOW - dt.timedelta(days=days_ago))
    return proposal


def test_the_policy_backtest_replays_the_imported_rules_in_place_of_todays(today):
    small, middle, large = _proposal(to=110), _proposal(to=128), _proposal(to=150)
    _proposal(to=190, days_ago=40)  # outside the 30 days
    imported = [
        Rule("Display cap", "max_budget_change_pct", params={"pct": 20}),
        Rule("Warn big", "max_budget_change_pct", severity="warn", params={"pct": 40}),
    ]
    result = backtest_policy(rules=imported, now=NOW)
    assert (result.total, result.blocked, result.warned) == (3, 2, 0)
    assert (result.blocked_now, result.warned_now) == (1, 0)
    assert result.summary == "The imported policy would have blocked 2 and warned on 0 of the last 30 days' 3 proposals"
    assert result.changed == 1
    assert [(row.proposal_id, row.before, row.after) for row in result.rows] == [
        (middle.pk, "pass", "block"),
        (large.pk, "block", "block"),
    ]
    assert [(t.name, t.severity, t.proposals) for t in result.triggered] == [
        ("Display cap", "block", 2),
        ("Warn big", "warn", 1),
    ]
    assert small.pk not in {row.proposal_id for row in result.rows}


def test_a_policy_without_guardrails_lets_everything_through(today):
    blocked = _proposal(to=150)
    result = backtest_policy(rules=[], now=NOW)
    assert (result.blocked, result.blocked_now, result.changed) == (0, 1, 1)
    assert [(row.proposal_id, row.after, row.failing) for row in result.rows] == [(blocked.pk, "pass", [])]


def test_the_policy_backtest_writes_nothing(today):
    _proposal(to=150)
    before = (Proposal.objects.values_list("status", flat=True).get(), Guardrail.objects.count())
    backtest_policy(rules=rules_of(validate_policy(document(cap(pct=10)))), now=NOW)
    assert (Proposal.objects.values_list("status", flat=True).get(), Guardrail.objects.count()) == before


# --- the import page ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(guardrail_admin(username="ada"))
    return client


def test_the_preview_shows_diffs_and_the_backtest(admin_client, today):
    _proposal(to=128)
    data = document(cap(pct=25), objective={"metric": "pipeline_value", "horizon_days": 14})
    response = admin_client.post(reverse("objectives:policy-import"), {"policy_text": json.dumps(data), "reason": "r"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Guardrail “Display cap”" in content and "<li>pct: 30 → 25</li>" in content
    assert "<li>horizon 7 → 14 days</li>" in content
    assert "<li>was Cooldown, block, all campaigns: days: 7</li>" in content
    assert "The imported policy would have blocked 1 and warned on 0 of the last 30 days&#x27; 1 proposals" in content
    assert response.context["backtest"].changed == 1


def test_the_preview_names_a_bad_guardrail(admin_client):
    data = document(cap("a"), cap("Display cap", pct=250))
    response = admin_client.post(reverse("objectives:policy-import"), {"policy_text": json.dumps(data), "reason": "r"})
    assert response.status_code == 422
    assert "Guardrail “Display cap” (2nd in the file) — guardrails[1].params.pct: must be" in response.content.decode()
