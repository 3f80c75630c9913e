"""The queue's badges follow today's guardrails: pending proposals are re-checked after a policy change."""

import pytest
from django.urls import reverse

from decisions.models import Proposal
from decisions.review import transitions as reviewing
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory, guardrail_admin

pytestmark = pytest.mark.django_db


def a_20_percent_raise() -> Proposal:
    campaign = CampaignFactory(daily_budget=100)
    changes = [{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0}]
    return ProposalFactory(campaign=campaign, changes=changes, guardrail_verdicts=[])


def test_refresh_stores_todays_verdicts_on_pending_proposals_only():
    GuardrailFactory(name="Max move", params={"pct": 10})
    pending = a_20_percent_raise()
    decided = a_20_percent_raise()
    Proposal.objects.filter(pk=decided.pk).update(status=Proposal.Status.REJECTED)
    assert reviewing.pending_verdicts_refresh() == 1
    pending.refresh_from_db()
    (verdict,) = pending.guardrail_verdicts
    assert (verdict["name"], verdict["passed"], verdict["severity"]) == ("Max move", False, "block")
    assert Proposal.objects.get(pk=decided.pk).guardrail_verdicts == []
    assert reviewing.pending_verdicts_refresh() == 0  # nothing changed since


def test_editing_a_guardrail_on_the_page_rechecks_the_queue(client, django_capture_on_commit_callbacks):
    guardrail = GuardrailFactory(name="Max move", params={"pct": 30})
    proposal = a_20_percent_raise()
    reviewing.pending_verdicts_refresh()
    proposal.refresh_from_db()
    assert proposal.guardrail_verdicts[0]["passed"] is True
    client.force_login(guardrail_admin())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("objectives:guardrail-edit", args=[guardrail.pk]),
            {
                "name": "Max move",
                "kind": "max_budget_change_pct",
                "severity": "block",
                "scope_type": "",
                "scope_value": "",
                "param_pct": "10",
                "reason": "tighter",
                "version": guardrail.version,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal.refresh_from_db()
    assert proposal.guardrail_verdicts[0]["passed"] is False
