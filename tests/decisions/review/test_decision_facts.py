"""One decision reads only the facts its change needs (selectors.facts_for_change), and judges exactly as before.

The touched campaigns get their full facts; the others are summed by channel and tags for the total caps.
Whatever the scope of a cap (every campaign, a channel, a tag, one campaign) and whichever campaigns are paused,
the verdicts equal those judged against every campaign's facts.
"""

from decimal import Decimal

import pytest

from decisions.models import Campaign
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    CampaignFactory(external_id="S1", channel="search", tags=["brand"], daily_budget=Decimal("300.00"))
    CampaignFactory(external_id="S2", channel="search", tags=[], daily_budget=Decimal("250.00"))
    CampaignFactory(external_id="S3", channel="search", tags=["brand", "eu"], daily_budget=Decimal("90.00"))
    CampaignFactory(external_id="P1", channel="social", tags=["eu"], daily_budget=Decimal("410.00"))
    CampaignFactory(external_id="P2", channel="social", tags=["brand"], daily_budget=Decimal("500.00"), status="paused")
    CampaignFactory(external_id="V1", channel="video", tags=[], daily_budget=Decimal("120.00"))
    for amount, scope in (
        (1600, {}),
        (700, {"channel": "search"}),
        (820, {"tag": "brand"}),
        (450, {"tag": "eu"}),
        (130, {"campaign": "V1"}),
    ):
        GuardrailFactory(kind="total_budget_cap", params={"amount": amount}, scope=scope, name=f"cap {scope}")
    GuardrailFactory(kind="max_budget_change_pct", params={"pct": 50}, name="max move")


CHANGES = [
    [{"campaign": "S2", "field": "daily_budget", "from": 250.0, "to": 320.0}],
    [{"campaign": "S3", "field": "daily_budget", "from": 90.0, "to": 40.0}],
    [
        {"campaign": "P1", "field": "daily_budget", "from": 410.0, "to": 300.0},
        {"campaign": "V1", "field": "daily_budget", "from": 120.0, "to": 230.0},
    ],
    [{"campaign": "P2", "field": "status", "from": "paused", "to": "active"}],
    [{"campaign": "S1", "field": "daily_budget", "from": 300.0, "to": 330.0}],
]


@pytest.mark.parametrize("changes", CHANGES)
def test_a_decision_judges_as_against_every_campaign(world, changes):
    kind = "resume" if changes[0]["field"] == "status" else "budget_change"
    proposal = ProposalFactory(
        campaign=Campaign.objects.get(external_id=changes[0]["campaign"]), kind=kind, changes=changes
    )
    everything = reviewing.guardrail_context()
    touched = reviewing.guardrail_context(proposals=[proposal])

    # Only the touched campaigns are there under their own ids; the others are in the sums.
    assert set(touched.campaigns) & set(everything.campaigns) == {c["campaign"] for c in changes}
    judged = reviewing.current_verdicts(proposal, context=touched)
    assert judged == reviewing.current_verdicts(proposal, context=everything)
    assert judged  # the caps in scope did judge it


def test_the_verdicts_include_a_failing_cap_either_way(world):
    proposal = ProposalFactory(
        campaign=Campaign.objects.get(external_id="S2"),
        changes=[{"campaign": "S2", "field": "daily_budget", "from": 250.0, "to": 370.0}],
    )
    failing = [v.name for v in reviewing.current_verdicts(proposal) if not v.passed]
    assert failing == ["cap {'channel': 'search'}"]


def test_without_a_rule_that_adds_up_a_scope_only_the_touched_campaigns_are_read():
    for external_id in ("A", "B", "C"):
        CampaignFactory(external_id=external_id)
    GuardrailFactory(kind="max_budget_change_pct", params={"pct": 10}, name="max move")
    proposal = ProposalFactory(
        campaign=Campaign.objects.get(external_id="A"),
        changes=[{"campaign": "A", "field": "daily_budget", "from": 100.0, "to": 130.0}],
    )
    touched = reviewing.guardrail_context(proposals=[proposal])
    assert set(touched.campaigns) == {"A"}
    judged = reviewing.current_verdicts(proposal, context=touched)
    assert [v.passed for v in judged] == [False]
    assert judged == reviewing.current_verdicts(proposal, context=reviewing.guardrail_context())
