"""Reads behind the review queue: ranking, expiry, capped counts, guardrail filters and trend."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from decisions.models import Application, Proposal
from decisions.review import selectors
from tests.factories import CampaignFactory, DailyMetricFactory, ProposalFactory

pytestmark = pytest.mark.django_db


def verdict(severity: str, passed: bool) -> dict:
    return {"name": f"{severity} rule", "kind": "cooldown", "severity": severity, "passed": passed, "message": "m"}


def test_the_queue_holds_decidable_pending_proposals_best_first():
    now = timezone.now()
    second = ProposalFactory(priority=5)
    first = ProposalFactory(priority=50, expires_at=now + dt.timedelta(hours=1))
    tie = ProposalFactory(priority=5)
    ProposalFactory(priority=99, expires_at=now - dt.timedelta(seconds=1))
    ProposalFactory(priority=99, status=Proposal.Status.APPROVED)
    assert list(selectors.queue_proposals(now=now)) == [first, second, tie]


def test_the_queue_leaves_the_heavy_columns_unread():
    ProposalFactory(evidence={"curves": [{"spend": list(range(100))}]})
    proposal = selectors.queue_proposals().get()
    assert {"evidence", "platform_view", "rationale"} <= proposal.get_deferred_fields()


def test_the_count_stops_at_the_cap():
    for _ in range(7):
        ProposalFactory()
    queryset = selectors.queue_proposals()
    assert selectors.capped_count(queryset, cap=10) == 7
    assert selectors.capped_count(queryset, cap=5) == 6  # "more than 5"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("pass", {"clean", "passing"}), ("warn", {"warned"}), ("block", {"blocked", "both"}), ("", None)],
)
def test_guardrail_status_reads_the_stored_verdicts(status, expected):
    rows = {
        "clean": ProposalFactory(guardrail_verdicts=[]),
        "passing": ProposalFactory(guardrail_verdicts=[verdict("block", True), verdict("warn", True)]),
        "warned": ProposalFactory(guardrail_verdicts=[verdict("block", True), verdict("warn", False)]),
        "blocked": ProposalFactory(guardrail_verdicts=[verdict("block", False)]),
        "both": ProposalFactory(guardrail_verdicts=[verdict("warn", False), verdict("block", False)]),
    }
    found = selectors.filter_by_guardrail_status(Proposal.objects.all(), status)
    names = {name for name, proposal in rows.items() if proposal in found}
    assert names == (expected if expected is not None else set(rows))


def test_campaign_names_fall_back_to_the_id():
    CampaignFactory(external_id="A", name="Alpha")
    CampaignFactory(external_id="B", name="")
    assert selectors.campaign_names(["A", "B", "missing"]) == {"A": "Alpha", "B": "B"}
    assert selectors.campaign_names([]) == {}


def test_the_trend_is_the_last_28_days_with_gaps_kept():
    campaign = CampaignFactory(external_id="T")
    other = CampaignFactory(external_id="U")
    end = dt.date(2026, 3, 31)
    for days_ago in range(40):
        DailyMetricFactory(campaign=campaign, date=end - dt.timedelta(days=days_ago), spend=Decimal(days_ago))
    DailyMetricFactory(campaign=other, date=end, pipeline_value=None)
    trend = selectors.daily_trend(external_ids=["T", "U", "T"])
    assert list(trend) == ["T", "U"]
    assert len(trend["T"]) == 28
    assert trend["T"][0]["date"] == "2026-03-04" and trend["T"][-1] == {**trend["T"][-1], "date": "2026-03-31"}
    assert trend["T"][-1]["spend"] == 0.0
    assert trend["U"][0]["pipeline_value"] is None  # not reported is not zero


def test_the_trend_of_campaigns_without_data_is_empty():
    CampaignFactory(external_id="N")
    assert selectors.daily_trend(external_ids=["N"]) == {"N": []}


def test_a_failed_outbox_row_is_the_one_a_row_shows_even_when_another_platform_s_is_newer():
    proposal = ProposalFactory(status=Proposal.Status.FAILED)
    failed = Application.objects.create(
        proposal=proposal, platform="meta", status=Application.Status.FAILED, idempotency_key="k-meta"
    )
    Application.objects.create(
        proposal=proposal, platform="google_ads", status=Application.Status.SUCCEEDED, idempotency_key="k-google"
    )
    assert selectors.latest_application(proposal) == failed
    failed.delete()
    assert selectors.latest_application(proposal).platform == "google_ads"
