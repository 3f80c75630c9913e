"""History with outcomes and the report's definitions: exits counted apart, pending shown, the policy as a
decider, campaign and channel filters, and each outcome on the page, in its CSV and at the timeline's end."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from decisions.audit import timeline
from decisions.models import Outcome, Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.decisions.reports.test_reports import auto_approve
from tests.decisions.views.test_history_views import approved, edited, expired, rejected
from tests.factories import CampaignFactory, ProposalFactory, marketer, viewer

pytestmark = pytest.mark.django_db
HISTORY = reverse("decisions:history")
CSV = reverse("decisions:history-csv")


@pytest.fixture
def as_viewer(client):
    client.force_login(viewer())
    return client


def outcome(proposal: Proposal, **fields) -> Outcome:
    today = timezone.localdate()
    values = {
        "metric": "pipeline_value",
        "days": 14,
        "window_start": today - dt.timedelta(days=14),
        "window_end": today,
        "expected_low": 300.0,
        "expected_mean": 700.0,
        "expected_high": 1100.0,
        **fields,
    }
    return Outcome.objects.create(proposal=proposal, **values)


def listed(response) -> set[int]:
    html = response.content.decode()
    return {p.pk for p in Proposal.objects.all() if f'id="proposal-{p.pk}"' in html}


# --- the summary: the report's words ----------------------------------------------------------------------


def test_superseded_and_expired_proposals_are_neither_as_proposed_nor_overrides(as_viewer):
    approved(), rejected(), expired()
    newer = ProposalFactory()
    reviewing.proposal_supersede(proposal=ProposalFactory(), by=newer)
    response = as_viewer.get(HISTORY)
    summary = response.context["summary"]
    assert (summary.left_queue, summary.decided, summary.overrides) == (4, 2, 1)
    assert summary.by_exit["expired"] == summary.by_exit["superseded"] == 1
    html = response.content.decode()
    assert "<strong>1</strong> of the 2 decisions overridden (50%)" in html
    assert html.count('<span class="badge neutral">No decision</span>') == 2
    assert html.count('<span class="badge pass">As proposed</span>') == 1


def test_the_summary_shows_what_is_still_pending(as_viewer):
    approved()
    ProposalFactory(), ProposalFactory()
    html = as_viewer.get(HISTORY).content.decode()
    assert "<strong>2</strong> still pending in the" in html
    # Asking about a decision (who, which, why) leaves the queue out.
    assert "still pending" not in as_viewer.get(HISTORY, {"decision": "approved"}).content.decode()


def test_a_summary_on_fewer_than_five_decisions_says_so(as_viewer):
    rejected()
    assert "Fewer than 5 decisions" in as_viewer.get(HISTORY).content.decode()


# --- the policy as a decider ---------------------------------------------------------------------------------


def test_history_filters_the_policys_approvals_and_shows_its_version_as_the_decider(as_viewer):
    by_policy = ProposalFactory()
    auto_approve(by_policy)
    by_person = approved()
    response = as_viewer.get(HISTORY, {"reviewer": "policy"})
    assert listed(response) == {by_policy.pk}
    html = response.content.decode()
    assert '<span class="badge auto">policy v1</span>' in html
    assert '<option value="policy" selected>Auto-approval policy</option>' in html
    assert by_person.pk not in listed(as_viewer.get(HISTORY, {"decision": "auto_approved"}))
    assert listed(as_viewer.get(HISTORY, {"decision": "auto_approved"})) == {by_policy.pk}


def test_a_person_filter_leaves_the_policys_approvals_out(as_viewer):
    maya = marketer()
    mine = approved(actor=maya)
    auto_approve(ProposalFactory())
    assert listed(as_viewer.get(HISTORY, {"reviewer": maya.pk})) == {mine.pk}


# --- campaign and channel ------------------------------------------------------------------------------------


def test_the_campaign_filter_finds_every_proposal_that_moved_it_cuts_included(as_viewer):
    donor = CampaignFactory(external_id="C-donor", channel="display")
    receiver = CampaignFactory(external_id="C-receiver")
    changes = [
        {"campaign": "C-donor", "field": "daily_budget", "from": 100.0, "to": 80.0},
        {"campaign": "C-receiver", "field": "daily_budget", "from": 100.0, "to": 120.0},
    ]
    shift = approved(kind=kinds.BUDGET_SHIFT.name, campaign=receiver, changes=changes)
    other = approved()
    assert listed(as_viewer.get(HISTORY, {"campaign": "c-donor"})) == {shift.pk}  # any case
    assert listed(as_viewer.get(HISTORY, {"campaign": "C-receiver"})) == {shift.pk}
    assert other.pk in listed(as_viewer.get(HISTORY))
    assert listed(as_viewer.get(HISTORY, {"channel": "display"})) == {shift.pk}
    assert donor.channel == "display"


def test_rows_link_to_each_campaigns_page(as_viewer):
    proposal = approved()
    campaign_url = reverse("decisions:campaign", args=[proposal.campaign.external_id])
    assert f'href="{campaign_url}"' in as_viewer.get(HISTORY).content.decode()


# --- outcomes ----------------------------------------------------------------------------------------------


def test_a_row_shows_its_verdict_and_realised_value_and_its_timeline_ends_with_it(as_viewer):
    proposal = approved()
    outcome(proposal, realised=-513.0, verdict="below")
    html = as_viewer.get(HISTORY).content.decode()
    assert '<span class="badge verdict-below" title="Worse than expected">below</span>' in html
    assert "−$513/week" in html
    assert "Outcome: −$513/week realised, below its interval (worse than expected)" in html
    assert "One 14-day outcome is noisy" in html
    assert "and its outcome" in html


def test_the_csv_appends_the_outcome_columns_at_the_end(as_viewer):
    measured, waiting = approved(), approved()
    outcome(measured, realised=812.5, verdict="hit")
    rows = list(csv.DictReader(io.StringIO(b"".join(as_viewer.get(CSV).streaming_content).decode())))
    assert list(rows[0])[-7:-4] == ["outcome", "realised_per_week", "outcome_metric"]
    assert list(rows[0])[:2] == ["proposal_id", "kind"]
    by_id = {row["proposal_id"]: row for row in rows}
    assert (by_id[str(measured.pk)]["outcome"], by_id[str(measured.pk)]["realised_per_week"]) == ("hit", "812.5")
    assert by_id[str(measured.pk)]["outcome_metric"] == "pipeline_value"
    assert (by_id[str(waiting.pk)]["outcome"], by_id[str(waiting.pk)]["realised_per_week"]) == ("", "")


def test_a_rejections_outcome_is_the_models_estimate_of_what_was_left():
    proposal = rejected()
    outcome(proposal, machine_estimate=929.0, human_estimate=0.0)
    entry = timeline.proposal_timeline(proposal)[-1]
    assert entry.is_outcome
    assert entry.summary == (
        "Outcome: nothing changed; by the model's estimate the machine's version would have made +$929/week"
    )


def test_an_outcome_that_could_not_be_measured_says_so():
    proposal = edited()
    outcome(proposal, realised=None, machine_estimate=700.0, human_estimate=350.0)
    entry = timeline.proposal_timeline(proposal)[-1]
    assert entry.summary.startswith("Outcome could not be measured")
    assert "The model's estimate of the reviewer's version: +$350/week" in entry.details


def test_the_outcome_entry_renders_with_its_verdict_badge_in_the_timeline_partial():
    proposal = approved()
    outcome(proposal, realised=900.0, verdict="hit")
    html = render_to_string("decisions/timeline.html#timeline", {"events": timeline.proposal_timeline(proposal)})
    assert 'class="timeline-event is-outcome"' in html
    assert '<span class="badge verdict-hit">hit</span>' in html


def test_a_pending_proposal_looks_up_no_outcome(django_assert_num_queries):
    proposal = ProposalFactory()
    with django_assert_num_queries(1):
        timeline.proposal_timeline(proposal)


# --- the proposal page ---------------------------------------------------------------------------------------


def test_the_proposal_page_shows_the_realised_impact_against_the_interval(as_viewer):
    proposal = approved()
    outcome(proposal, realised=1_250.0, verdict="above")
    html = as_viewer.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert 'id="outcome-title">Outcome</h2>' in html
    assert "Outcome: +$1,250/week realised, above its interval (better than expected) (+$300 to +$1,100" in html
    assert "One 14-day outcome is noisy" in html


def test_the_proposal_page_says_when_the_outcome_is_not_measured_yet(as_viewer):
    proposal = approved()
    html = as_viewer.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert "Not measured yet" in html
    pending = ProposalFactory()
    assert "Not measured yet" not in as_viewer.get(reverse("decisions:proposal", args=[pending.pk])).content.decode()
