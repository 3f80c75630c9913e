"""The change log in words: every policy, data and access event says its object, its file or its before → after,
from the registry's describers, and rows written with fewer keys (older versions) stay readable."""

import io

import pytest
from django.urls import reverse

from decisions import access as roles
from decisions import audit
from decisions.audit import events, timeline
from decisions.audit.actions import REGISTRY, Action
from decisions.data import importing
from decisions.models import AuditEvent
from objectives import services
from objectives.models import Objective
from tests.factories import GenerationRunFactory, UserFactory, guardrail_admin, viewer

pytestmark = pytest.mark.django_db

NOT_ABOUT_A_PROPOSAL = [action for action in Action if not action.value.startswith(("proposal.", "application."))]


def last(action: str) -> AuditEvent:
    return timeline.describe(AuditEvent.objects.filter(action=action).latest("id"))


def words(action: str) -> tuple[str, list[str]]:
    event = last(action)
    return event.summary, event.details


def test_every_action_that_is_not_about_a_proposal_has_its_own_describer():
    for action in NOT_ABOUT_A_PROPOSAL:
        event = AuditEvent(action=action.value, machine_payload={}, human_payload={})
        summary, _ = REGISTRY[action].describe(event)
        assert summary, action
    # Each reads its payload: a label-only describer would say the same whatever the payload held.
    said = {action: REGISTRY[action].describe for action in NOT_ABOUT_A_PROPOSAL}
    assert len({describe.__name__ for describe in said.values()}) == len(said)


# --- guardrails ---------------------------------------------------------------------------------------------


@pytest.fixture
def display_cap():
    return services.guardrail_create(
        name="Display cap", kind="max_budget_change_pct", params={"pct": 30}, reason="start"
    )


def test_a_guardrail_change_says_which_guardrail_and_before_and_after(display_cap):
    services.guardrail_update(guardrail=display_cap, params={"pct": 25}, reason="tighter")
    assert words("guardrail.updated") == ("Guardrail “Display cap”: pct 30 → 25", [])
    services.guardrail_update(
        guardrail=display_cap, severity="warn", scope={"channel": "display"}, reason="only display"
    )
    assert words("guardrail.updated")[0] == (
        "Guardrail “Display cap”: severity block → warn, scope all campaigns → channel display"
    )


def test_a_rename_is_said_under_the_new_name(display_cap):
    services.guardrail_update(guardrail=display_cap, name="Move cap", reason="clearer")
    assert words("guardrail.updated")[0] == "Guardrail “Move cap”: name Display cap → Move cap"


def test_a_created_guardrail_says_what_it_is(display_cap):
    assert words("guardrail.created") == (
        "Guardrail “Display cap” created: Max budget change %, block, all campaigns: pct: 30",
        [],
    )


def test_a_switched_off_guardrail_says_what_it_was(display_cap):
    services.guardrail_deactivate(guardrail=display_cap, reason="season over")
    assert words("guardrail.deactivated") == (
        "Guardrail “Display cap” switched off",
        ["was Max budget change %, block, all campaigns: pct: 30"],
    )


def test_an_old_guardrail_row_with_fewer_keys_stays_readable():
    audit.record(
        action="guardrail.updated", machine_payload={"params": {"pct": 30}}, human_payload={"params": {"pct": 20}}
    )
    assert words("guardrail.updated")[0] == "A guardrail: pct 30 → 20"
    audit.record(action="guardrail.updated", reason="no payload at all")
    assert words("guardrail.updated")[0] == "A guardrail changed"


# --- objectives ----------------------------------------------------------------------------------------------


def test_an_objective_change_gives_before_and_after():
    services.objective_set(metric="pipeline_value", reason="start")
    services.objective_set(metric="closed_revenue", horizon_days=14, reason="CFO")
    assert words("objective.changed") == (
        "Objective: Pipeline value → Closed revenue, horizon 7 → 14 days",
        ["now Closed revenue, 14-day horizon"],
    )


def test_a_first_objective_a_cleared_one_and_a_restored_one():
    first = services.objective_set(metric="leads", weights={"pipeline_value": 0.3}, reason="start")
    assert words("objective.changed") == ("Objective: set to Leads + 0.3 × Pipeline value, 7-day horizon", [])
    services.objective_clear(reason="pause")
    assert words("objective.changed")[0] == "Objective: cleared (was Leads + 0.3 × Pipeline value, 7-day horizon)"
    services.objective_set(metric="clicks", reason="test")
    services.objective_restore(objective=first, reason="back")
    assert words("objective.changed")[0] == (
        "Objective (an earlier objective restored): Clicks → Leads, weights none → 0.3 × Pipeline value"
    )


def test_the_seeded_objective_says_what_it_is():
    objective = Objective.objects.create(metric="pipeline_value")
    events.objective_created(objective, label="seed_demo", reason="Demo starter objective")
    assert words("objective.created")[0] == "Objective set: Pipeline value, 7-day horizon"


def test_an_objective_row_with_an_unknown_metric_shows_it_as_stored():
    audit.record(action="objective.changed", machine_payload={"metric": "roas"}, human_payload={"metric": "leads"})
    assert words("objective.changed")[0] == "Objective: roas → Leads"


# --- auto-approval, runs, data, learning, access -----------------------------------------------------------------


def test_an_auto_approval_change_gives_its_limits_before_and_after():
    admin = guardrail_admin()
    services.auto_approval_update(
        actor=admin, reason="pilot", is_enabled=True, kinds=["budget_change"], max_change_pct=10
    )
    assert words("auto_approval.changed")[0] == (
        "Auto-approval policy v2: switched on, largest move 5% → 10%, kinds none → budget_change"
    )
    services.auto_approval_update(actor=admin, reason="stop", is_enabled=False)
    assert words("auto_approval.stopped")[0] == "Auto-approval switched off (policy v3)"


def test_engine_runs_say_which_run_and_what_it_did():
    run = GenerationRunFactory(metric="closed_revenue")
    events.generation_started(run, actor=None)
    assert words("generation.started")[0] == f"Engine run #{run.pk} started for Closed revenue, no data yet"
    events.generation_finished(run, succeeded=True, counts={"proposals": 12, "superseded": 3}, errors=[])
    assert words("generation.succeeded")[0] == f"Engine run #{run.pk} finished: 12 proposals, 3 older superseded"
    events.generation_finished(run, succeeded=False, counts={}, errors=[{"error": "ValueError: no data"}])
    assert words("generation.failed") == (f"Engine run #{run.pk} failed", ["ValueError: no data"])


def test_an_import_names_its_file_rows_and_new_campaigns():
    csv = b"date,campaign_id,spend\n2026-01-05,N1,10.00\n2026-01-06,N1,12.00\n"
    importing.import_performance(stream=io.BytesIO(csv), filename="crm.csv")
    assert words("data.imported") == ("Imported crm.csv: 2 rows, 1 new campaign", ["columns: date, campaign_id, spend"])


def test_a_large_import_and_a_simulated_one_read_well():
    audit.record(action="data.imported", human_payload={"filename": "crm.csv", "rows": 1240, "campaigns_created": 0})
    assert words("data.imported")[0] == "Imported crm.csv: 1,240 rows, 0 new campaigns"
    audit.record(
        action="data.imported",
        human_payload={"filename": "(simulated)", "rows": 28, "first": "2026-11-01", "last": "2026-11-14"},
    )
    assert words("data.imported")[0] == "Imported (simulated): 28 rows, days 2026-11-01 to 2026-11-14"


def test_a_retrained_model_says_on_how_many_decisions():
    audit.record(action="learning.retrained", machine_payload={"n": 320, "auc": 0.7234, "rescored": 45})
    assert words("learning.retrained")[0] == (
        "Acceptance model retrained on 320 decisions (AUC 0.72); 45 pending proposals re-scored"
    )


def test_a_granted_role_says_who_got_what():
    roles.role_grant(user=UserFactory(username="alice"), role=roles.MARKETER, actor=guardrail_admin())
    assert words("role.granted") == ("Granted marketer to alice", [])
    roles.role_grant(user=UserFactory(username="bo"), role=roles.GUARDRAIL_ADMIN)
    assert words("role.granted")[0] == "Granted guardrail admin to bo"


# --- the History page -----------------------------------------------------------------------------------------------


def test_the_history_page_says_the_changes_in_words(client, display_cap):
    services.guardrail_update(guardrail=display_cap, params={"pct": 25}, reason="Tighter for Q4")
    services.objective_set(metric="pipeline_value", reason="start")
    services.objective_set(metric="closed_revenue", horizon_days=14, reason="CFO")
    client.force_login(viewer())
    html = client.get(reverse("decisions:history")).content.decode()
    section = html[html.index('id="change-log"') :]
    guardrail_page = reverse("objectives:guardrail", args=[display_cap.pk])
    assert f'<a href="{guardrail_page}">Guardrail “Display cap”: pct 30 → 25</a>' in section
    assert "Objective: Pipeline value → Closed revenue, horizon 7 → 14 days" in section
    assert "<li>now Closed revenue, 14-day horizon</li>" in section
    assert "Tighter for Q4" in section
    assert "<code>guardrail.updated</code>" not in section  # the stored name is kept only as a tooltip
