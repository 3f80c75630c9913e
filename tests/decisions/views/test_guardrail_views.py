import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions.models import AuditEvent, GenerationRun, Proposal
from objectives.models import Guardrail, GuardrailVersion, ImmutableRowError
from objectives.services import guardrail_create, guardrail_update
from tests.factories import CampaignFactory, ProposalFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def max_move():
    return guardrail_create(name="Max move", kind="max_budget_change_pct", params={"pct": 30}, reason="start")


@pytest.fixture
def admin_client(client):
    admin = guardrail_admin(username="ada")
    client.force_login(admin)
    client.user = admin
    return client


def _form(**overrides):
    data = {
        "name": "Max move",
        "kind": "max_budget_change_pct",
        "severity": "block",
        "scope_type": "",
        "scope_value": "",
        "param_pct": "10",
        "reason": "Q4 freeze: smaller steps",
    }
    data.update(overrides)
    return data


def _proposal(to: float, *, verdicts=None, days_ago: float = 1):
    campaign = CampaignFactory()
    proposal = ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}],
        guardrail_verdicts=verdicts or [],
    )
    Proposal.objects.filter(pk=proposal.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    return proposal


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_blocks_warnings_and_last_triggered(client, max_move):
    failing = {"name": "Max move", "kind": max_move.kind, "severity": "block", "passed": False, "message": "x"}
    for _ in range(3):
        _proposal(150, verdicts=[failing])
    _proposal(150, verdicts=[{**failing, "severity": "warn"}], days_ago=2)
    client.force_login(viewer())
    response = client.get(reverse("objectives:guardrails"))
    assert response.status_code == 200
    row = next(g for g in response.context["guardrails"] if g.pk == max_move.pk)
    assert (row.blocks_30d, row.warnings_30d) == (3, 1)
    assert row.last_triggered is not None
    assert b"Blocks (30 d)" in response.content and "day ago" in response.content.decode()


def test_an_unscoped_guardrail_says_it_covers_everything_its_kind_judges(client, max_move):
    guardrail_create(name="Two a week", kind="contact_cap", params={"max_per_week": 2}, severity="block")
    guardrail_create(name="No minors", kind="forbidden_audiences", params={"min_attribute": "age", "min_value": 18})
    client.force_login(viewer())
    rows = {g.name: g.scope_text for g in client.get(reverse("objectives:guardrails")).context["guardrails"]}
    assert rows["Two a week"] == "all audiences of tests"
    assert rows["No minors"] == "all campaigns and all audiences of tests"
    assert rows["Max move"] == "all campaigns"


def test_a_renamed_guardrail_keeps_the_counts_of_its_old_name(client, max_move):
    _proposal(150, verdicts=[{"name": "Max move", "kind": "x", "severity": "block", "passed": False, "message": ""}])
    guardrail_update(guardrail=max_move, name="Largest step", reason="clearer")
    client.force_login(viewer())
    row = client.get(reverse("objectives:guardrails")).context["guardrails"][0]
    assert (row.name, row.blocks_30d) == ("Largest step", 1)


def test_guardrails_that_never_fire_are_listed_as_candidates_to_retire(client, max_move):
    quiet = guardrail_create(name="Quiet", kind="cooldown", params={"days": 3}, reason="start")
    young = guardrail_create(name="Young", kind="cooldown", params={"days": 5}, reason="start")
    off = guardrail_create(name="Off", kind="cooldown", params={"days": 7}, reason="start")
    old = timezone.now() - dt.timedelta(days=120)
    Guardrail.objects.filter(pk__in=[max_move.pk, quiet.pk, off.pk]).update(created_at=old)
    guardrail_update(guardrail=off, is_active=False, reason="gone")
    _proposal(150, verdicts=[{"name": "Max move", "kind": "x", "severity": "block", "passed": False, "message": ""}])
    client.force_login(viewer())
    response = client.get(reverse("objectives:guardrails"))
    assert [g.name for g in response.context["stale"]] == ["Quiet"]
    assert young.name not in [g.name for g in response.context["stale"]]
    assert b"Candidates to retire" in response.content


def test_viewers_read_but_see_no_edit_controls(client, max_move):
    client.force_login(viewer())
    content = client.get(reverse("objectives:guardrails")).content
    assert (
        b"New guardrail" not in content
        and reverse("objectives:guardrail-edit", args=[max_move.pk]).encode() not in content
    )
    client.force_login(guardrail_admin())
    content = client.get(reverse("objectives:guardrails")).content
    assert b"New guardrail" in content and reverse("objectives:guardrail-edit", args=[max_move.pk]).encode() in content


# --- create -------------------------------------------------------------------------------


def test_an_admin_creates_a_guardrail_with_a_reason(admin_client):
    response = admin_client.post(
        reverse("objectives:guardrail-new"),
        _form(
            name="Brand floor",
            kind="budget_bounds",
            param_min="50",
            param_max="500",
            scope_type="tag",
            scope_value="brand",
        ),
    )
    guardrail = Guardrail.objects.get(name="Brand floor")
    assert response.status_code == 302 and response["Location"] == reverse("objectives:guardrail", args=[guardrail.pk])
    assert (guardrail.params, guardrail.scope) == ({"min": 50, "max": 500}, {"tag": "brand"})
    event = AuditEvent.objects.get(action="guardrail.created")
    assert (event.actor, event.reason, event.guardrail_id) == (
        admin_client.user,
        "Q4 freeze: smaller steps",
        guardrail.pk,
    )
    assert guardrail.versions.get().changed_by == admin_client.user


def test_create_refuses_a_missing_reason(admin_client):
    response = admin_client.post(reverse("objectives:guardrail-new"), _form(reason="  "))
    assert response.status_code == 422
    assert "reason" in response.context["form"].errors
    assert not Guardrail.objects.exists() and not AuditEvent.objects.exists()


def test_create_puts_the_services_validation_on_the_parameter_field(admin_client):
    response = admin_client.post(reverse("objectives:guardrail-new"), _form(param_pct="150"))
    assert response.status_code == 422
    assert response.context["form"].errors["param_pct"] == ["must be a number between 0 and 100"]
    response = admin_client.post(
        reverse("objectives:guardrail-new"), _form(kind="budget_bounds", param_min="500", param_max="50")
    )
    assert response.context["form"].errors["param_max"] == ["must be at least min (500)"]
    assert not Guardrail.objects.exists()


def test_create_refuses_a_taken_name(admin_client, max_move):
    response = admin_client.post(reverse("objectives:guardrail-new"), _form())
    assert response.status_code == 422 and "name" in response.context["form"].errors
    assert Guardrail.objects.count() == 1


def test_create_refuses_a_scope_without_a_value(admin_client):
    response = admin_client.post(reverse("objectives:guardrail-new"), _form(name="N", scope_type="channel"))
    assert response.status_code == 422 and "scope_value" in response.context["form"].errors


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_create(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("objectives:guardrail-new")).status_code == 403
    assert client.post(reverse("objectives:guardrail-new"), _form()).status_code == 403
    assert not Guardrail.objects.exists() and not AuditEvent.objects.exists()


def test_create_allows_only_get_and_post(admin_client):
    assert admin_client.put(reverse("objectives:guardrail-new")).status_code == 405
    assert admin_client.delete(reverse("objectives:guardrail-new")).status_code == 405


# --- the form switches with the kind --------------------------------------------------------


def test_the_form_switches_its_parameter_fields_with_the_kind(admin_client):
    url = reverse("objectives:guardrail-new")
    response = admin_client.get(
        url, {"kind": "brand_voice", "name": "Tone"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="kind-params"
    )
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert 'name="param_banned_phrases"' in content and 'name="param_pct"' not in content
    page = admin_client.get(url, {"kind": "min_evidence", "name": "Tone"}).content.decode()
    assert 'name="param_conversions"' in page and 'value="Tone"' in page  # the plain page keeps what was typed


def test_switching_an_existing_guardrail_to_another_kind_drops_its_old_parameters(admin_client, max_move):
    url = reverse("objectives:guardrail-edit", args=[max_move.pk])
    same = admin_client.get(url).content.decode()
    assert 'name="param_pct"' in same and 'value="30"' in same
    other = admin_client.get(url, {"kind": "cooldown"}).content.decode()
    assert 'name="param_days"' in other and 'name="param_pct"' not in other


# --- edit -------------------------------------------------------------------------------------


def test_an_admin_edits_a_guardrail_and_a_new_version_is_written(admin_client, max_move):
    response = admin_client.post(reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(version="1"))
    assert response.status_code == 302
    max_move.refresh_from_db()
    assert (max_move.params, max_move.version) == ({"pct": 10}, 2)
    version = max_move.versions.get(version=2)
    assert (version.changed_by, version.reason) == (admin_client.user, "Q4 freeze: smaller steps")
    event = AuditEvent.objects.get(action="guardrail.updated")
    assert event.machine_payload["params"] == {"pct": 30} and event.human_payload["params"] == {"pct": 10}
    assert event.reason == "Q4 freeze: smaller steps"


def test_edit_refuses_a_missing_reason(admin_client, max_move):
    response = admin_client.post(
        reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(reason="", version="1")
    )
    assert response.status_code == 422
    max_move.refresh_from_db()
    assert max_move.version == 1 and not AuditEvent.objects.filter(action="guardrail.updated").exists()


def test_edit_refuses_to_save_over_a_newer_version(admin_client, max_move):
    guardrail_update(guardrail=max_move, params={"pct": 25}, reason="someone else")
    response = admin_client.post(reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(version="1"))
    assert response.status_code == 409
    assert b"Someone saved version 2" in response.content
    max_move.refresh_from_db()
    assert (max_move.params, max_move.version) == ({"pct": 25}, 2)


def test_an_edit_that_changes_nothing_writes_no_version(admin_client, max_move):
    response = admin_client.post(
        reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(param_pct="30", version="1"), follow=True
    )
    assert b"Nothing changed" in response.content
    assert max_move.versions.count() == 1 and not AuditEvent.objects.filter(action="guardrail.updated").exists()


def test_an_edit_can_switch_an_inactive_guardrail_back_on(admin_client, max_move):
    guardrail_update(guardrail=max_move, is_active=False, reason="pause")
    admin_client.post(reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(version="2", reactivate="on"))
    max_move.refresh_from_db()
    assert max_move.is_active and max_move.version == 3


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_edit(client, max_move, make_user):
    client.force_login(make_user())
    url = reverse("objectives:guardrail-edit", args=[max_move.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _form(version="1")).status_code == 403
    max_move.refresh_from_db()
    assert max_move.version == 1 and not AuditEvent.objects.filter(action="guardrail.updated").exists()


def test_edit_allows_only_get_and_post(admin_client, max_move):
    assert admin_client.put(reverse("objectives:guardrail-edit", args=[max_move.pk])).status_code == 405


def test_editing_an_unknown_guardrail_is_a_404(admin_client):
    assert admin_client.get(reverse("objectives:guardrail-edit", args=[999])).status_code == 404


# --- history ----------------------------------------------------------------------------------


def test_the_history_shows_a_readable_diff_with_who_and_why(client, max_move):
    admin = guardrail_admin(username="grace", first_name="Grace", last_name="Hopper")
    guardrail_update(
        guardrail=max_move,
        params={"pct": 10},
        severity="warn",
        scope={"channel": "search"},
        actor=admin,
        reason="tighter",
    )
    client.force_login(viewer())
    response = client.get(reverse("objectives:guardrail", args=[max_move.pk]))
    (newest, diff), (first, first_diff) = response.context["history"]
    assert diff == ["severity: block → warn", "scope: all campaigns → channel search", "pct: 30 → 10"]
    assert first_diff == ["created"]
    content = response.content.decode()
    assert "pct: 30 → 10" in content and "Grace Hopper (grace)" in content and "tighter" in content


def test_guardrail_history_is_immutable(max_move):
    version = max_move.versions.get()
    version.reason = "rewritten"
    with pytest.raises(ImmutableRowError):
        version.save()
    with pytest.raises(ImmutableRowError):
        version.delete()
    assert GuardrailVersion.objects.get(pk=version.pk).reason == "start"


def test_an_edit_through_the_page_leaves_earlier_versions_as_they_were(admin_client, max_move):
    first = max_move.versions.get().snapshot()
    admin_client.post(reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(version="1"))
    admin_client.post(reverse("objectives:guardrail-edit", args=[max_move.pk]), _form(version="2", param_pct="5"))
    assert max_move.versions.get(version=1).snapshot() == first
    assert [v.params["pct"] for v in max_move.versions.order_by("version")] == [30, 10, 5]


# --- backtest ---------------------------------------------------------------------------------


def test_the_backtest_shows_counts_and_the_list_without_saving(admin_client, max_move):
    affected = _proposal(120)
    _proposal(105)
    url = reverse("objectives:guardrail-backtest") + f"?guardrail={max_move.pk}"
    response = admin_client.post(url, _form(reason=""), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert "This version would have blocked 1 and warned on 0 of the last 30 days&#x27; 2 proposals" in content
    assert f"#{affected.pk}" in content and "Budget moves 20% (limit 10%)" in content
    max_move.refresh_from_db()
    assert (
        max_move.version == 1
        and not AuditEvent.objects.filter(guardrail_id=max_move.pk).exclude(action="guardrail.created").exists()
    )


def test_the_backtest_works_without_javascript(admin_client, max_move):
    _proposal(120)
    url = reverse("objectives:guardrail-backtest") + f"?guardrail={max_move.pk}"
    response = admin_client.post(url, _form())
    assert response.status_code == 200 and b"<html" in response.content
    assert response.context["backtest"].blocked == 1
    invalid = admin_client.post(url, _form(param_pct="abc"))
    assert invalid.status_code == 422 and invalid.context["backtest"] is None


def test_an_invalid_backtest_says_what_to_fix(admin_client):
    response = admin_client.post(
        reverse("objectives:guardrail-backtest"), _form(param_pct="500"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and b"must be a number between 0 and 100" in response.content


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_backtest(client, make_user):
    client.force_login(make_user())
    assert client.post(reverse("objectives:guardrail-backtest"), _form()).status_code == 403


def test_the_backtest_needs_a_post(admin_client):
    assert admin_client.get(reverse("objectives:guardrail-backtest")).status_code == 405


# --- deactivate ---------------------------------------------------------------------------------


def test_an_admin_deactivates_with_a_reason_and_nothing_is_deleted(admin_client, max_move):
    response = admin_client.post(
        reverse("objectives:guardrail-deactivate", args=[max_move.pk]), {"reason": "never fires"}
    )
    assert response.status_code == 302
    max_move.refresh_from_db()
    assert not max_move.is_active and max_move.version == 2 and max_move.versions.count() == 2
    event = AuditEvent.objects.get(action="guardrail.deactivated")
    assert (event.actor, event.reason) == (admin_client.user, "never fires")


def test_deactivate_refuses_a_missing_reason(admin_client, max_move):
    response = admin_client.post(reverse("objectives:guardrail-deactivate", args=[max_move.pk]), {"reason": ""})
    assert response.status_code == 422
    max_move.refresh_from_db()
    assert max_move.is_active and not AuditEvent.objects.filter(action="guardrail.deactivated").exists()


def test_deactivating_an_inactive_guardrail_is_refused(admin_client, max_move):
    guardrail_update(guardrail=max_move, is_active=False, reason="off")
    response = admin_client.post(reverse("objectives:guardrail-deactivate", args=[max_move.pk]), {"reason": "again"})
    assert response.status_code == 409
    assert max_move.versions.count() == 2 and not AuditEvent.objects.filter(action="guardrail.deactivated").exists()


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_deactivate(client, max_move, make_user):
    client.force_login(make_user())
    response = client.post(reverse("objectives:guardrail-deactivate", args=[max_move.pk]), {"reason": "x"})
    assert response.status_code == 403
    max_move.refresh_from_db()
    assert max_move.is_active


def test_deactivate_needs_a_post(admin_client, max_move):
    assert admin_client.get(reverse("objectives:guardrail-deactivate", args=[max_move.pk])).status_code == 405
    max_move.refresh_from_db()
    assert max_move.is_active


# --- policy export and import -------------------------------------------------------------------


def test_anyone_may_export_the_policy(client, max_move):
    client.force_login(viewer())
    response = client.get(reverse("objectives:policy-export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["guardrails"][0] == {
        "name": "Max move",
        "kind": "max_budget_change_pct",
        "scope": {},
        "severity": "block",
        "params": {"pct": 30},
    }


def test_export_needs_a_get(client):
    client.force_login(viewer())
    assert client.post(reverse("objectives:policy-export")).status_code == 405


POLICY = {
    "objective": {"metric": "closed_revenue"},
    "guardrails": [{"name": "Cooldown", "kind": "cooldown", "params": {"days": 3}}],
}


def test_import_previews_then_applies_with_the_reason(admin_client, max_move):
    url = reverse("objectives:policy-import")
    preview = admin_client.post(url, {"policy_text": json.dumps(POLICY), "reason": "policy review"})
    assert preview.status_code == 200
    assert preview.context["plan"].created == ["Cooldown"] and preview.context["plan"].deactivated == ["Max move"]
    assert Guardrail.objects.filter(is_active=True).count() == 1  # a preview writes nothing
    confirm = preview.context["form"].initial
    response = admin_client.post(
        url,
        {
            "policy_text": json.dumps(POLICY),
            "reason": "policy review",
            "seen_version": confirm["seen_version"],
            "confirm": "True",
        },
    )
    assert response.status_code == 302
    assert list(Guardrail.objects.filter(is_active=True).values_list("name", flat=True)) == ["Cooldown"]
    reasons = set(AuditEvent.objects.filter(actor=admin_client.user).values_list("action", "reason"))
    assert {
        ("guardrail.created", "policy review"),
        ("guardrail.deactivated", "policy review"),
        ("objective.changed", "policy review"),
    } <= reasons


def test_a_confirmed_import_that_changes_the_objective_starts_one_run(
    admin_client, max_move, django_capture_on_commit_callbacks
):
    url = reverse("objectives:policy-import")
    preview = admin_client.post(url, {"policy_text": json.dumps(POLICY), "reason": "policy review"})
    confirmed = {"policy_text": json.dumps(POLICY), "reason": "policy review", "confirm": "True"}
    confirmed["seen_version"] = preview.context["form"].initial["seen_version"]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, confirmed)
    run = GenerationRun.objects.get()
    assert (run.metric, run.triggered_by) == ("closed_revenue", admin_client.user)


def test_import_accepts_an_uploaded_file(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("policy.json", json.dumps(POLICY).encode(), content_type="application/json")
    response = admin_client.post(reverse("objectives:policy-import"), {"policy_file": upload, "reason": "from git"})
    assert response.status_code == 200 and response.context["plan"].created == ["Cooldown"]


def test_import_refuses_a_stale_preview(admin_client, max_move):
    url = reverse("objectives:policy-import")
    preview = admin_client.post(url, {"policy_text": json.dumps(POLICY), "reason": "r"})
    guardrail_update(guardrail=max_move, params={"pct": 12}, reason="meanwhile")
    response = admin_client.post(
        url,
        {
            "policy_text": json.dumps(POLICY),
            "reason": "r",
            "seen_version": preview.context["form"].initial["seen_version"],
            "confirm": "True",
        },
    )
    assert response.status_code == 409
    assert not Guardrail.objects.filter(name="Cooldown").exists()


def test_import_reports_every_problem_in_the_file(admin_client):
    bad = {"objective": None, "guardrails": [{"name": "X", "kind": "max_budget_change_pct", "params": {"pct": 500}}]}
    response = admin_client.post(reverse("objectives:policy-import"), {"policy_text": json.dumps(bad), "reason": "r"})
    assert response.status_code == 422
    assert b"guardrails[0].params.pct: must be a number between 0 and 100" in response.content


def test_import_refuses_a_missing_reason(admin_client):
    response = admin_client.post(reverse("objectives:policy-import"), {"policy_text": json.dumps(POLICY), "reason": ""})
    assert response.status_code == 422 and not Guardrail.objects.exists()


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_may_import(client, make_user):
    client.force_login(make_user())
    url = reverse("objectives:policy-import")
    assert client.get(url).status_code == 403
    assert client.post(url, {"policy_text": json.dumps(POLICY), "reason": "r", "confirm": "True"}).status_code == 403
    assert not Guardrail.objects.exists()


def test_import_allows_only_get_and_post(admin_client):
    assert admin_client.put(reverse("objectives:policy-import")).status_code == 405


def test_the_backtest_shows_every_guardrails_totals_beside_the_versions_own(admin_client, max_move):
    proposal = _proposal(120)
    campaign = proposal.campaign
    url = reverse("objectives:guardrail-backtest") + f"?guardrail={max_move.pk}"
    content = admin_client.post(url, _form(reason=""), HTTP_HX_REQUEST="true").content.decode()
    assert "All guardrails together, with this version: 1 blocked and 0 warned; with the rules as saved today: " in (
        content
    )
    listed = content.split("backtest-all")[1]  # the listed changes name their campaigns, in dollars
    assert f"{campaign.name} daily budget: $100 → $120" in listed and campaign.external_id not in listed
