"""Retraining the acceptance model from stored decisions, and using it on proposals."""

import pytest
from django_celery_beat.models import PeriodicTask

from decisions.learning import service as learning
from decisions.learning.tasks import retrain_acceptance_model
from decisions.models import AcceptanceModel, AuditEvent, Proposal, Review
from tests.factories import CampaignFactory, ProposalFactory, marketer

pytestmark = pytest.mark.django_db


def _proposal(*, channel="search", p_loss=0.1, to=120.0, status=Proposal.Status.APPROVED, **kwargs):
    campaign = CampaignFactory(channel=channel)
    changes = [{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": to}]
    return ProposalFactory(campaign=campaign, changes=changes, p_loss=p_loss, status=status, **kwargs)


def _decide(proposal, decision, *, reviewer, final_to=None, by_policy=False):
    final = [dict(c) for c in proposal.changes]
    if final_to is not None:
        final[0]["to"] = final_to
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        reviewer_label=reviewer.username if reviewer else "policy",
        decision=decision,
        final_changes=final if decision != Review.Decision.REJECTED else [],
        by_policy=by_policy,
    )


def _scripted_decisions(reviewer, n=40):
    """Risky proposals are rejected, safe ones approved; display increases are halved."""
    for i in range(n):
        risky = i % 2 == 0
        channel = "display" if i % 4 == 1 else "search"
        proposal = _proposal(channel=channel, p_loss=0.6 if risky else 0.05)
        if risky:
            _decide(proposal, Review.Decision.REJECTED, reviewer=reviewer)
        elif channel == "display":
            _decide(proposal, Review.Decision.EDITED, reviewer=reviewer, final_to=110.0)
        else:
            _decide(proposal, Review.Decision.APPROVED, reviewer=reviewer)


def test_it_stores_an_active_model_with_an_audit_event_and_rescores_pending_proposals():
    _scripted_decisions(marketer())
    safe = _proposal(p_loss=0.05, status=Proposal.Status.PENDING)
    risky = _proposal(p_loss=0.6, status=Proposal.Status.PENDING)

    model = learning.acceptance_retrain()

    assert model is not None and model.is_active
    assert model.n_decisions == 40
    assert model.params["features"] and len(model.params["coef"]) == len(model.params["features"])
    event = AuditEvent.objects.get(action="learning.retrained")
    assert event.machine_payload["n"] == 40
    assert event.machine_payload["rescored"] == 2
    assert event.machine_payload["step_factors"] == model.step_factors
    safe.refresh_from_db()
    risky.refresh_from_db()
    assert safe.p_accept is not None and risky.p_accept is not None
    assert safe.p_accept > risky.p_accept


def test_it_learns_the_display_step_reviewers_keep():
    _scripted_decisions(marketer())

    model = learning.acceptance_retrain()

    assert model.step_factors == {"budget_change|display": 0.5}
    assert learning.step_factor_for("budget_change", "display") == 0.5
    assert learning.step_factor_for("budget_change", "search") == 1.0
    [cell] = learning.step_calibration()
    assert (cell["channel"], cell["n_edits"], cell["factor"]) == ("display", 10, 0.5)


def test_it_measures_kept_steps_against_the_engines_unshortened_step():
    reviewer = marketer()
    _scripted_decisions(reviewer, n=30)
    # The engine already proposed half its step, and reviewers approved that as it was.
    for _ in range(6):
        shortened = _proposal(channel="video", evidence={"step_factor": 0.5})
        _decide(shortened, Review.Decision.APPROVED, reviewer=reviewer)

    model = learning.acceptance_retrain()

    assert model.step_factors.get("budget_change|video") is None  # six approvals as proposed are no edits
    video = [r for r in learning.decision_records() if r.channel == "video"]
    assert {r.ratio for r in video} == {0.5}


def test_it_refuses_to_train_on_fewer_than_thirty_decisions():
    _scripted_decisions(marketer(), n=29)

    assert learning.acceptance_retrain() is None
    assert not AcceptanceModel.objects.exists()
    assert not AuditEvent.objects.filter(action="learning.retrained").exists()


def test_it_leaves_auto_approvals_out_of_the_training_data():
    _scripted_decisions(marketer(), n=29)
    for _ in range(10):
        _decide(_proposal(), Review.Decision.APPROVED, reviewer=None, by_policy=True)

    assert len(learning.decision_records()) == 29
    assert learning.acceptance_retrain() is None


def test_a_new_model_replaces_the_active_one():
    _scripted_decisions(marketer())
    first = learning.acceptance_retrain()

    second = learning.acceptance_retrain()

    first.refresh_from_db()
    assert not first.is_active
    assert list(AcceptanceModel.objects.filter(is_active=True)) == [second]
    assert learning.active_acceptance() == second


def test_without_a_model_proposals_get_no_p_accept_and_full_steps():
    proposal = _proposal(status=Proposal.Status.PENDING)

    assert learning.p_accept_for(proposal) is None
    assert learning.step_factor_for("budget_shift", "display") == 1.0
    assert learning.step_calibration() == []


def test_it_scores_an_unsaved_proposal_with_the_model_passed_in():
    _scripted_decisions(marketer())
    model = learning.acceptance_retrain()
    campaign = CampaignFactory(channel="search")
    changes = [{"campaign": campaign.external_id, "field": "daily_budget", "from": 100.0, "to": 120.0}]
    draft = Proposal(kind="budget_change", campaign=campaign, changes=changes, p_loss=0.05, guardrail_verdicts=[])

    p_accept = learning.p_accept_for(draft, model=model)

    assert 0.5 < p_accept < 1.0
    assert p_accept == learning.p_accept_for(draft)


def test_the_weekly_task_retrains_and_is_scheduled_for_sunday_night():
    _scripted_decisions(marketer())

    model_id = retrain_acceptance_model.delay().get()

    assert AcceptanceModel.objects.get(pk=model_id).is_active
    task = PeriodicTask.objects.get(task="decisions.learning_tasks.retrain_acceptance_model")
    assert (task.crontab.day_of_week, task.crontab.hour, task.crontab.minute) == ("0", "23", "0")
