"""Guardrail scopes against the campaigns that exist: pure, the known campaigns passed in."""

import pytest

from objectives.formatting import money
from objectives.guardrails import CampaignFacts, KnownCampaigns, Rule, match_scope
from objectives.guardrails.scopes import (
    broken_today,
    canonical_params,
    canonical_scope,
    nothing_matched,
    param_problems,
    scope_problems,
    suggestions,
)


def campaign(external_id, channel="search", *, tags=(), budget=100.0, status="active") -> CampaignFacts:
    return CampaignFacts(
        external_id=external_id, channel=channel, tags=tags, audience="", daily_budget=budget, status=status
    )


@pytest.fixture
def known() -> KnownCampaigns:
    campaigns = (
        campaign("SIM-0001", "search", tags=("brand",)),
        campaign("SIM-0009", "display"),
        campaign("SIM-0010", "display", status="paused"),
        campaign("SIM-0011", "social", budget=1000.0),
        campaign("SIM-0012", "social", budget=874.85),
        campaign("SIM-0013", "linkedin"),
    )
    names = {"SIM-0001": "Search – Brand", "SIM-0009": "Display – Retargeting", "SIM-0011": "Social – Prospecting"}
    return KnownCampaigns(campaigns=campaigns, names=names)


@pytest.mark.parametrize(
    ("scope", "canonical", "count"),
    [
        ({"channel": "Display"}, "display", 2),
        ({"channel": "display"}, "display", 2),
        ({"tag": "BRAND"}, "brand", 1),
        ({"campaign": "sim-0010"}, "SIM-0010", 1),
        ({"campaign": "display – retargeting"}, "SIM-0009", 1),  # a campaign may be named by its name
    ],
)
def test_a_scope_matches_ignoring_case_and_is_saved_as_the_campaigns_spell_it(known, scope, canonical, count):
    match = match_scope(scope, known)
    assert (match.canonical, match.count) == (canonical, count)
    assert canonical_scope(scope, known) == {next(iter(scope)): canonical}
    assert scope_problems(scope, known) == []


def test_the_match_counts_paused_campaigns_and_says_so(known):
    assert match_scope({"channel": "display"}, known).summary == "matches 2 campaigns (1 paused)"
    assert match_scope({"channel": "social"}, known).summary == "matches 2 campaigns"
    assert match_scope({}, known).summary == "matches all 6 campaigns (1 paused)"


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"channel": "linkedn"}, "channel “linkedn” matches no campaign; did you mean linkedin?"),
        ({"tag": "brnad"}, "tag “brnad” matches no campaign; did you mean brand?"),
        (
            {"campaign": "SIM-009"},
            "campaign “SIM-009” matches no campaign; did you mean SIM-0009 (Display – Retargeting)?",
        ),
        ({"channel": "tv"}, "channel “tv” matches no campaign; the channels are display, linkedin, search, social"),
    ],
)
def test_a_scope_matching_nothing_is_refused_with_the_close_matches(known, scope, message):
    match = match_scope(scope, known)
    assert match.matches_nothing
    assert nothing_matched(match, known) == message
    assert scope_problems(scope, known) == [message]
    assert canonical_scope(scope, known) == scope  # left as typed: it is refused, not respelled


def test_nothing_can_be_checked_before_any_campaign_exists():
    empty = KnownCampaigns()
    match = match_scope({"channel": "display"}, empty)
    assert not match.matches_nothing and not match.checked
    assert scope_problems({"channel": "display"}, empty) == []
    assert scope_problems({"channel": "display"}, None) == []


def test_an_exact_spelling_wins_over_another_of_the_same_letters():
    known = KnownCampaigns((campaign("A", "Display"), campaign("B", "display"), campaign("C", "display")))
    assert match_scope({"channel": "Display"}, known).canonical == "Display"
    assert match_scope({"channel": "DISPLAY"}, known).canonical == "display"  # the commoner spelling


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("SIM-009", ("SIM-0009",)), ("sim-0010", ("SIM-0010",)), ("social – prospectin", ("SIM-0011",))],
)
def test_close_matches_prefer_the_same_id_ignoring_case_and_leading_zeros(known, typed, expected):
    assert suggestions("campaign", typed, known) == expected


def test_a_cap_already_exceeded_says_by_how_much_today(known):
    cap = Rule("Social cap", "total_budget_cap", scope={"channel": "social"}, params={"amount": 1500})
    assert broken_today(cap, known) == (
        "already exceeded: the scope's budgets total $1,874.85 today, over the cap $1,500"
    )
    roomy = Rule("Social cap", "total_budget_cap", scope={"channel": "social"}, params={"amount": 2000})
    assert broken_today(roomy, known) == ""


def test_an_unscoped_cap_counts_every_campaign_but_the_paused_ones(known):
    cap = Rule("All", "total_budget_cap", params={"amount": 2000})
    assert broken_today(cap, known) == (
        "already exceeded: the budgets of all campaigns total $2,174.85 today, over the cap $2,000"
    )


def test_bounds_that_todays_budgets_break_name_the_campaigns(known):
    bounds = Rule("Social bounds", "budget_bounds", scope={"channel": "social"}, params={"min": 50, "max": 900})
    assert broken_today(bounds, known) == (
        f"already broken: 1 campaign's budget is outside {money(50)}–{money(900)} today "
        f"(Social – Prospecting at {money(1000)})"
    )


def test_a_kind_without_a_standing_condition_is_never_broken_today(known):
    assert broken_today(Rule("Move", "max_budget_change_pct", params={"pct": 1}), known) == ""
    assert broken_today(Rule("Nothing", "no_such_kind"), known) == ""


def test_a_protected_tag_nobody_carries_is_refused_like_a_scope(known):
    assert param_problems("protected_campaigns", {"tag": "brnad"}, known) == [
        "tag: tag “brnad” matches no campaign; did you mean brand?"
    ]
    assert param_problems("protected_campaigns", {"tag": "Brand"}, known) == []
    assert canonical_params("protected_campaigns", {"tag": "Brand"}, known) == {"tag": "brand"}
    assert param_problems("cooldown", {"days": 3}, known) == []
