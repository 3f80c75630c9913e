"""The policy parser refuses what JSON allows but no policy means — deep nesting, huge numbers, NaN and
Infinity, NUL and lone surrogates — with a placed message, never a traceback; the dry run refuses exactly
what the real import refuses. A fuzz of random text and random structures holds the parser to that."""

import json
import os

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from objectives.models import Guardrail, GuardrailVersion, Objective
from objectives.policy import MAX_NESTING, PolicyError, parse_policy
from tests.factories import guardrail_admin

FUZZ_EXAMPLES = int(os.environ.get("WAYPOINT_FUZZ_EXAMPLES", "0"))


def policy_text(pct: str = "20", name: str = '"Display moves"', weights: str = "{}") -> str:
    return (
        f'{{"objective": {{"metric": "pipeline_value", "weights": {weights}}}, "guardrails": ['
        f'{{"name": {name}, "kind": "max_budget_change_pct", "params": {{"pct": {pct}}}}}]}}'
    )


def errors_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value.errors


def test_a_plain_policy_still_parses():
    assert parse_policy(policy_text()).guardrails[0]["params"] == {"pct": 20}


@pytest.mark.parametrize("bracket", ["[", "{", '{"a":'])
def test_100000_nested_brackets_are_refused_without_recursion_error(bracket):
    assert errors_of(bracket * 100_000) == [
        f"top level: nested 100000 levels deep; a policy needs at most {MAX_NESTING}"
    ]


def test_nesting_is_allowed_up_to_the_limit_and_brackets_inside_texts_do_not_count():
    deep = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert errors_of(deep)[0].startswith("top level: must be a JSON object")
    assert errors_of("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))[0].startswith("top level: nested 21 levels")
    assert parse_policy(policy_text(name=json.dumps("[" * 30 + '\\"{' * 10)))


def test_a_5000_digit_integer_is_refused_where_it_is():
    assert errors_of(policy_text(pct="9" * 5000)) == ["guardrails[0].params.pct: a 5,000-digit number is beyond ±10^12"]


@pytest.mark.parametrize(("pct", "said"), [("1e13", "1e+13"), ("-2000000000000", "-2e+12"), ("1e400", "inf")])
def test_a_number_beyond_10_to_the_12_is_refused(pct, said):
    assert errors_of(policy_text(pct=pct)) == [f"guardrails[0].params.pct: {said} is beyond ±10^12"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_in_params_and_weights(constant):
    assert errors_of(policy_text(pct=constant, weights=f'{{"spend": {constant}}}')) == [
        f"objective.weights.spend: {constant} is not a number a policy can use (JSON has no NaN or Infinity)",
        f"guardrails[0].params.pct: {constant} is not a number a policy can use (JSON has no NaN or Infinity)",
    ]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ('"cap\\u0000"', "contains a NUL character"),
        ('"cap\\ud800"', "contains a lone surrogate (\\ud800), which is not text"),
        ('"\udfff"', "contains a lone surrogate (\\udfff), which is not text"),
    ],
)
def test_nul_and_lone_surrogates_in_names_are_refused_and_the_name_is_not_repeated(name, said):
    with pytest.raises(PolicyError) as caught:
        parse_policy(policy_text(name=name))
    assert caught.value.errors == [f"guardrails[0].name: {said}"]
    assert caught.value.named == [f"The 1st guardrail in the file (no name) — guardrails[0].name: {said}"]


def test_a_key_with_a_nul_is_refused():
    assert errors_of('{"objective": null, "guardrails": [], "x\\u0000": 1}')[0] == (
        "top level: a key contains a NUL character"
    )


# --- the dry run refuses exactly what the real import refuses ---------------------------------------------------

BAD_DOCUMENTS = {
    "nan": policy_text(pct="NaN"),
    "huge": policy_text(pct="9" * 5000),
    "deep": "[" * 100_000,
    "nul": policy_text(name='"a\\u0000"'),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_the_command_refuses_the_same_in_a_dry_run_and_a_real_import(case, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(BAD_DOCUMENTS[case], encoding="utf-8")
    messages = []
    for dry_run in (["--dry-run"], []):
        with pytest.raises(CommandError) as caught:
            call_command("policy", "import", str(path), *dry_run)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "is not a valid policy; nothing changed." in messages[0]
    assert (Guardrail.objects.count(), GuardrailVersion.objects.count(), Objective.objects.count()) == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_the_import_page_refuses_bad_numbers_and_texts_with_422(case, client):
    client.force_login(guardrail_admin(username="ada"))
    response = client.post(reverse("objectives:policy-import"), {"policy_text": BAD_DOCUMENTS[case], "reason": "r"})
    assert response.status_code == 422
    assert Guardrail.objects.count() == 0


# --- fuzz: random JSON-ish text and random nested structures ------------------------------------------------------

JSON_TOKENS = st.sampled_from(
    [*'{}[]",:0123456789.-+eE \\', "true", "null", "NaN", "Infinity", "\\u0000", "\\ud800", "\x00", "\ud800", "é"]
    + ['"pct"', '"name"', '"objective"', '"guardrails"', '"params"', "1" * 30]
)
json_ish = st.lists(JSON_TOKENS, max_size=60).map("".join)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["pipeline_value", "max_budget_change_pct", "block", "display", "pct"])
)
keys = st.sampled_from(["objective", "guardrails", "name", "kind", "scope", "severity", "params", "pct", "metric"])
structures = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys | st.text(max_size=4), children, max_size=4),
)


def _parses_cleanly_or_refuses(text: str) -> None:
    try:
        parse_policy(text)
        event("a policy")  # --hypothesis-show-statistics shows the mix
    except PolicyError as error:
        event("refused")
        assert error.errors and all(isinstance(problem, str) and problem for problem in error.errors)
        assert len(error.named) == len(error.errors)


@settings(max_examples=FUZZ_EXAMPLES or 300, deadline=None)
@given(text=json_ish | st.text(max_size=80))
def test_fuzz_random_json_ish_text_parses_or_is_refused(text):
    _parses_cleanly_or_refuses(text)


@settings(max_examples=FUZZ_EXAMPLES or 200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    objective=structures, guardrails=structures | st.lists(st.dictionaries(keys, structures, max_size=5), max_size=3)
)
def test_fuzz_random_nested_structures_parse_or_are_refused(objective, guardrails):
    # allow_nan writes NaN/Infinity as JSON's extension does; the parser must refuse them, not store them.
    _parses_cleanly_or_refuses(json.dumps({"objective": objective, "guardrails": guardrails}, allow_nan=True))
