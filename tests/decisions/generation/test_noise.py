"""Less noise by design: a value floor and a P(loss) cap per proposal, every cooldown frozen, and the Runs page
and the queue saying what was left alone and what is waiting."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions.demo.seed import demo_seed
from decisions.engine import proposing
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Campaign, GenerationRun, Proposal
from decisions.review import autoapproval
from decisions.review import transitions as reviewing
from decisions.views.queue import waiting_value
from objectives import services as objective_services
from objectives.models import Guardrail, Severity
from tests.factories import ProposalFactory, marketer

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


@pytest.fixture
def world():
    # Without demand-limited campaigns: this world was picked for its small shifts, which the limits change.
    return demo_seed(n_campaigns=16, days=120, seed=3, end_date=END, limited_share=0.0).world


@pytest.fixture(autouse=True)
def no_spend_tests(settings):
    """These worlds were picked for their shifts; a spend test would hold the campaign it tests out of them (and
    is judged by its net value, not the P(loss) cap: tests/test_spend_tests_generation.py)."""
    settings.WAYPOINT_SPEND_TESTS_PER_RUN = 0


def run_engine() -> GenerationRun:
    started = generating.generation_start(force=True)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    assert started.run.status == GenerationRun.Status.SUCCEEDED, started.run.errors
    return started.run


def shift_values(run: GenerationRun) -> list[float]:
    return list(Proposal.objects.filter(run=run).values_list("expected_mean", flat=True))


# --- the value floor and the P(loss) cap in the engine ------------------------------------------


def test_the_engine_writes_no_proposal_below_the_value_floor_and_counts_it(world, settings):
    settings.WAYPOINT_MAX_PROPOSAL_P_LOSS = 1.0  # the floor alone
    floored = run_engine()
    held = floored.counts["below_value_floor"]
    assert held >= 1, "this world yields at least one small shift"
    assert all(value >= 25 for value in shift_values(floored))
    assert floored.left_alone["limits"] == {"min_weekly_value": 25.0, "max_proposal_p_loss": 1.0}

    settings.WAYPOINT_MIN_WEEKLY_VALUE = 0
    unfloored = run_engine()  # the same drafts: only the ones the floor held are new

    assert unfloored.counts["below_value_floor"] == 0
    assert len(shift_values(unfloored)) == held
    assert all(value < 25 for value in shift_values(unfloored))


def test_the_engine_writes_no_proposal_above_the_p_loss_cap_and_counts_it(world, settings):
    settings.WAYPOINT_MIN_WEEKLY_VALUE = 0
    settings.WAYPOINT_MAX_PROPOSAL_P_LOSS = 0.05
    run = run_engine()
    assert run.counts["too_likely_to_lose"] >= 1
    assert all(p_loss <= 0.05 for p_loss in Proposal.objects.filter(run=run).values_list("p_loss", flat=True))


def pause_draft(*, saved_per_day: float, p_value: float) -> proposing.Draft:
    anomaly = proposing.Anomaly(
        index=0, kind="no_outcome", days=7, expected=20.0, observed=0.0, p_value=p_value, action="pause", message="…"
    )
    view = proposing.CampaignView(external_id="C1", name="C1", platform_roas=None, objective_per_spend=None)
    return proposing.pause_draft(
        anomaly, view=view, budget=saved_per_day, metric="pipeline_value", recent_value_per_day=3
    )


def test_an_anomaly_pause_is_judged_by_the_spend_it_saves_not_by_the_value_it_gives_up():
    limits = generating.noise_limits()
    pause = pause_draft(saved_per_day=40.0, p_value=0.01)
    assert pause.expected["mean"] < 0  # gives up a little value…
    assert generating.weekly_value(pause) == 280.0  # …to save $40 a day
    assert generating._noise(pause, limits) == ""
    assert generating._noise(pause_draft(saved_per_day=3.0, p_value=0.01), limits) == "below_value_floor"
    assert generating._noise(pause_draft(saved_per_day=40.0, p_value=0.4), limits) == "too_likely_to_lose"


# --- bulk approval and auto-approval never take a proposal above the cap --------------------------


def test_bulk_approval_leaves_a_proposal_above_the_cap_even_one_made_before_the_cap_was_lowered(settings):
    risky, safe = ProposalFactory(p_loss=0.25), ProposalFactory(p_loss=0.05)
    settings.WAYPOINT_MAX_PROPOSAL_P_LOSS = 0.2

    result = reviewing.proposals_bulk_approve(proposals=[risky, safe], actor=marketer())

    assert (result.approved, result.too_likely_to_lose) == (1, 1)
    assert Proposal.objects.get(pk=risky.pk).status == Proposal.Status.PENDING


def test_the_queue_offers_no_proposal_above_the_cap_for_bulk_approval(client, settings):
    client.force_login(marketer())
    risky, safe = ProposalFactory(p_loss=0.45, priority=2), ProposalFactory(p_loss=0.05, priority=1)
    response = client.get(reverse("decisions:queue"))
    assert response.context["passing_ids"] == [safe.pk]
    assert risky.pk not in response.context["passing_ids"]


def test_the_bulk_endpoint_says_why_a_proposal_was_held(client, settings):
    client.force_login(marketer())
    risky = ProposalFactory(p_loss=0.45)
    response = client.post(reverse("decisions:bulk-approve"), {"ids": [risky.pk]}, follow=True)
    assert "1 held back: too likely to lose (above the P(loss) cap)" in response.content.decode()


def test_auto_approval_never_takes_a_proposal_above_the_cap(settings):
    objective_services.auto_approval_update(
        actor=None, reason="pilot", is_enabled=True, max_change_pct=25, max_p_loss=0.2, kinds=["budget_change"]
    )
    proposal = ProposalFactory(p_loss=0.15)
    settings.WAYPOINT_MAX_PROPOSAL_P_LOSS = 0.1

    result = autoapproval.proposals_auto_approve(proposals=[proposal])

    assert result.approved == 0
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.PENDING
    reason = autoapproval.why_not(
        policy=autoapproval.current_policy(),
        kind=proposal.kind,
        channels={"search"},
        changes=proposal.changes,
        p_loss=proposal.p_loss,
        verdicts=[],
    )
    assert reason == "P(loss) 0.15 is above the proposal cap 0.1"
    with pytest.raises(reviewing.InvalidDecision):
        reviewing.proposal_approve_by_policy(proposal=proposal, policy=autoapproval.current_policy(), verdicts=[])


# --- every cooldown freezes a campaign -------------------------------------------------------------


def test_a_warn_level_cooldown_freezes_the_campaign_so_no_proposal_carries_its_warning(world, settings):
    settings.WAYPOINT_MIN_WEEKLY_VALUE = 0
    cooldown = Guardrail.objects.get(kind="cooldown")
    assert cooldown.severity == Severity.WARN
    first = run_engine()
    touched = sorted({c["campaign"] for p in Proposal.objects.filter(run=first) for c in p.changes})
    assert touched
    # A round of approvals was applied today on these campaigns.
    Campaign.objects.filter(external_id__in=touched).update(last_changed_at=timezone.now())

    run = run_engine()

    for proposal in Proposal.objects.filter(run=run):
        assert not {c["campaign"] for c in proposal.changes} & set(touched)
        assert all(v["passed"] for v in proposal.guardrail_verdicts if v["kind"] == "cooldown")
    group = next(g for g in run.left_alone["campaigns"] if cooldown.name in g["reason"])
    assert group["count"] == len(touched)
    names = dict(Campaign.objects.filter(external_id__in=touched).values_list("external_id", "name"))
    assert {c["name"] for c in group["campaigns"]} == set(names.values())
    assert run.counts["held_back"] >= len(touched)


# --- the Runs page says what the run left alone -----------------------------------------------------


def test_the_run_page_lists_what_was_left_alone_by_reason_with_names_and_the_limits(client, world, settings):
    Campaign.objects.filter(external_id="SIM-0004").update(status=Campaign.Status.PAUSED)
    run = run_engine()
    client.force_login(marketer())

    page = client.get(reverse("decisions:run", args=[run.pk])).content.decode()

    assert "What the run left alone, and why" in page
    assert "Paused</strong>: 1 campaign" in page
    assert Campaign.objects.get(external_id="SIM-0004").name in page
    assert "below the value floor of $25.00/week" in page and "P(loss) above 30%" in page
    assert "Held back: below the value floor" in page and "below_value_floor" not in page
    assert "fit_s_total" not in page


def test_the_runs_page_shows_the_floor_and_the_cap(client, settings):
    settings.WAYPOINT_MIN_WEEKLY_VALUE = 40
    settings.WAYPOINT_MAX_PROPOSAL_P_LOSS = 0.25
    client.force_login(marketer())
    page = client.get(reverse("decisions:runs")).content.decode()
    assert "<strong>$40.00/week</strong>" in page and "<strong>25%</strong>" in page


# --- the queue says what is waiting ------------------------------------------------------------------


def test_the_queue_head_sums_the_value_waiting_and_what_expires_within_12_hours(client, django_assert_num_queries):
    now = timezone.now()
    ProposalFactory(expected_mean=1000.0, expires_at=now + dt.timedelta(hours=48))
    ProposalFactory(expected_mean=250.0, expires_at=now + dt.timedelta(hours=3))
    ProposalFactory(expected_mean=500.0, expires_at=now - dt.timedelta(hours=1))  # expired: not decidable
    ProposalFactory(expected_mean=900.0, status=Proposal.Status.APPROVED)

    with django_assert_num_queries(1):
        waiting = waiting_value(now=now)

    assert (waiting["total"], waiting["expiring"], waiting["count"]) == (1250.0, 250.0, 2)
    client.force_login(marketer())
    # The page asks for the sum once drawn (its own request, so the page never waits for it)...
    page = client.get(reverse("decisions:queue")).content.decode()
    assert f'hx-get="{reverse("decisions:queue-waiting")}"' in page
    # ...which answers it.
    answer = client.get(reverse("decisions:queue-waiting")).content.decode()
    assert "+$1,250/week</strong> of expected value waiting in 2 proposals" in answer
    assert "+$250/week of it expires within 12 hours" in answer


def test_an_empty_queue_says_nothing_about_value(client):
    client.force_login(marketer())
    assert client.get(reverse("decisions:queue-waiting")).content.decode().strip() == ""


def test_the_value_waiting_is_read_only_and_for_signed_in_users(client):
    assert client.get(reverse("decisions:queue-waiting")).status_code == 302  # to the login page
    client.force_login(marketer())
    assert client.post(reverse("decisions:queue-waiting")).status_code == 405
