"""Every table of the report adds up, and History counts the same days the same way.

Two weeks are checked: the hand-scripted one of test_reports.py, and weeks generated at random (seeded)
through the real services — approvals, edits, rejections, approvals over a warning, rollbacks, expiries,
supersessions, the policy's approvals, proposals left pending, and budget shifts across channels.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions import audit
from decisions.models import Application, Proposal
from decisions.reports import weekly as reports
from decisions.review import attribution, kinds
from decisions.review import transitions as reviewing
from tests.decisions.reports.test_reports import _apply, auto_approve, script_week
from tests.factories import CampaignFactory, GuardrailFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db

CHANNELS = ("search", "social", "display")
FATES = ("approve", "edit", "reject", "warn", "rollback", "expire", "supersede", "auto", "pending")


def _created(proposal: Proposal) -> Proposal:
    audit.record(action="proposal.created", label="engine", proposal=proposal, machine_payload={})
    return proposal


def _change(campaign, to: float) -> dict:
    return {"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}


def _proposal(rng: random.Random, campaigns: list, **kwargs) -> Proposal:
    """A budget change, or (one in three) a shift between two campaigns, maybe across channels."""
    if rng.random() < 1 / 3:
        donor, receiver = rng.sample(campaigns, 2)
        changes = [_change(donor, 80.0), _change(receiver, 120.0)]
        return _created(ProposalFactory(kind=kinds.BUDGET_SHIFT.name, campaign=receiver, changes=changes, **kwargs))
    campaign = rng.choice(campaigns)
    return _created(ProposalFactory(campaign=campaign, changes=[_change(campaign, 104.0)], **kwargs))


def generate_week(seed: int, proposals: int = 40) -> dict:
    """A week of work made through the services; returns how many of each fate were dealt."""
    rng = random.Random(seed)
    people = [marketer(username=f"m{seed}-{i}") for i in range(3)]
    campaigns = [CampaignFactory(channel=CHANNELS[i % 3], external_id=f"G{seed}-{i}") for i in range(6)]
    GuardrailFactory(name=f"Warn {seed}", severity="warn", params={"pct": 1}, scope={"campaign": "none"})
    dealt = dict.fromkeys(FATES, 0)
    for _ in range(proposals):
        fate = rng.choice(FATES)
        dealt[fate] += 1
        who = rng.choice(people)
        if fate == "expire":
            _proposal(rng, campaigns, expires_at=timezone.now() - dt.timedelta(seconds=1))
            continue
        proposal = _proposal(rng, campaigns)
        if fate == "approve":
            reviewing.proposal_approve(proposal=proposal, actor=who)
        elif fate == "edit":
            final = [{**c, "to": c["to"] - 1 if c["to"] > 100 else c["to"] + 1} for c in proposal.changes]
            reviewing.proposal_edit_and_approve(proposal=proposal, actor=who, final_changes=final, note="smaller")
        elif fate == "reject":
            reviewing.proposal_reject(proposal=proposal, actor=who, reason_code=rng.choice(["brand", "timing"]))
        elif fate == "warn":
            _approve_over_a_warning(proposal, who, seed)
        elif fate == "rollback":
            reviewing.proposal_approve(proposal=proposal, actor=who)
            _apply(proposal)
            proposal.refresh_from_db()
            reviewing.proposal_rollback(proposal=proposal, actor=who, reason="spend spiked")
            _apply(proposal, direction=Application.Direction.ROLLBACK)  # budgets back where proposals start
        elif fate == "supersede":
            newer = _proposal(rng, campaigns)
            dealt["pending"] += 1  # the newer one waits
            reviewing.proposal_supersede(proposal=proposal, by=newer)
        elif fate == "auto":
            auto_approve(proposal)
    reviewing.proposal_expire_due()
    return dealt


def _approve_over_a_warning(proposal: Proposal, who, seed: int) -> None:
    from objectives.models import Guardrail

    warning = Guardrail.objects.filter(name=f"Warn {seed}")
    warning.update(scope={"campaign": proposal.changes[0]["campaign"]})
    reviewing.proposal_approve(proposal=proposal, actor=who, confirm_warnings=True)
    warning.update(scope={"campaign": "none"})


def assert_every_table_adds_up(report: dict) -> None:
    counts, flow, by = report["counts"], report["flow"], report["override_rate_by"]
    assert flow["created"] == flow["decided"] + flow["expired"] + flow["superseded"] + flow["pending"]
    assert flow["created"] == counts["created"]
    assert counts["decisions"] == (
        counts["approved_as_proposed"] + counts["edited"] + counts["rejected"] + counts["auto_approved"]
    )
    assert counts["reviewed"] == counts["approved_as_proposed"] + counts["edited"] + counts["rejected"]
    assert sum(row["decisions"] for row in by["reviewer"]) == counts["reviewed"]
    assert sum(row["decisions"] for row in by["kind"]) == counts["decisions"]
    assert sum(row["decisions"] for row in by["channel"]) == counts["decisions"]
    assert sum(row["overrides"] for row in by["kind"]) == counts["overrides"]
    assert sum(row["overrides"] for row in by["channel"]) == counts["overrides"]
    assert sum(row["overrides"] for row in by["reason"]) == counts["overrides"]
    assert counts["overrides"] <= counts["decisions"]
    assert report["trend"][-1]["decisions"] == counts["decisions"]
    assert report["trend"][-1]["overrides"] == counts["overrides"]
    outcomes = report["outcomes"]
    assert outcomes["followed"]["decisions"] == counts["approved_as_proposed"] + counts["auto_approved"]
    assert outcomes["overridden"]["decisions"] == counts["edited"] + counts["rejected"]


def history_summary_for(client, week: str) -> dict:
    """History's summary for the report's days, read from the page's own counts."""
    start, end = reports.week_bounds(week)
    days = {"date_from": start.date().isoformat(), "date_to": (end.date() - dt.timedelta(days=1)).isoformat()}
    response = client.get(reverse("decisions:history"), days)
    return response.context["summary"]


def assert_history_agrees(summary, report: dict) -> None:
    counts, flow = report["counts"], report["flow"]
    assert summary.by_exit == {
        "approved": counts["approved_as_proposed"],
        "edited": counts["edited"],
        "rejected": counts["rejected"],
        "auto_approved": counts["auto_approved"],
        "expired": counts["expired_unreviewed"],
        "superseded": counts["superseded"],
    }
    assert summary.decided == counts["decisions"]
    assert summary.overrides == counts["overrides"]
    assert summary.pending == flow["pending"]


def test_the_scripted_week_adds_up_and_history_agrees(client):
    scripted = script_week()
    report = reports.weekly_report(scripted.week)
    assert_every_table_adds_up(report)
    client.force_login(viewer())
    assert_history_agrees(history_summary_for(client, scripted.week), report)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_week_adds_up_and_history_agrees(client, seed):
    dealt = generate_week(seed)
    report = reports.weekly_report(reports.iso_week())
    assert_every_table_adds_up(report)
    counts = report["counts"]
    # What was dealt is what was counted: the report reads the log, not the dealer's notes.
    assert counts["decisions"] == sum(dealt[f] for f in ("approve", "edit", "reject", "warn", "rollback", "auto"))
    assert counts["overrides"] == dealt["edit"] + dealt["reject"] + dealt["warn"] + dealt["rollback"]
    assert (counts["expired_unreviewed"], counts["superseded"]) == (dealt["expire"], dealt["supersede"])
    assert report["flow"]["pending"] == dealt["pending"]
    client.force_login(viewer())
    assert_history_agrees(history_summary_for(client, report["week"]), report)
    csv_lines = b"".join(client.get(reverse("decisions:report-csv"), {"week": report["week"]}).streaming_content)
    assert len(csv_lines.decode().splitlines()) == 1 + counts["decisions"]


def test_a_budget_shift_counts_under_the_channel_it_takes_money_from_everywhere(client):
    display = CampaignFactory(channel="display", external_id="D-1")
    search = CampaignFactory(channel="search", external_id="S-1")
    shift = _created(
        ProposalFactory(
            kind=kinds.BUDGET_SHIFT.name, campaign=search, changes=[_change(display, 70.0), _change(search, 130.0)]
        )
    )
    reviewing.proposal_approve(proposal=shift, actor=marketer())
    report = reports.weekly_report(reports.iso_week())
    assert [(row["key"], row["decisions"]) for row in report["override_rate_by"]["channel"]] == [("display", 1)]
    client.force_login(viewer())
    history = reverse("decisions:history")
    assert client.get(history, {"channel": "display"}).context["summary"].decided == 1
    assert client.get(history, {"channel": "search"}).context["summary"].decided == 0
    assert "first campaign a proposal changes" in attribution.CHANNEL_DEFINITION
    assert attribution.CHANNEL_DEFINITION in client.get(reverse("decisions:reports")).content.decode()


def test_a_rollback_counts_against_the_approval_it_reverses_once(client):
    proposal = _created(ProposalFactory())
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    _apply(proposal)
    proposal.refresh_from_db()
    reviewing.proposal_rollback(proposal=proposal, actor=marketer(), reason="too much")
    _apply(proposal, direction=Application.Direction.ROLLBACK)
    report = reports.weekly_report(reports.iso_week())
    assert (report["counts"]["decisions"], report["counts"]["overrides"], report["counts"]["rolled_back"]) == (1, 1, 1)
    assert report["override_rate_by"]["reason"] == [{"key": "approved, later rolled back", "overrides": 1, "rate": 1.0}]
