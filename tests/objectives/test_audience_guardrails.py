"""The guardrails that judge audiences of randomised tests: forbidden_audiences on the audience's definition,
brand_voice on the copy of the action sent, contact_cap on how many actions a customer gets a week. Pure checks
first, then the facts read from the database, the form and the policy file."""

import datetime as dt

import pytest
from django.urls import reverse

from decisions import audiences
from decisions.experiments.facts import audience_facts
from decisions.models import AudienceList
from objectives.forms import GuardrailForm, param_field_name
from objectives.guardrails import ActionCopy, AudienceFacts, Change, Rule, check, validate_params
from objectives.policy import export_policy, import_policy, validate_policy
from objectives.selectors import active_rules
from objectives.services import guardrail_create
from tests.decisions.generation.audience_world import CONTROL, MENS, OLDER, TEST, make_test
from tests.factories import guardrail_admin

TODAY = dt.date(2026, 11, 30)
ID = "Spring/abc"
ACTIONS = {
    "none": ActionCopy("No e-mail"),
    "mens": ActionCopy("Mens e-mail", "New in for him", "Linen shirts, guaranteed to fit."),
    "womens": ActionCopy("Womens e-mail", "New in for her", "Dresses for spring."),
}


def facts(segment: dict, *, other_lists: dict | None = None, action: str = "none") -> dict[str, AudienceFacts]:
    return {
        ID: AudienceFacts(
            external_id=ID,
            name="Age 30 or more",
            experiment="Spring",
            segment=segment,
            control="none",
            action=action,
            actions=ACTIONS,
            other_lists=other_lists or {},
        )
    }


def verdicts(rule: Rule, segment: dict, *, to: str = "mens", **kwargs) -> list:
    change = Change(ID, "action", None, to, target="audience")
    return check([change], rules=[rule], campaigns={}, today=TODAY, audiences=facts(segment, **kwargs))


def forbid(**params) -> Rule:
    return Rule("Audiences", "forbidden_audiences", params=params)


AGE_30_UP = {"age": {"min": 30.0, "max": None}}


# --- forbidden_audiences --------------------------------------------------------------------------


def test_an_audience_defined_by_a_forbidden_attribute_fails():
    (verdict,) = verdicts(forbid(attributes=["ethnicity"]), {"ethnicity": ["A"], **AGE_30_UP})
    assert not verdict.passed
    assert verdict.message == "This audience is defined by ethnicity, an attribute no audience may use"


def test_an_audience_without_the_forbidden_attribute_passes():
    (verdict,) = verdicts(forbid(attributes=["Ethnicity", "religion"]), AGE_30_UP)
    assert verdict.passed and verdict.message == "The audience uses none of Ethnicity, religion"


@pytest.mark.parametrize(
    "segment",
    [
        {"region": ["North"]},  # says nothing about age: anyone could be in it
        {"age": {"min": None, "max": 40.0}},
        {"age": {"min": 16.0, "max": None}},
        {"age": [16, 20]},
    ],
)
def test_an_audience_that_does_not_keep_minors_out_fails(segment):
    (verdict,) = verdicts(forbid(min_attribute="age", min_value=18), segment)
    assert not verdict.passed
    assert verdict.message == "This audience could hold customers under 18: its definition must say age 18 or more"


@pytest.mark.parametrize("segment", [{"age": {"min": 18, "max": None}}, AGE_30_UP, {"age": [18, 30]}])
def test_an_audience_that_says_18_or_more_passes(segment):
    (verdict,) = verdicts(forbid(min_attribute="age", min_value=18), segment)
    assert verdict.passed and verdict.message == "The audience says age 18 or more"


def test_stopping_an_action_to_a_forbidden_audience_passes():
    (verdict,) = verdicts(forbid(attributes=["ethnicity"]), {"ethnicity": ["A"]}, to="none", action="mens")
    assert verdict.passed and verdict.message == "Stops sending to this audience"


def test_a_rule_of_campaign_segments_only_says_nothing_about_audiences():
    assert verdicts(forbid(segments=["minors"]), {"region": ["North"]}) == []


def test_a_rule_scoped_to_a_channel_never_reaches_an_audience():
    rule = Rule("Search only", "forbidden_audiences", scope={"channel": "search"}, params={"attributes": ["age"]})
    assert verdicts(rule, AGE_30_UP) == []


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({}, "segments: give at least one forbidden segment, attribute or minimum"),
        ({"min_attribute": "age"}, "min_value: give the minimum of age"),
        ({"min_value": 18}, "min_attribute: name the attribute the minimum is for"),
        ({"attributes": []}, "attributes: must name at least one"),
        ({"min_attribute": "age", "min_value": -1}, "min_value: must be a number of at least 0"),
    ],
)
def test_it_explains_bad_audience_params(params, problem):
    assert problem in validate_params("forbidden_audiences", params)


@pytest.mark.parametrize(
    "params",
    [
        {"attributes": ["ethnicity"]},
        {"min_attribute": "age", "min_value": 18},
        {"segments": ["minors"], "attributes": ["ethnicity"], "min_attribute": "age", "min_value": 18},
    ],
)
def test_it_accepts_good_audience_params(params):
    assert validate_params("forbidden_audiences", params) == []


# --- brand_voice ----------------------------------------------------------------------------------


def voice(**params) -> Rule:
    return Rule("Voice", "brand_voice", severity="warn", params=params)


def test_the_copy_of_the_action_sent_is_judged():
    (verdict,) = verdicts(voice(banned_phrases=["guaranteed"]), AGE_30_UP)
    assert not verdict.passed and verdict.message == "Mens e-mail: copy uses banned phrase “guaranteed”"


def test_copy_that_follows_the_voice_passes_and_a_required_phrase_may_be_anywhere_in_it():
    (verdict,) = verdicts(voice(banned_phrases=["guaranteed"], required_phrases=["for her"]), AGE_30_UP, to="womens")
    assert verdict.passed and verdict.message == "The copy of Womens e-mail follows the brand voice"


def test_going_back_to_the_control_sends_no_copy_to_judge():
    assert verdicts(voice(banned_phrases=["e-mail"]), AGE_30_UP, to="none", action="mens") == []


# --- contact_cap ----------------------------------------------------------------------------------


def cap(n: int) -> Rule:
    return Rule("Cap", "contact_cap", params={"max_per_week": n})


def test_customers_already_on_the_cap_would_get_one_more_and_it_fails():
    (verdict,) = verdicts(cap(2), AGE_30_UP, other_lists={0: 100, 1: 50, 2: 412})
    assert not verdict.passed
    assert verdict.message == "412 customers of this audience would get 3 actions a week; the cap is 2"


def test_it_says_every_count_over_the_cap():
    (verdict,) = verdicts(cap(1), AGE_30_UP, other_lists={0: 5, 1: 1, 2: 20})
    assert verdict.message == "1 customer of this audience would get 2 actions a week, 20 would get 3; the cap is 1"


def test_customers_under_the_cap_pass():
    (verdict,) = verdicts(cap(2), AGE_30_UP, other_lists={0: 100, 1: 50})
    assert (
        verdict.passed
        and verdict.message == "No customer of this audience would get more than 2 actions a week (the cap is 2)"
    )


def test_stopping_an_action_is_not_judged_by_the_cap():
    assert verdicts(cap(1), AGE_30_UP, to="none", action="mens", other_lists={3: 10}) == []


def test_the_cap_judges_audiences_only():
    change = Change("C1", "daily_budget", 100.0, 200.0)
    assert check([change], rules=[cap(1)], campaigns={}, today=TODAY) == []


def test_the_cap_takes_a_whole_number_of_at_least_one():
    assert validate_params("contact_cap", {"max_per_week": 0}) == ["max_per_week: must be a whole number of at least 1"]
    assert validate_params("contact_cap", {"max_per_week": 2}) == []


# --- facts from the database ----------------------------------------------------------------------


def change(segment: dict, to: str = MENS) -> dict:
    return {"experiment": TEST, "segment": segment, "field": "action", "from": CONTROL, "to": to}


@pytest.mark.django_db
def test_the_facts_count_the_live_lists_of_every_test_the_audiences_customers_are_on():
    make_test()  # customers C1…C40, aged 20…59: OLDER (30 or more) holds C11…C40
    other = make_test(name="Autumn test")  # the same customer ids
    for segment in ({"age": {"min": 40.0, "max": None}}, {"age": {"min": 50.0, "max": None}}):
        canonical = audiences.canonical(segment)
        AudienceList.objects.create(
            experiment=other,
            segment=canonical,
            segment_key=audiences.segment_key(canonical),
            action=MENS,
            customer_ids=audiences.members(other, canonical)[0],
        )
    withdrawn = audiences.canonical({"age": {"min": 20.0, "max": None}})
    AudienceList.objects.create(
        experiment=other,
        segment=withdrawn,
        segment_key=audiences.segment_key(withdrawn),
        action=MENS,
        customer_ids=[f"C{i}" for i in range(1, 41)],
        withdrawn_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    (found,) = audience_facts([change(OLDER)], rules=[cap(2)]).values()
    # C11…C20 are on no list, C21…C30 on one (40 or more), C31…C40 on two.
    assert (found.customers, dict(found.other_lists)) == (30, {0: 10, 1: 10, 2: 10})
    assert found.action == CONTROL and found.actions[MENS].name == "Mens e-mail"
    (verdict,) = check(
        [Change(found.external_id, "action", None, MENS, target="audience")],
        rules=[cap(2)],
        campaigns={},
        today=TODAY,
        audiences={found.external_id: found},
    )
    assert verdict.message == "10 customers of this audience would get 3 actions a week; the cap is 2"


@pytest.mark.django_db
def test_the_facts_leave_contacts_uncounted_when_no_rule_reads_them():
    make_test()
    (found,) = audience_facts([change(OLDER)], rules=[forbid(attributes=["ethnicity"])]).values()
    assert (found.customers, dict(found.other_lists)) == (0, {})


# --- the form and the policy file -------------------------------------------------------------------


def form_data(kind: str, **params) -> dict:
    data = {"name": "R", "kind": kind, "severity": "block", "scope_type": "", "scope_value": "", "reason": "why"}
    return data | {param_field_name(key): value for key, value in params.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "typed", "params"),
    [
        ("contact_cap", {"max_per_week": "2"}, {"max_per_week": 2}),
        ("forbidden_audiences", {"min_attribute": "age", "min_value": "18"}, {"min_attribute": "age", "min_value": 18}),
        ("forbidden_audiences", {"attributes": "ethnicity\nreligion"}, {"attributes": ["ethnicity", "religion"]}),
    ],
)
def test_an_admin_creates_an_audience_guardrail_on_its_form(client, kind, typed, params):
    client.force_login(guardrail_admin())
    form = GuardrailForm(kind=kind)
    assert all(field.help_text for field in form.param_fields())
    response = client.post(reverse("objectives:guardrail-new"), form_data(kind, **typed))
    assert response.status_code == 302
    (rule,) = active_rules()
    assert (rule.kind, rule.params) == (kind, params)


@pytest.mark.django_db
def test_the_form_shows_the_cap_with_its_help(client):
    client.force_login(guardrail_admin())
    page = client.get(reverse("objectives:guardrail-new") + "?kind=contact_cap").content.decode()
    assert "Actions a customer may get a week, at most" in page and "Each live audience list is one action" in page


@pytest.mark.django_db
def test_the_audience_guardrails_round_trip_through_the_policy_file():
    guardrail_create(name="Cap", kind="contact_cap", params={"max_per_week": 2}, reason="start")
    guardrail_create(
        name="Minors",
        kind="forbidden_audiences",
        severity="warn",
        params={"attributes": ["ethnicity"], "min_attribute": "age", "min_value": 18},
        reason="start",
    )
    exported = export_policy()
    assert {g["kind"] for g in exported["guardrails"]} == {"contact_cap", "forbidden_audiences"}
    plan = import_policy(policy=validate_policy(exported), reason="again")
    assert export_policy() == exported and (plan.updated, plan.deactivated) == ([], [])
