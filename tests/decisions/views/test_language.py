"""One language: campaigns by name, money with its currency, counts in their own units, labels instead of codes."""

import datetime as dt
import html

import pytest
from django.template import Context, Template
from django.urls import reverse

from decisions import audit
from decisions.audit import timeline
from decisions.models import GenerationRun
from decisions.review import kinds
from decisions.review import transitions as reviewing
from objectives import guardrails
from objectives.guardrails import CampaignFacts, Change, Rule
from tests.decisions.views.review_support import HTMX, applied_proposal, url
from tests.factories import (
    CampaignFactory,
    DailyMetricFactory,
    GenerationRunFactory,
    GuardrailFactory,
    ObjectiveFactory,
    ProposalFactory,
    marketer,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def shift_across(*campaigns, **fields):
    """A budget shift from the first campaign to the others."""
    first, *others = campaigns
    cut = 10.0 * len(others)
    changes = [{"campaign": first.external_id, "field": "daily_budget", "from": 100.0, "to": 100.0 - cut}]
    changes += [{"campaign": c.external_id, "field": "daily_budget", "from": 100.0, "to": 110.0} for c in others]
    return ProposalFactory(kind=kinds.BUDGET_SHIFT.name, campaign=others[0], changes=changes, **fields)


# --- campaigns by name --------------------------------------------------------------------------------


def facts(external_id: str, name: str = "") -> CampaignFacts:
    return CampaignFacts(
        external_id=external_id, name=name, channel="search", tags=(), audience="", daily_budget=100.0, status="active"
    )


def test_guardrail_verdicts_name_campaigns_and_fall_back_to_the_id():
    rule = Rule(name="At most 10%", kind="max_budget_change_pct", params={"pct": 10})
    campaigns = {"SIM-0020": facts("SIM-0020", "Search – Brand"), "SIM-0021": facts("SIM-0021")}
    changes = [
        Change("SIM-0020", "daily_budget", 100.0, 130.0),
        Change("SIM-0021", "daily_budget", 100.0, 70.0),
    ]
    (verdict,) = guardrails.check(changes, rules=[rule], campaigns=campaigns, today=dt.date(2026, 3, 1))
    assert verdict.message == "Search – Brand: budget moves 30% (limit 10%); SIM-0021: budget moves 30% (limit 10%)"


def test_the_live_verdicts_on_a_page_name_the_campaigns(client, reviewer):
    a = CampaignFactory(name="Display – Prospecting", external_id="SIM-0028")
    b = CampaignFactory(name="Search – Brand", external_id="SIM-0020")
    proposal = shift_across(a, b)
    GuardrailFactory(name="At most 5%", kind="max_budget_change_pct", params={"pct": 5}, severity="warn")
    body = text_of(client.post(url("proposal-approve", proposal.pk), **HTMX))
    assert "Display – Prospecting: budget moves 10%" in body and "SIM-0028:" not in body


def test_a_stored_verdict_written_with_ids_is_shown_with_names(client, reviewer):
    a = CampaignFactory(name="Display – Prospecting", external_id="SIM-0028")
    b = CampaignFactory(name="Search – Brand", external_id="SIM-0020")
    verdict = {
        "name": "Cooldown",
        "kind": "cooldown",
        "severity": "warn",
        "passed": False,
        "message": "SIM-0028: last change applied today (cooldown 7 days); SIM-0020: last change applied today",
    }
    shift_across(a, b, guardrail_verdicts=[verdict])
    page = text_of(client.get(reverse("decisions:queue")))
    assert "Display – Prospecting: last change applied today (cooldown 7 days); Search – Brand: last" in page


def test_the_timeline_names_campaigns_and_prices_budgets(client, reviewer):
    campaign = CampaignFactory(name="Display – Prospecting", external_id="SIM-0028")
    proposal = ProposalFactory(
        campaign=campaign,
        changes=[{"campaign": "SIM-0028", "field": "daily_budget", "from": 79.0, "to": 57.75}],
        expected_metric="closed_revenue",
    )
    expected = {"metric": "closed_revenue", "per": "week", "mean": 160.0, "low": -20.0, "high": 340.0}
    audit.record(
        action="proposal.created",
        label="engine",
        proposal=proposal,
        machine_payload={"changes": proposal.changes, "expected": expected},
    )
    (created,) = timeline.proposal_timeline(proposal)
    assert created.details == [
        "Display – Prospecting daily budget: $79.00 → $57.75",
        "Expected +$160/week (80% range −$20.00 to +$340) of closed revenue",
    ]
    history = text_of(client.get(reverse("decisions:history")))
    assert "closed_revenue" not in history.replace('value="closed_revenue"', "")


def test_the_ledger_says_it_records_in_waypoint_only():
    proposal = applied_proposal()
    summaries = [event.summary for event in timeline.proposal_timeline(proposal)]
    assert "The change was recorded in Waypoint (ledger connector) — apply it in Google Ads by hand" in summaries
    assert not any("reached the ad platform" in summary for summary in summaries)


def test_the_webhook_says_where_it_sent_the_change():
    proposal = ProposalFactory()
    payload = {"connector": "webhook", "platform": "meta", "direction": "apply"}
    audit.record(action="application.succeeded", proposal=proposal, machine_payload=payload)
    payload = {**payload, "direction": "rollback", "platform": ""}
    audit.record(action="application.succeeded", proposal=proposal, machine_payload=payload)
    assert [e.summary for e in timeline.proposal_timeline(proposal)] == [
        "The change was sent to the ad platform's webhook (Meta Ads)",
        "The rollback was sent to the ad platform's webhook (the ad platform)",
    ]


def test_the_runs_page_names_the_campaign_a_problem_is_about(client, reviewer):
    campaign = CampaignFactory(name="Search – Brand")
    run = GenerationRunFactory(
        status=GenerationRun.Status.FAILED, errors=[{"campaign_id": campaign.pk, "error": "The fit did not converge"}]
    )
    page = text_of(client.get(reverse("decisions:run", args=[run.pk])))
    assert "Search – Brand: The fit did not converge" in page and f"campaign {campaign.pk}:" not in page


# --- units and objectives ------------------------------------------------------------------------------


def test_a_counted_objective_is_shown_in_its_own_units_never_dollars(client, reviewer):
    run = GenerationRunFactory(metric="leads")
    ProposalFactory(run=run, expected_metric="leads", expected_mean=12.0, expected_low=4.0, expected_high=20.0)
    page = text_of(client.get(reverse("decisions:queue")))
    impact = page.split('class="num impact"')[1].split("</td>")[0]
    assert "+12 leads" in impact and "+4 to +20 leads" in impact and "$" not in impact


def test_a_composite_objective_is_labelled_as_what_it_is_and_counted_in_value_points(client, reviewer):
    objective = ObjectiveFactory(metric="closed_revenue", weights={"pipeline_value": 0.3, "leads": 50}, is_active=False)
    run = GenerationRunFactory(metric="closed_revenue", objective=objective)
    ProposalFactory(run=run, expected_metric="closed_revenue", expected_mean=1234.0)
    page = text_of(client.get(reverse("decisions:queue")))
    assert "+1,234 value points" in page and "Closed revenue + 0.3 × pipeline + 50 × leads" in page
    assert "+$1,234" not in page
    runs = text_of(client.get(reverse("decisions:runs")))
    assert "Closed revenue + 0.3 × pipeline + 50 × leads" in runs


def test_the_chart_draws_the_objective_with_its_weights_on_its_own_axis(client, reviewer):
    objective = ObjectiveFactory(metric="pipeline_value", weights={"leads": 50}, is_active=False)
    run = GenerationRunFactory(metric="pipeline_value", objective=objective)
    proposal = ProposalFactory(run=run)
    DailyMetricFactory(campaign=proposal.campaign, pipeline_value=800, leads=5, platform_revenue=3000)
    page = client.get(reverse("decisions:proposal", args=[proposal.pk]))
    charts = page.context["charts"]
    assert charts["objective"] == {"label": "Pipeline value + 50 × leads", "unit": "value points", "money": False}
    (point,) = charts["campaigns"][0]["trend"]
    assert point["objective"] == 800 + 50 * 5 and point["platform_revenue"] == 3000


# --- a shift's campaigns, channels and the platform's view ----------------------------------------------


def test_a_shift_across_channels_names_them_all(client, reviewer):
    social, search, video = (CampaignFactory(channel=c) for c in ("social", "search", "video"))
    shift_across(social, search, video)
    page = text_of(client.get(reverse("decisions:queue")))
    assert "Budget shift · social, search, video" in page


def test_the_platform_table_lists_every_campaign_with_average_and_marginal_returns(client, reviewer):
    campaigns = [CampaignFactory(name=f"Campaign {n}") for n in "ABCD"]
    proposal = shift_across(
        *campaigns,
        platform_view={
            "summary": "Platform ROAS agrees.",
            "disagrees": False,
            "campaigns": [
                {"campaign": campaigns[0].external_id, "platform_roas": 3.1, "objective_per_spend": 0.59},
                {"campaign": campaigns[1].external_id, "platform_roas": 5.2, "objective_per_spend": 1.4},
            ],
        },
        evidence={
            "curves": [{"campaign": campaigns[0].external_id, "spend": [0, 1], "value": [0, 1], "marginal": 0.25}]
        },
    )
    page = client.get(reverse("decisions:proposal", args=[proposal.pk]))
    rows = page.context["platform"]["campaigns"]
    assert [row["name"] for row in rows] == ["Campaign A", "Campaign B", "Campaign C", "Campaign D"]
    assert (rows[0]["average"], rows[0]["marginal"], rows[2]["platform_roas"]) == ("$0.59", "$0.25", "—")
    body = text_of(page)
    assert "per $ spent (average)" in body and "per extra $ (marginal)" in body
    assert "marginal return: $0.25 per extra dollar at today's spend" in body


def test_the_channel_filter_offers_any_channel_once(client, reviewer):
    CampaignFactory(channel="search")
    ProposalFactory()
    page = client.get(reverse("decisions:queue")).content.decode()
    assert page.count(">Any channel</option>") == 1


# --- labels for codes -------------------------------------------------------------------------------------


def test_the_report_labels_kinds_and_reasons(client, reviewer):
    proposal = ProposalFactory()
    reviewing.proposal_reject(proposal=proposal, actor=marketer(), reason_code="too_risky")
    page = text_of(client.get(reverse("decisions:reports")))
    assert "Rejected: too risky" in page and "rejected: too_risky" not in page
    assert ">Budget change<" in page and ">budget_change<" not in page


@pytest.mark.parametrize(
    ("template", "value", "text"),
    [
        ("{{ v|kind_label }}", "budget_shift", "Budget shift"),
        ("{{ v|status_label }}", "rolled_back", "Rolled back"),
        ("{{ v|reason_label }}", "too_risky", "Too risky"),
        ("{{ v|action_label }}", "proposal.created", "Proposed by the engine"),
        ("{{ v|metric_label }}", "closed_revenue", "Closed revenue"),
        ("{{ v|guardrail_kind_label }}", "max_budget_change_pct", "Max budget change %"),
        ("{{ v|override_reason }}", "rejected: too_risky", "Rejected: too risky"),
        ("{{ v|money }}", 1234.5, "$1,234"),
        ("{{ v|signed_money }}", -12.345, "−$12.35"),
        ("{{ v|amount:'leads' }}", 12, "+12 leads"),
        ("{{ v|percent }}", 0.123, "12%"),
        ("{{ v|money }}", None, "—"),
    ],
)
def test_the_template_filters_speak_the_registries_words(template, value, text):
    rendered = Template("{% load formatting %}" + template).render(Context({"v": value}))
    assert html.unescape(rendered) == text
