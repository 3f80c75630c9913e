"""The guardrail form against the campaigns that exist: scopes picked or checked, rules broken from day one said."""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from objectives.models import Guardrail
from objectives.services import guardrail_create
from tests.factories import CampaignFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

NEW = reverse("objectives:guardrail-new")
SCOPE = reverse("objectives:guardrail-scope")
BACKTEST = reverse("objectives:guardrail-backtest")


@pytest.fixture
def campaigns():
    return [
        CampaignFactory(external_id="SIM-0001", name="Search – Brand", channel="search", tags=["brand"]),
        CampaignFactory(external_id="SIM-0009", name="Display – Retargeting", channel="display"),
        CampaignFactory(external_id="SIM-0011", channel="social", daily_budget=Decimal("1000.00")),
        CampaignFactory(external_id="SIM-0012", channel="social", daily_budget=Decimal("874.85")),
        CampaignFactory(external_id="SIM-0013", channel="linkedin"),
    ]


@pytest.fixture
def admin(client):
    client.force_login(guardrail_admin(username="ada"))
    return client


def form(**overrides) -> dict:
    data = {
        "name": "Scoped moves",
        "kind": "max_budget_change_pct",
        "severity": "block",
        "scope_type": "channel",
        "scope_value": "display",
        "param_pct": "20",
        "reason": "Tighter moves on display",
    }
    data.update(overrides)
    return data


def text(response) -> str:
    return response.content.decode()


# --- picking a scope ---------------------------------------------------------------------------------


def test_the_form_offers_the_known_channels_tags_and_campaigns_to_pick(admin, campaigns):
    page = text(admin.get(NEW))
    assert 'list="scope-options"' in page
    for value in ("display", "linkedin", "brand", "SIM-0009"):
        assert f'<option value="{value}"' in page
    assert 'label="campaign · Display – Retargeting"' in page


def test_choosing_a_kind_of_scope_offers_only_those_values(admin, campaigns):
    response = admin.get(
        SCOPE,
        {"scope_type": "campaign", "scope_value": ""},
        headers={"HX-Request": "true", "HX-Target": "scope-hint", "HX-Trigger-Name": "scope_type"},
    )
    page = text(response)
    assert response.status_code == 200
    assert page.startswith('<p id="scope-hint"') and "Type or pick a campaign, by id or by name." in page
    assert '<datalist id="scope-options" hx-swap-oob="true">' in page
    assert '<option value="SIM-0001" label="Search – Brand">' in page
    assert '<option value="social"' not in page


@pytest.mark.parametrize(
    ("scope_type", "value", "said"),
    [
        ("channel", "Display", "Matches 1 campaign; saved as “display”, as the campaigns spell it."),
        ("channel", "social", "Matches 2 campaigns."),
        ("channel", "linkedn", "channel “linkedn” matches no campaign; did you mean linkedin?"),
        ("campaign", "SIM-009", "did you mean SIM-0009 (Display – Retargeting)?"),
        ("tag", "brnad", "tag “brnad” matches no campaign; did you mean brand?"),
        ("", "", "Applies to every campaign: matches all 5 campaigns."),
    ],
)
def test_the_form_says_what_the_scope_matches_as_the_admin_types(admin, campaigns, scope_type, value, said):
    response = admin.get(
        SCOPE,
        {"scope_type": scope_type, "scope_value": value},
        headers={"HX-Request": "true", "HX-Target": "scope-hint"},
    )
    assert response.status_code == 200
    assert text(response).startswith('<p id="scope-hint"')
    assert said in text(response)


def test_the_scope_check_is_for_guardrail_admins_only(client, campaigns):
    for user in (marketer(), viewer()):
        client.force_login(user)
        assert client.get(SCOPE, {"scope_type": "channel", "scope_value": "display"}).status_code == 403


def test_the_scope_check_only_reads(admin, campaigns):
    assert admin.post(SCOPE, {"scope_type": "channel", "scope_value": "display"}).status_code == 405


# --- saving ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope_type", "value", "message"),
    [
        ("channel", "linkedn", "channel “linkedn” matches no campaign; did you mean linkedin?"),
        ("campaign", "SIM-9999", "campaign “SIM-9999” matches no campaign"),
        ("tag", "brnad", "tag “brnad” matches no campaign; did you mean brand?"),
    ],
)
def test_a_scope_matching_no_campaign_is_refused_on_save(admin, campaigns, scope_type, value, message):
    response = admin.post(NEW, form(scope_type=scope_type, scope_value=value))
    assert response.status_code == 422
    assert message in text(response)
    assert not Guardrail.objects.exists()


def test_a_protected_tag_nobody_carries_is_refused_on_the_tag_field(admin, campaigns):
    protect = form(name="Brand", kind="protected_campaigns", scope_type="", scope_value="", param_tag="brnad")
    protect.pop("param_pct")
    response = admin.post(NEW, protect)
    assert response.status_code == 422
    assert response.context["form"].errors["param_tag"] == ["tag “brnad” matches no campaign; did you mean brand?"]


def test_a_scope_in_another_case_is_saved_as_the_campaigns_spell_it(admin, campaigns):
    response = admin.post(NEW, form(scope_value="Display"), follow=True)
    assert Guardrail.objects.get().scope == {"channel": "display"}
    assert "The channel “Display” is saved as “display”, as the campaigns spell it." in text(response)


def test_a_campaign_named_by_its_name_is_saved_by_its_id(admin, campaigns):
    admin.post(NEW, form(scope_type="campaign", scope_value="search – brand"))
    assert Guardrail.objects.get().scope == {"campaign": "SIM-0001"}


def test_an_edit_into_a_scope_matching_nothing_is_refused_and_the_version_stays(admin, campaigns):
    guardrail = guardrail_create(
        name="Scoped moves", kind="max_budget_change_pct", scope={"channel": "display"}, params={"pct": 20}
    )
    edit = reverse("objectives:guardrail-edit", args=[guardrail.pk])
    response = admin.post(edit, form(scope_value="Sociall", version=1))
    assert response.status_code == 422
    assert "channel “Sociall” matches no campaign; did you mean social?" in text(response)
    guardrail.refresh_from_db()
    assert (guardrail.version, guardrail.scope) == (1, {"channel": "display"})


def test_a_cap_already_exceeded_says_so_on_save(admin, campaigns):
    cap = form(name="Social cap", kind="total_budget_cap", scope_value="social", param_amount="1500")
    cap.pop("param_pct")
    response = admin.post(NEW, cap, follow=True)
    assert Guardrail.objects.filter(name="Social cap").exists()
    assert "“Social cap” is already exceeded: the scope&#x27;s budgets total" in text(response)


def test_a_rule_todays_budgets_respect_says_nothing_more(admin, campaigns):
    response = admin.post(NEW, form(), follow=True)
    assert "already" not in text(response)


# --- the backtest -------------------------------------------------------------------------------------


def test_the_live_backtest_of_an_empty_form_asks_for_fields_without_calling_them_errors(admin, campaigns):
    empty = {"name": "", "kind": "max_budget_change_pct", "severity": "block", "scope_type": "", "scope_value": ""}
    response = admin.post(BACKTEST, {**empty, "param_pct": ""}, headers={"HX-Request": "true"})
    page = text(response)
    assert response.status_code == 200
    assert "This field is required" not in page
    assert "Name" not in page
    assert "Fill in “Largest move, % of the daily budget” to see what this version would have done" in page


def test_the_backtest_still_names_what_was_typed_wrong(admin, campaigns):
    response = admin.post(BACKTEST, form(param_pct="300"), headers={"HX-Request": "true"})
    assert "<li>Largest move, % of the daily budget: must be a number between 0 and 100</li>" in text(response)


def test_the_backtest_says_how_many_campaigns_the_scope_matches(admin, campaigns):
    response = admin.post(BACKTEST, form(scope_value="social"), headers={"HX-Request": "true"})
    assert "Channel “social”</strong>: matches 2 campaigns." in text(response)


def test_the_backtest_says_a_scope_matches_nothing(admin, campaigns):
    response = admin.post(BACKTEST, form(scope_value="linkedn"), headers={"HX-Request": "true"})
    page = text(response)
    assert "Channel “linkedn”</strong>: matches no campaign." in page
    assert "did you mean linkedin?" in page


def test_the_backtest_says_a_cap_is_broken_from_day_one(admin, campaigns):
    cap = form(name="Social cap", kind="total_budget_cap", scope_value="social", param_amount="1500")
    cap.pop("param_pct")
    response = admin.post(BACKTEST, cap, headers={"HX-Request": "true"})
    assert "This guardrail is already exceeded: the scope&#x27;s budgets total" in text(response)


def test_the_backtest_sits_below_the_form_at_full_width(admin, campaigns):
    page = text(admin.get(NEW))
    form_end = page.index("</form>")
    assert page.index('<section id="backtest"') > form_end
    assert '<div class="grid2">\n<form' not in page


# --- the list and policy import ------------------------------------------------------------------------


def test_the_list_flags_a_guardrail_whose_scope_matches_nothing(client, campaigns):
    guardrail_create(name="Old typo", kind="cooldown", scope={"channel": "linkedn"}, params={"days": 3})
    guardrail_create(name="Display", kind="cooldown", scope={"channel": "display"}, params={"days": 3})
    client.force_login(viewer())
    page = text(client.get(reverse("objectives:guardrails")))
    assert "matches no campaign" in page
    assert "matches 1 campaign" in page


def test_the_policy_import_page_refuses_a_scope_matching_nothing(admin, campaigns):
    document = {
        "objective": {"metric": "pipeline_value"},
        "guardrails": [
            {"name": "LinkedIn moves", "kind": "cooldown", "scope": {"channel": "linkedn"}, "params": {"days": 3}}
        ],
    }
    upload = SimpleUploadedFile("policy.json", json.dumps(document).encode(), content_type="application/json")
    response = admin.post(reverse("objectives:policy-import"), {"policy_file": upload, "reason": "Q4"})
    assert response.status_code == 422
    assert "channel “linkedn” matches no campaign; did you mean linkedin?" in text(response)
    assert not Guardrail.objects.exists()
