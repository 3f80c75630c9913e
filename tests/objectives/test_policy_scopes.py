"""A policy file's scopes, checked against the campaigns that exist: refused when they match nothing."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from objectives.guardrails import CampaignFacts, KnownCampaigns
from objectives.models import Guardrail
from objectives.policy import PolicyError, import_policy, plan_import, validate_policy
from tests.factories import CampaignFactory


def facts(external_id, channel, *, budget=100.0, tags=()) -> CampaignFacts:
    return CampaignFacts(
        external_id=external_id, channel=channel, tags=tags, audience="", daily_budget=budget, status="active"
    )


KNOWN = KnownCampaigns(
    campaigns=(facts("SIM-0001", "display"), facts("SIM-0002", "linkedin"), facts("SIM-0003", "social", budget=1900)),
    names={"SIM-0001": "Display – Retargeting"},
)


def guardrail(name="Scoped", scope=None, kind="max_budget_change_pct", params=None) -> dict:
    return {"name": name, "kind": kind, "scope": scope or {}, "severity": "block", "params": params or {"pct": 20}}


def document(*guardrails) -> dict:
    return {"objective": {"metric": "pipeline_value"}, "guardrails": list(guardrails)}


def test_a_scope_matching_no_campaign_is_refused_with_its_close_matches():
    data = document(guardrail("Fine"), guardrail("LinkedIn moves", scope={"channel": "linkedn"}))
    with pytest.raises(PolicyError) as caught:
        validate_policy(data, known=KNOWN)
    assert caught.value.errors == ["guardrails[1].scope: channel “linkedn” matches no campaign; did you mean linkedin?"]


def test_every_unmatched_scope_is_listed_at_once():
    data = document(
        guardrail("A", scope={"campaign": "SIM-01"}),
        guardrail("B", scope={"tag": "brnad"}),
    )
    with pytest.raises(PolicyError) as caught:
        validate_policy(data, known=KNOWN)
    assert [error.split(":")[0] for error in caught.value.errors] == ["guardrails[0].scope", "guardrails[1].scope"]
    assert "did you mean SIM-0001 (Display – Retargeting)" in caught.value.errors[0]
    assert caught.value.errors[1] == "guardrails[1].scope: tag “brnad” matches no campaign; no campaign has a tag"


def test_a_scope_in_another_case_is_kept_in_the_campaigns_spelling():
    policy = validate_policy(document(guardrail(scope={"channel": "Display"})), known=KNOWN)
    assert policy.guardrails[0]["scope"] == {"channel": "display"}


def test_without_the_known_campaigns_nothing_is_checked():
    policy = validate_policy(document(guardrail(scope={"channel": "linkedn"})))
    assert policy.guardrails[0]["scope"] == {"channel": "linkedn"}
    assert policy.warnings == []


def test_before_any_campaign_exists_the_scopes_are_accepted_with_a_warning():
    policy = validate_policy(document(guardrail(scope={"channel": "display"})), known=KnownCampaigns())
    assert policy.warnings == ["guardrails[0].scope: there are no campaigns yet, so the scope could not be checked"]


def test_a_cap_already_exceeded_is_a_warning_in_the_preview():
    cap = guardrail("Social cap", kind="total_budget_cap", scope={"channel": "social"}, params={"amount": 1500})
    policy = validate_policy(document(cap), known=KNOWN)
    assert len(policy.warnings) == 1
    assert policy.warnings[0].startswith("Guardrail “Social cap” (guardrails[0]): already exceeded: the scope's")


@pytest.mark.django_db
def test_a_respelled_scope_matching_the_stored_one_changes_nothing():
    CampaignFactory(external_id="SIM-0001", channel="display")
    import_policy(policy=validate_policy(document(guardrail(scope={"channel": "display"}))), reason="start")
    again = validate_policy(document(guardrail(scope={"channel": "DISPLAY"})), known=KNOWN)
    assert plan_import(again).unchanged == ["Scoped"]


@pytest.mark.django_db
def test_the_command_checks_scopes_against_the_database(tmp_path):
    CampaignFactory(external_id="SIM-0002", channel="linkedin")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document(guardrail("LinkedIn moves", scope={"channel": "linkedn"}))))
    with pytest.raises(CommandError) as caught:
        call_command("policy", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert "channel “linkedn” matches no campaign; did you mean linkedin?" in str(caught.value)
    assert not Guardrail.objects.exists()


@pytest.mark.django_db
def test_the_command_saves_a_scope_as_the_campaigns_spell_it(tmp_path):
    CampaignFactory(external_id="SIM-0002", channel="linkedin")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document(guardrail("LinkedIn moves", scope={"channel": "LinkedIn"}))))
    call_command("policy", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Guardrail.objects.get().scope == {"channel": "linkedin"}
