"""Learning from reviewers' decisions: the acceptance model and step calibration, stored and applied.

The maths is in decisions/engine/acceptance.py; this module reads decisions
from the database, stores the fitted model as an AcceptanceModel row (plain
JSON parameters, no pickle), and scores proposals with the active one.

Generation records the step factor it applied in `evidence["step_factor"]`;
the learning divides it back out, so a reviewer who accepts an already
shortened step as proposed does not teach the engine to forget the habit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.engine import acceptance, proposing
from decisions.models import AcceptanceModel, Proposal, Review

MIN_DECISIONS = 30
RESCORE_BATCH = 500
_LOAD = object()  # "look the active model up"; None means "there is none"


def window_days() -> int:
    # Habits drift: a year of decisions is enough to learn from and forgets last year's team.
    return int(getattr(settings, "WAYPOINT_ACCEPTANCE_WINDOW_DAYS", 365))


# --- reading decisions --------------------------------------------------------------


def proposal_features(proposal_like: Any, *, reviewer: str | None = None) -> dict[str, float]:
    """Acceptance features of a Proposal (saved or not) or anything with the same attributes."""
    n_warn, n_block = acceptance.failing_counts(proposal_like.guardrail_verdicts)
    campaign = getattr(proposal_like, "campaign", None)
    return acceptance.features(
        kind=proposal_like.kind,
        channel=_channel(proposal_like),
        change_pct=acceptance.change_pct(proposal_like.changes, getattr(campaign, "external_id", None)),
        p_loss=proposal_like.p_loss,
        n_warn_failing=n_warn,
        n_block_failing=n_block,
        reviewer=reviewer,
    )


def _channel(proposal_like: Any) -> str:
    channel = getattr(proposal_like, "channel", None)
    if channel is None:
        campaign = getattr(proposal_like, "campaign", None)
        channel = getattr(campaign, "channel", "") if campaign is not None else ""
    return channel or ""


def applied_step_factor(proposal: Proposal) -> float:
    try:
        return float((proposal.evidence or {}).get("step_factor", 1.0)) or 1.0
    except (TypeError, ValueError):
        return 1.0


def decision_records(since: dt.datetime | None = None) -> list[acceptance.Decision]:
    """Human decisions (auto-approvals by policy excluded: nobody decided them), oldest first."""
    reviews = Review.objects.filter(by_policy=False).select_related("proposal__campaign").order_by("created_at", "pk")
    if since is not None:
        reviews = reviews.filter(created_at__gte=since)
    return [_record(review) for review in reviews.iterator(chunk_size=2000)]


def _record(review: Review) -> acceptance.Decision:
    proposal = review.proposal
    accepted = review.decision != Review.Decision.REJECTED
    edited = review.decision == Review.Decision.EDITED
    reviewer = str(review.reviewer_id) if review.reviewer_id else review.reviewer_label
    return acceptance.Decision(
        features=proposal_features(proposal, reviewer=reviewer),
        accepted=accepted,
        at=(review.created_at, review.pk),
        kind=proposal.kind,
        channel=_channel(proposal),
        edited=edited,
        ratio=_kept_share(review, proposal) if accepted else None,
    )


def _kept_share(review: Review, proposal: Proposal) -> float | None:
    if acceptance.change_ratio(proposal.changes, proposal.changes) is None:
        return None  # no budget move (a pause): no step to shrink
    if review.decision != Review.Decision.EDITED:
        return applied_step_factor(proposal)
    kept = acceptance.change_ratio(proposal.changes, review.final_changes)
    # Measured against the engine's own, unshortened step.
    return None if kept is None else kept * applied_step_factor(proposal)


# --- retraining ------------------------------------------------------------------------


def acceptance_retrain(*, now: dt.datetime | None = None) -> AcceptanceModel | None:
    """Fit on the recent human decisions, make it the only active model, rescore pending proposals.

    None (and nothing written) with fewer than MIN_DECISIONS decisions: a
    handful of reviews would give the queue confident-looking noise.
    """
    now = now or timezone.now()
    records = decision_records(since=now - dt.timedelta(days=window_days()))
    if len(records) < MIN_DECISIONS:
        return None
    fitted = acceptance.fit(records)
    cells = acceptance.step_cells(records)
    factors = {c.key: c.factor for c in cells if c.factor is not None}
    evaluation = fitted.evaluation
    with transaction.atomic():
        AcceptanceModel.objects.filter(is_active=True).update(is_active=False)
        model = AcceptanceModel.objects.create(
            n_decisions=len(records),
            auc=evaluation.auc if evaluation else None,
            brier=evaluation.brier if evaluation else None,
            params={
                **fitted.to_params(),
                "evaluation": _evaluation_json(evaluation),
                "step_cells": [_cell_json(c) for c in cells],
            },
            step_factors=factors,
            is_active=True,
        )
        rescored = rescore_pending(model=model)
        audit_events.learning_retrained(model, rescored=rescored)
    return model


def _evaluation_json(evaluation: acceptance.Evaluation | None) -> dict:
    if evaluation is None:
        return {}
    return {
        "n_train": evaluation.n_train,
        "n_test": evaluation.n_test,
        "auc": evaluation.auc,
        "auc_with_reviewer": evaluation.auc_with_reviewer,
        "brier": evaluation.brier,
        "base_rate": evaluation.base_rate,
        "reliability": [vars(b) for b in evaluation.reliability],
    }


def _cell_json(cell: acceptance.StepCell) -> dict:
    kind, channel = cell.key.split("|", 1)
    return {
        "kind": kind,
        "channel": channel,
        "n_accepted": cell.n_accepted,
        "n_edits": cell.n_edits,
        "median_kept": cell.median_kept,
        "factor": cell.factor,
    }


def rescore_pending(*, model: AcceptanceModel) -> int:
    """Write the model's P(accept) onto every pending proposal, in batches."""
    pending = Proposal.objects.filter(status=Proposal.Status.PENDING).select_related("campaign").order_by("pk")
    batch, count = [], 0
    for proposal in pending.iterator(chunk_size=RESCORE_BATCH):
        proposal.p_accept = round(acceptance.score(model.params, proposal_features(proposal)), 4)
        proposal.priority = proposing.priority(_expected(proposal), proposal.p_accept)
        batch.append(proposal)
        if len(batch) >= RESCORE_BATCH:
            count += _save_scores(batch)
            batch = []
    return count + _save_scores(batch)


def _expected(proposal: Proposal) -> dict:
    return {"mean": proposal.expected_mean, "low": proposal.expected_low}


def _save_scores(batch: list[Proposal]) -> int:
    if batch:
        Proposal.objects.bulk_update(batch, ["p_accept", "priority"])
    return len(batch)


# --- using the model --------------------------------------------------------------------


def active_acceptance() -> AcceptanceModel | None:
    # Newest first: should two retrains ever overlap, the later fit wins.
    return AcceptanceModel.objects.filter(is_active=True).order_by("-fitted_at", "-pk").first()


def p_accept_for(proposal_like: Any, *, model: AcceptanceModel | None | object = _LOAD) -> float | None:
    """P(accept) for a proposal about to be shown; None until a model has been trained.

    `proposal_like` needs kind, changes, p_loss, guardrail_verdicts and a
    channel (its own `channel`, or `campaign.channel`). Pass `model=` when
    scoring many, so the active model is read once.
    """
    model = active_acceptance() if model is _LOAD else model
    if model is None:
        return None
    return round(acceptance.score(model.params, proposal_features(proposal_like)), 4)


def step_factor_for(kind: str, channel: str, *, model: AcceptanceModel | None | object = _LOAD) -> float:
    """The share of its own step the engine should propose for this kind and channel (1.0 = unchanged)."""
    model = active_acceptance() if model is _LOAD else model
    if model is None:
        return 1.0
    return float((model.step_factors or {}).get(acceptance.step_key(kind, channel), 1.0))


def step_calibration(model: AcceptanceModel | None = None) -> list[dict]:
    """For the weekly report: per kind and channel, what reviewers kept and the step the engine now proposes."""
    model = model or active_acceptance()
    if model is None:
        return []
    return [cell for cell in model.params.get("step_cells", []) if cell.get("factor") is not None]
