"""The pure guardrail checks: no database, dataclasses in, verdicts out."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objectives.formatting import exact_money
from objectives.guardrails import (
    KINDS,
    CampaignFacts,
    Change,
    Rule,
    Verdict,
    applies_to,
    budget_limits,
    check,
    fields,
    may_propose,
    total_caps,
    validate_params,
    validate_scope,
    validate_severity,
)

TODAY = dt.date(2026, 3, 15)


def facts(external_id="C1", **overrides) -> CampaignFacts:
    values = {
        "external_id": external_id,
        "channel": "search",
        "tags": (),
        "audience": "prospects",
        "daily_budget": 100.0,
        "status": "active",
        "evidence_days": 30,
        "evidence_conversions": 50,
    }
    values.update(overrides)
    return CampaignFacts(**values)


def rule(kind, params, *, name="rule", scope=None, severity="block") -> Rule:
    return Rule(name=name, kind=kind, scope=scope or {}, severity=severity, params=params)


def budget(campaign="C1", before=100.0, after=120.0) -> Change:
    return Change(campaign=campaign, field="daily_budget", before=before, after=after)


def pause(campaign="C1") -> Change:
    return Change(campaign=campaign, field="status", before="active", after="paused")


def resume(campaign="C1") -> Change:
    return Change(campaign=campaign, field="status", before="paused", after="active")


def only(verdicts: list[Verdict]) -> Verdict:
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


def run(changes, rules, *campaigns, copy_text="") -> list[Verdict]:
    by_id = {c.external_id: c for c in (campaigns or (facts(),))}
    return check(changes, rules=rules, campaigns=by_id, today=TODAY, copy_text=copy_text)


def test_the_checks_load_without_django():
    # The engine and the review page must get identical answers from plain data.
    code = "import sys, objectives.guardrails; sys.exit('django' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


# --- scope -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({}, True),
        ({"channel": "search"}, True),
        ({"channel": "display"}, False),
        ({"tag": "brand"}, True),
        ({"tag": "promo"}, False),
        ({"campaign": "C1"}, True),
        ({"campaign": "C2"}, False),
    ],
)
def test_a_rule_applies_to_the_campaigns_its_scope_names(scope, expected):
    campaign = facts(tags=("brand",))
    assert applies_to(rule("cooldown", {"days": 7}, scope=scope), campaign) is expected


def test_a_protection_rule_applies_only_to_campaigns_carrying_its_tag():
    protect = rule("protected_campaigns", {"tag": "brand"})
    assert applies_to(protect, facts(tags=("brand",)))
    assert not applies_to(protect, facts(tags=("promo",)))


def test_a_forbidden_audience_rule_applies_only_to_that_audience():
    forbid = rule("forbidden_audiences", {"segments": ["minors"]})
    assert applies_to(forbid, facts(audience="minors"))
    assert not applies_to(forbid, facts(audience="prospects"))


def test_it_gives_no_verdict_for_a_rule_outside_every_changed_campaign():
    verdicts = run([budget()], [rule("max_budget_change_pct", {"pct": 20}, scope={"channel": "display"})])
    assert verdicts == []


def test_a_rule_judges_a_campaign_only_when_a_field_it_judges_changes():
    # A pause moves no budget: "Budget moves 0%" would be a verdict on nothing.
    rules = [
        rule("max_budget_change_pct", {"pct": 20}, name="pct"),
        rule("budget_bounds", {"min": 50, "max": 200}, name="bounds"),
        rule("total_budget_cap", {"amount": 1000}, name="cap"),
        rule("cooldown", {"days": 7}, name="cooldown"),
    ]
    assert [v.name for v in run([pause()], rules)] == ["cap", "cooldown"]
    assert [v.name for v in run([audience(after="teachers")], rules)] == ["cooldown"]


def test_it_refuses_loudly_a_change_to_a_field_no_proposal_may_change():
    with pytest.raises(fields.UnknownField, match="bid_strategy"):
        run(
            [Change(campaign="C1", field="bid_strategy", before="manual", after="auto")],
            [rule("cooldown", {"days": 7})],
        )
    with pytest.raises(fields.UnknownField):
        run([Change(campaign="C1", field="bid_strategy", before=None, after="auto")], [])


def test_it_skips_a_change_to_a_campaign_it_was_not_given():
    assert run([budget("GONE")], [rule("max_budget_change_pct", {"pct": 1})]) == []


def test_it_gives_one_verdict_per_applying_rule_in_rule_order():
    rules = [
        rule("cooldown", {"days": 7}, name="b"),
        rule("max_budget_change_pct", {"pct": 20}, name="a"),
    ]
    verdicts = run([budget("C1"), budget("C2")], rules, facts("C1"), facts("C2"))
    assert [v.name for v in verdicts] == ["b", "a"]


# --- max_budget_change_pct -------------------------------------------------------


def test_it_blocks_a_budget_move_above_the_limit_and_says_by_how_much():
    verdict = only(run([budget(after=135.0)], [rule("max_budget_change_pct", {"pct": 20})]))
    assert not verdict.passed
    assert verdict.message == "Budget moves 35% (limit 20%)"
    assert verdict.severity == "block"


def test_it_passes_a_move_of_exactly_the_limit():
    verdict = only(run([budget(after=120.0)], [rule("max_budget_change_pct", {"pct": 20})]))
    assert verdict.passed
    assert verdict.message == "Budget moves 20% (limit 20%)"


def test_it_counts_cuts_as_moves_too():
    verdict = only(run([budget(after=70.0)], [rule("max_budget_change_pct", {"pct": 20})]))
    assert not verdict.passed
    assert "30%" in verdict.message


def test_it_names_the_campaign_when_a_verdict_covers_several():
    verdicts = run(
        [budget("C1", 100, 110), budget("C2", 100, 150)],
        [rule("max_budget_change_pct", {"pct": 20})],
        facts("C1"),
        facts("C2"),
    )
    assert only(verdicts).message == "C2: budget moves 50% (limit 20%)"


def test_it_refuses_raising_a_zero_budget_under_a_change_limit():
    verdict = only(run([budget(before=0, after=50)], [rule("max_budget_change_pct", {"pct": 20})]))
    assert not verdict.passed
    assert "from 0 to $50.00" in verdict.message


# --- budget_bounds -----------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "passed", "text"),
    [(40.0, False, "below the minimum $50.00"), (250.0, False, "above the maximum $200"), (200.0, True, "$50.00–$200")],
)
def test_it_keeps_the_budget_within_its_bounds(after, passed, text):
    verdict = only(run([budget(after=after)], [rule("budget_bounds", {"min": 50, "max": 200})]))
    assert verdict.passed is passed
    assert text in verdict.message


# --- total_budget_cap --------------------------------------------------------


def test_it_adds_up_every_campaign_in_scope_against_the_cap_and_names_the_scope():
    campaigns = (facts("C1"), facts("C2"), facts("C3", channel="display"))
    cap = rule("total_budget_cap", {"amount": 250}, scope={"channel": "search"})
    over = only(run([budget("C1", 100, 160)], [cap], *campaigns))
    assert not over.passed
    assert over.message == f"Total daily budget of channel search {exact_money(260)} is over the cap {exact_money(250)}"
    within = only(run([budget("C1", 100, 150)], [cap], *campaigns))
    assert within.passed
    assert within.message == f"Total daily budget of channel search {exact_money(250)} (cap {exact_money(250)})"


def test_an_unscoped_cap_keeps_its_words():
    cap = rule("total_budget_cap", {"amount": 250})
    over = only(run([budget("C1", 100, 160)], [cap], facts("C1"), facts("C2")))
    assert over.message == f"Total daily budget {exact_money(260)} is over the cap {exact_money(250)}"


def test_a_scoped_cap_sums_its_scope_only():
    # Display's 900 is outside the social cap: a social raise within the cap passes.
    campaigns = (
        facts("S1", channel="social"),
        facts("S2", channel="social"),
        facts("D1", channel="display", daily_budget=900.0),
    )
    cap = rule("total_budget_cap", {"amount": 250}, scope={"channel": "social"})
    verdict = only(run([budget("S1", 100, 140)], [cap], *campaigns))
    assert verdict.passed
    assert verdict.message == f"Total daily budget of channel social {exact_money(240)} (cap {exact_money(250)})"


def test_a_cut_inside_a_scope_already_over_its_cap_passes():
    # The demo's case: social already totals 1,874.85 against a 1,500 cap; a proposal cutting social is welcome.
    social = (
        facts("S1", channel="social", daily_budget=1000.0),
        facts("S2", channel="social", daily_budget=874.85),
        facts("D1", channel="display"),
    )
    cap = rule("total_budget_cap", {"amount": 1500}, scope={"channel": "social"}, severity="warn")
    cut = [budget("S1", 1000, 900), budget("D1", 100, 200)]
    verdict = only(run(cut, [cap], *social))
    assert verdict.passed
    assert verdict.message == (
        f"Total daily budget of channel social {exact_money(1774.85)} is over the cap {exact_money(1500)}, "
        f"but this change lowers it from {exact_money(1874.85)}"
    )


def test_a_shift_that_keeps_an_over_cap_scope_total_passes_and_a_raise_fails():
    social = (facts("S1", channel="social", daily_budget=1000.0), facts("S2", channel="social", daily_budget=874.85))
    cap = rule("total_budget_cap", {"amount": 1500}, scope={"channel": "social"})
    kept = only(run([budget("S1", 1000, 900), budget("S2", 874.85, 974.85)], [cap], *social))
    assert kept.passed
    assert kept.message.endswith("but this change does not raise it")
    raised = only(run([budget("S2", 874.85, 900)], [cap], *social))
    assert not raised.passed
    assert (
        raised.message
        == f"Total daily budget of channel social {exact_money(1900)} is over the cap {exact_money(1500)}"
    )


def test_a_raise_that_stays_under_the_cap_passes_even_from_below():
    cap = rule("total_budget_cap", {"amount": 300}, scope={"tag": "brand"})
    brand = (facts("B1", tags=("brand",)), facts("B2", tags=("brand",)))
    verdict = only(run([budget("B1", 100, 200)], [cap], *brand))
    assert verdict.passed
    assert verdict.message == f"Total daily budget of tag brand {exact_money(300)} (cap {exact_money(300)})"


def test_the_engines_cap_members_are_the_scope_the_check_adds_up():
    campaigns = {
        "S1": facts("S1", channel="social"),
        "S2": facts("S2", channel="social", status="paused"),
        "D1": facts("D1", channel="display"),
    }
    cap = rule("total_budget_cap", {"amount": 150}, scope={"channel": "social"})
    assert total_caps(campaigns, [cap]) == [(["S1"], 150.0)]


def test_a_paused_campaign_does_not_count_against_the_cap_until_resumed():
    campaigns = (facts("C1"), facts("C2", status="paused"))
    cap = rule("total_budget_cap", {"amount": 150})
    assert only(run([budget("C1", 100, 150)], [cap], *campaigns)).passed
    assert not only(run([resume("C2")], [cap], *campaigns)).passed


# --- protected_campaigns ---------------------------------------------------------


def test_it_refuses_pausing_a_protected_campaign():
    verdict = only(run([pause()], [rule("protected_campaigns", {"tag": "brand"})], facts(tags=("brand",))))
    assert not verdict.passed
    assert verdict.message == "Pauses a protected campaign (tag “brand”)"


def test_it_refuses_cutting_a_protected_campaign_but_allows_raising_it():
    protect = [rule("protected_campaigns", {"tag": "brand"})]
    brand = facts(tags=("brand",))
    cut = only(run([budget(after=80)], protect, brand))
    assert not cut.passed
    assert cut.message == "Cuts a protected campaign (tag “brand”) from $100 to $80.00"
    assert only(run([budget(after=130)], protect, brand)).passed


# --- forbidden_audiences ---------------------------------------------------------


def test_it_refuses_more_money_or_a_resume_on_a_forbidden_audience():
    forbid = [rule("forbidden_audiences", {"segments": ["minors"]})]
    minors = facts(audience="minors", status="paused")
    raised = only(run([budget(after=110)], forbid, minors))
    assert not raised.passed
    assert "rises from $100 to $110" in raised.message
    assert not only(run([resume()], forbid, minors)).passed
    assert only(run([budget(after=60)], forbid, minors)).passed


def audience(campaign="C1", before="prospects", after="minors") -> Change:
    return Change(campaign=campaign, field="audience", before=before, after=after)


def test_it_refuses_moving_a_campaign_into_a_forbidden_audience():
    forbid = [rule("forbidden_audiences", {"segments": ["minors"]})]
    verdict = only(run([audience()], forbid, facts(audience="prospects")))
    assert not verdict.passed
    assert verdict.message == "Audience changes to the forbidden audience “minors”"


def test_it_lets_a_campaign_leave_a_forbidden_audience():
    forbid = [rule("forbidden_audiences", {"segments": ["minors"]})]
    verdict = only(
        run([audience(before="minors", after="prospects"), budget(after=150)], forbid, facts(audience="minors"))
    )
    assert verdict.passed
    assert verdict.message == "No increase on a forbidden audience"


def test_it_names_the_campaign_moved_into_a_forbidden_audience_among_several():
    forbid = [rule("forbidden_audiences", {"segments": ["minors"]})]
    changes = [audience("C1", after="minors"), budget("C2", 100, 90)]
    verdict = only(run(changes, forbid, facts("C1"), facts("C2", audience="minors")))
    assert verdict.message == "C1: audience changes to the forbidden audience “minors”"


# --- brand_voice -----------------------------------------------------------------


def test_brand_voice_checks_phrases_without_regard_to_case():
    voice = [rule("brand_voice", {"banned_phrases": ["cheap"], "required_phrases": ["Acme"]})]
    bad = only(run([budget()], voice, copy_text="CHEAP shoes today"))
    assert not bad.passed
    assert bad.message == "Copy uses banned phrase “cheap”; copy lacks required phrase “Acme”"
    assert only(run([budget()], voice, copy_text="Shoes by acme")).passed


def test_brand_voice_gives_no_verdict_on_changes_without_copy():
    # It used to pass them with "No copy text to check": a verdict on nothing it judges.
    voice = [rule("brand_voice", {"banned_phrases": ["cheap"]})]
    assert run([budget()], voice, copy_text="") == []
    assert run([pause()], voice, copy_text="  ") == []


@pytest.fixture
def headline():
    """A copy-carrying field, as a proposal kind that writes ad copy would register it."""
    field = fields.register(fields.TextField("headline", "headline", carries_copy=True))
    yield field
    fields.unregister(field.name)


def test_brand_voice_judges_the_new_text_of_a_copy_field(headline):
    voice = [rule("brand_voice", {"banned_phrases": ["cheap"], "required_phrases": ["Acme"]})]
    change = Change(campaign="C1", field="headline", before="Acme shoes", after="Cheap shoes")
    verdict = only(run([change], voice))
    assert not verdict.passed
    assert verdict.message == "Copy uses banned phrase “cheap”; copy lacks required phrase “Acme”"
    fixed = Change(campaign="C1", field="headline", before="Cheap shoes", after="Shoes by ACME")
    assert only(run([fixed], voice)).message == "Copy follows the brand voice"


def test_only_the_timing_kinds_and_brand_voice_judge_a_copy_change(headline):
    rules = [
        rule(kind, params, name=kind)
        for kind, params in [
            ("max_budget_change_pct", {"pct": 20}),
            ("total_budget_cap", {"amount": 1}),
            ("forbidden_audiences", {"segments": ["prospects"]}),
            ("brand_voice", {"banned_phrases": ["cheap"]}),
            ("cooldown", {"days": 7}),
        ]
    ]
    verdicts = run([Change(campaign="C1", field="headline", before="a", after="b")], rules)
    assert [v.kind for v in verdicts] == ["brand_voice", "cooldown"]


# --- cooldown and min_evidence ------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "passed"), [(0, False), (6, False), (7, True), (30, True)])
def test_cooldown_counts_days_since_the_last_applied_change(days_ago, passed):
    campaign = facts(last_applied_change=TODAY - dt.timedelta(days=days_ago))
    verdict = only(run([budget()], [rule("cooldown", {"days": 7})], campaign))
    assert verdict.passed is passed


def test_cooldown_says_when_the_last_change_was():
    campaign = facts(last_applied_change=TODAY - dt.timedelta(days=3))
    verdict = only(run([budget()], [rule("cooldown", {"days": 7})], campaign))
    assert verdict.message == "Last change applied 3 days ago (cooldown 7 days)"


def test_min_evidence_names_what_is_missing():
    thin = facts(evidence_days=5, evidence_conversions=2)
    verdict = only(run([budget()], [rule("min_evidence", {"days": 14, "conversions": 10})], thin))
    assert not verdict.passed
    assert verdict.message == "Only 5 days of data (needs 14) and only 2 conversions (needs 10)"


def test_verdicts_serialise_for_storage():
    verdict = only(run([budget(after=135)], [rule("max_budget_change_pct", {"pct": 20}, severity="warn")]))
    assert verdict.to_dict() == {
        "name": "rule",
        "kind": "max_budget_change_pct",
        "severity": "warn",
        "passed": False,
        "message": "Budget moves 35% (limit 20%)",
    }


# --- constraints for the engine ----------------------------------------------------


def test_budget_limits_combine_every_block_rule_that_applies():
    campaign = facts(tags=("brand",), daily_budget=100.0)
    rules = [
        rule("max_budget_change_pct", {"pct": 20}),
        rule("budget_bounds", {"min": 90, "max": 110}),
        rule("protected_campaigns", {"tag": "brand"}),
        rule("max_budget_change_pct", {"pct": 1}, severity="warn"),
    ]
    assert budget_limits(campaign, rules) == (100.0, 110.0, False)


def test_budget_limits_are_open_without_rules():
    low, high, may_pause = budget_limits(facts(), [])
    assert (low, high, may_pause) == (0.0, float("inf"), True)


def test_budget_limits_collapse_to_no_move_when_rules_contradict():
    campaign = facts(tags=("brand",), daily_budget=300.0)
    rules = [rule("budget_bounds", {"min": 50, "max": 200}), rule("protected_campaigns", {"tag": "brand"})]
    assert budget_limits(campaign, rules) == (300.0, 300.0, False)


def test_budget_limits_freeze_increases_on_a_forbidden_audience():
    low, high, _ = budget_limits(facts(audience="minors"), [rule("forbidden_audiences", {"segments": ["minors"]})])
    assert (low, high) == (0.0, 100.0)


def test_total_caps_list_the_active_campaigns_in_scope():
    campaigns = {
        c.external_id: c
        for c in (facts("C2"), facts("C1"), facts("C3", channel="display"), facts("C4", status="paused"))
    }
    rules = [
        rule("total_budget_cap", {"amount": 500}, scope={"channel": "search"}),
        rule("total_budget_cap", {"amount": 1}, severity="warn"),
    ]
    assert total_caps(campaigns, rules) == [(["C1", "C2"], 500.0)]


def test_may_propose_gives_the_reason_it_may_not():
    rules = [rule("min_evidence", {"days": 14, "conversions": 0}, name="Two weeks of data")]
    allowed, reason = may_propose(facts(evidence_days=3), rules, today=TODAY)
    assert not allowed
    assert reason == "Only 3 days of data (needs 14) (Two weeks of data)"
    assert may_propose(facts(evidence_days=14), rules, today=TODAY) == (True, "")


def test_may_propose_respects_a_running_cooldown_but_ignores_warnings():
    campaign = facts(last_applied_change=TODAY - dt.timedelta(days=1))
    assert not may_propose(campaign, [rule("cooldown", {"days": 3})], today=TODAY)[0]
    assert may_propose(campaign, [rule("cooldown", {"days": 3}, severity="warn")], today=TODAY)[0]


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "problem"),
    [
        ("max_budget_change_pct", {"pct": 120}, "pct: must be a number between 0 and 100"),
        ("max_budget_change_pct", {"pct": "20"}, "pct: must be a number between 0 and 100"),
        ("max_budget_change_pct", {"pct": True}, "pct: must be a number between 0 and 100"),
        ("max_budget_change_pct", {}, "pct: required"),
        ("budget_bounds", {"min": -1, "max": 10}, "min: must be a number of at least 0"),
        ("budget_bounds", {"min": 20, "max": 10}, "max: must be at least min (20)"),
        ("budget_bounds", {"min": 1}, "max: required"),
        ("total_budget_cap", {"amount": None}, "amount: must be a number of at least 0"),
        ("protected_campaigns", {"tag": ""}, "tag: must be a non-empty text"),
        ("protected_campaigns", {"tag": 3}, "tag: must be a non-empty text"),
        ("forbidden_audiences", {"segments": []}, "segments: must name at least one"),
        ("forbidden_audiences", {"segments": "minors"}, "segments: must be a list of non-empty texts"),
        ("brand_voice", {}, "banned_phrases: give at least one banned or required phrase"),
        ("brand_voice", {"banned_phrases": [1]}, "banned_phrases: must be a list of non-empty texts"),
        ("cooldown", {"days": 0}, "days: must be a whole number of at least 1"),
        ("cooldown", {"days": 2.5}, "days: must be a whole number of at least 1"),
        ("min_evidence", {"days": 7, "conversions": -2}, "conversions: must be a number of at least 0"),
        ("min_evidence", {"days": 7}, "conversions: required"),
        ("cooldown", {"days": 7, "hours": 2}, "hours: unknown key; cooldown takes days"),
    ],
)
def test_it_explains_bad_params(kind, params, problem):
    assert problem in validate_params(kind, params)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("max_budget_change_pct", {"pct": 20}),
        ("max_budget_change_pct", {"pct": 12.5}),
        ("budget_bounds", {"min": 10, "max": 10}),
        ("total_budget_cap", {"amount": 5000}),
        ("protected_campaigns", {"tag": "brand"}),
        ("forbidden_audiences", {"segments": ["minors", "employees"]}),
        ("brand_voice", {"banned_phrases": ["cheap"], "required_phrases": []}),
        ("cooldown", {"days": 7}),
        ("min_evidence", {"days": 14, "conversions": 0}),
        ("protected_workflows", {"tag": "compliance"}),
    ],
)
def test_it_accepts_good_params(kind, params):
    assert validate_params(kind, params) == []


def test_the_registry_lists_the_kinds_in_their_documented_order():
    assert KINDS == (
        "max_budget_change_pct",
        "budget_bounds",
        "total_budget_cap",
        "monthly_budget",
        "protected_campaigns",
        "forbidden_audiences",
        "brand_voice",
        "cooldown",
        "min_evidence",
        "protected_workflows",
        "contact_cap",
    )


def test_it_names_the_known_kinds_for_an_unknown_one():
    (problem,) = validate_params("max_budget", {})
    assert problem.startswith('unknown kind "max_budget"; expected one of max_budget_change_pct, budget_bounds')


@pytest.mark.parametrize(
    "scope",
    [[], {"country": "NL"}, {"channel": "search", "tag": "brand"}, {"channel": ""}, {"campaign": 12}],
)
def test_it_refuses_a_bad_scope(scope):
    assert validate_scope(scope) != []


@pytest.mark.parametrize("scope", [{}, {"channel": "search"}, {"tag": "brand"}, {"campaign": "C1"}])
def test_it_accepts_a_good_scope(scope):
    assert validate_scope(scope) == []


def test_it_accepts_only_block_or_warn():
    assert validate_severity("block") == validate_severity("warn") == []
    assert validate_severity("error") == ['unknown severity "error"; expected block or warn']


# --- properties ------------------------------------------------------------------------

budgets = st.floats(min_value=1, max_value=100_000, allow_nan=False)
percents = st.floats(min_value=0, max_value=100, allow_nan=False)


@given(current=budgets, pct=percents, lo=budgets, span=budgets, target=st.floats(min_value=0, max_value=300_000))
def test_any_budget_clamped_into_budget_limits_passes_the_block_rules(current, pct, lo, span, target):
    campaign = facts(daily_budget=current)
    rules = [
        rule("max_budget_change_pct", {"pct": pct}, name="pct"),
        rule("budget_bounds", {"min": lo, "max": lo + span}),
    ]
    low, high, _ = budget_limits(campaign, rules)
    clamped = min(max(target, low), high)
    verdicts = run([budget(before=current, after=clamped)], rules, campaign)
    if low == high == current:
        # Contradicting rules: the engine leaves the budget alone.
        assert clamped == current
    else:
        assert all(v.passed for v in verdicts), verdicts


@given(before=budgets, after=st.floats(min_value=0, max_value=200_000), pct=percents)
def test_the_pct_rule_fails_exactly_the_moves_beyond_its_limit(before, after, pct):
    allowed = before * pct / 100
    verdict = only(run([budget(before=before, after=after)], [rule("max_budget_change_pct", {"pct": pct})]))
    moved = abs(after - before)
    # Leave a hair of slack either side of the limit for float rounding.
    if moved <= allowed * (1 - 1e-9):
        assert verdict.passed
    elif moved >= allowed * (1 + 1e-6) + 1e-6:
        assert not verdict.passed


def test_a_budget_just_over_a_limit_is_not_rounded_onto_it():
    verdict = only(run([budget(after=2000.4)], [rule("budget_bounds", {"min": 10, "max": 2000})]))
    assert verdict.message == "Budget $2,000.40 is above the maximum $2,000"
