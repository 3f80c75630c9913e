"""From an allocation to reviewable proposals: pairing, impact with intervals, rationale, evidence.

Pure: takes arrays and fitted curves, returns `Draft`s; the generation service
stores them. A budget shift pairs one campaign that gives budget with one that
takes it, so each proposal is budget-neutral on its own and can be approved
or rejected without touching any other: the largest cut funds the largest
increase, the next the next, and a remainder too small to pair is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from decisions.engine.allocation import bounds_from_limits
from decisions.engine.types import Anomaly, Bounds, CurveFit
from objectives import guardrails

DAYS_PER_WEEK = 7
LEVEL = 0.8  # the impact interval shown to reviewers
CURVE_POINTS = 25


@dataclass(frozen=True)
class CampaignView:
    """What the text and charts need to know about one campaign."""

    external_id: str
    name: str
    platform_roas: float | None = None  # platform-reported revenue per unit spend, recent weeks
    objective_per_spend: float | None = None  # objective value per unit spend, recent weeks


@dataclass(frozen=True)
class Draft:
    kind: str
    campaign: str  # the external id whose lever moves (the receiver of a shift)
    changes: list[dict]
    rationale: str
    expected: dict  # {metric, per, mean, low, high}
    p_loss: float
    evidence: dict = field(default_factory=dict)
    platform_view: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    donor: int
    receiver: int
    amount: float


def guardrail_bounds(
    current: np.ndarray,
    *,
    facts: list[guardrails.CampaignFacts],
    rules: list[guardrails.Rule],
    fits: list[CurveFit | None],
    max_step_pct: float,
) -> Bounds:
    """Per-campaign budget bounds from the block-level guardrails, the engine's own step limit and the data seen."""
    limits = [guardrails.budget_limits(f, rules) for f in facts]
    upper = np.array([high for _, high, _ in limits])
    for members, cap in guardrails.total_caps(facts, rules):
        inside = np.array([f.external_id in set(members) for f in facts])
        # A cap over some campaigns: none of them may grow past the room left under it.
        room = max(cap - float(current[inside].sum()), 0.0)
        upper = np.where(inside, np.minimum(upper, current + room), upper)
    return bounds_from_limits(
        current,
        max_change_pct=max_step_pct,
        budget_min=np.array([low for low, _, _ in limits]),
        budget_max=upper,
        seen_max=np.array([f.curve.spend_max if f is not None else np.nan for f in fits]),
    )


def pair_moves(current: np.ndarray, budgets: np.ndarray, *, min_move: float) -> list[Pair]:
    """Match cuts with increases, largest with largest, each campaign in at most one pair."""
    delta = budgets - current
    donors = sorted((i for i in range(len(delta)) if delta[i] < -min_move), key=lambda i: delta[i])
    receivers = sorted((i for i in range(len(delta)) if delta[i] > min_move), key=lambda i: -delta[i])
    pairs = []
    for donor, receiver in zip(donors, receivers, strict=False):
        amount = float(min(-delta[donor], delta[receiver]))
        if amount >= min_move:
            pairs.append(Pair(donor=donor, receiver=receiver, amount=round(amount, 2)))
    return pairs


def impact_summary(draws: np.ndarray, *, metric: str) -> tuple[dict, float]:
    """Weekly impact {metric, per, mean, low, high} and P(loss) from per-day impact draws."""
    weekly = np.asarray(draws, dtype=float) * DAYS_PER_WEEK
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(weekly, [tail, 1 - tail])
    expected = {
        "metric": metric,
        "per": "week",
        "mean": round(float(weekly.mean()), 2),
        "low": round(float(low), 2),
        "high": round(float(high), 2),
    }
    return expected, float(np.mean(weekly < 0))


def shift_draft(
    pair: Pair,
    *,
    current: np.ndarray,
    fits: list[CurveFit | None],
    views: list[CampaignView],
    metric: str,
    marginal_level: float,
) -> Draft:
    donor, receiver = pair.donor, pair.receiver
    d_from, r_from = float(current[donor]), float(current[receiver])
    d_to, r_to = round(d_from - pair.amount, 2), round(r_from + pair.amount, 2)
    draws = fits[receiver].impact_draws(r_from, r_to) + fits[donor].impact_draws(d_from, d_to)
    expected, p_loss = impact_summary(draws, metric=metric)
    changes = [
        {"campaign": views[donor].external_id, "field": "daily_budget", "from": round(d_from, 2), "to": d_to},
        {"campaign": views[receiver].external_id, "field": "daily_budget", "from": round(r_from, 2), "to": r_to},
    ]
    return Draft(
        kind="budget_shift",
        campaign=views[receiver].external_id,
        changes=changes,
        rationale=shift_rationale(pair, current=current, fits=fits, views=views, metric=metric, expected=expected),
        expected=expected,
        p_loss=p_loss,
        evidence={
            "level": LEVEL,
            "marginal_level": round(float(marginal_level), 4),
            "curves": [
                curve_evidence(fits[donor], views[donor], d_from, d_to),
                curve_evidence(fits[receiver], views[receiver], r_from, r_to),
            ],
        },
        platform_view=platform_view(views[donor], views[receiver], metric=metric),
    )


def _money(value: float) -> str:
    sign = "−" if value < 0 else ""
    amount = abs(value)
    return f"{sign}${amount:,.0f}" if amount >= 100 else f"{sign}${amount:,.2f}"


def _label(metric: str) -> str:
    return metric.replace("_", " ").replace(" value", "")


def shift_rationale(pair: Pair, *, current, fits, views, metric: str, expected: dict) -> str:
    donor, receiver = pair.donor, pair.receiver
    m_r = float(fits[receiver].curve.marginal(current[receiver]))
    m_d = float(fits[donor].curve.marginal(current[donor]))
    saturated = " and is saturated" if _is_saturated(fits[donor], current[donor]) else ""
    label = _label(metric)
    return (
        f"{views[receiver].name} returns {_money(m_r)} {label} per extra dollar at today's spend; "
        f"{views[donor].name} returns {_money(m_d)}{saturated}. "
        f"Moving {_money(pair.amount)}/day is expected to add {_money(expected['mean'])}/week, "
        f"{int(LEVEL * 100)}% interval {_money(expected['low'])}–{_money(expected['high'])}."
    )


def _is_saturated(fit: CurveFit, spend: float) -> bool:
    """Past twice the half-saturation point the curve has delivered most of what it can."""
    return spend >= 2 * fit.curve.half_saturation


def curve_evidence(fit: CurveFit, view: CampaignView, spend_from: float, spend_to: float) -> dict:
    """Points of the fitted curve with its band, for the detail chart."""
    top = max(fit.curve.spend_max, spend_from, spend_to) * 1.3
    spends = np.linspace(0.0, top, CURVE_POINTS)
    low, high = fit.value_interval(spends, level=LEVEL)
    return {
        "campaign": view.external_id,
        "name": view.name,
        "spend": [round(float(s), 2) for s in spends],
        "value": [round(float(v), 2) for v in fit.curve.value(spends)],
        "low": [round(float(v), 2) for v in low],
        "high": [round(float(v), 2) for v in high],
        "from": round(spend_from, 2),
        "to": round(spend_to, 2),
        "seen": [round(fit.curve.spend_min, 2), round(fit.curve.spend_max, 2)],
        "marginal": round(float(fit.curve.marginal(spend_from)), 4),
        "marginal_interval": [round(float(x), 4) for x in fit.marginal_interval(spend_from, level=LEVEL)],
    }


def platform_view(donor: CampaignView, receiver: CampaignView, *, metric: str) -> dict:
    """The ad platforms' own view beside the objective's: would platform ROAS move money the same way?"""
    if donor.platform_roas is None or receiver.platform_roas is None:
        return {}
    agrees = receiver.platform_roas >= donor.platform_roas
    if agrees:
        summary = f"Platform ROAS agrees: {receiver.name} {receiver.platform_roas:.1f}× vs {donor.name} "
        summary += f"{donor.platform_roas:.1f}×."
    else:
        summary = (
            f"Platform ROAS would scale {donor.name} up ({donor.platform_roas:.1f}× vs "
            f"{receiver.platform_roas:.1f}×); {_label(metric)} says cut it."
        )
    return {
        "metric": "platform_revenue",
        "disagrees": not agrees,
        "summary": summary,
        "campaigns": [
            {"campaign": v.external_id, "platform_roas": v.platform_roas, "objective_per_spend": v.objective_per_spend}
            for v in (donor, receiver)
        ],
    }


def pause_draft(
    anomaly: Anomaly, *, view: CampaignView, budget: float, metric: str, recent_value_per_day: float
) -> Draft:
    """Pause (no outcomes at all) or halve the budget (cost per outcome spiked) of an anomalous campaign.

    P(loss) is the anomaly test's p-value: the chance the streak is ordinary
    bad luck, in which case the change gives up value for nothing.
    """
    if anomaly.action == "pause":
        kind, changes = "pause", [{"campaign": view.external_id, "field": "status", "from": "active", "to": "paused"}]
        saved = budget
    else:
        kind = "budget_change"
        to = round(budget / 2, 2)
        changes = [{"campaign": view.external_id, "field": "daily_budget", "from": round(budget, 2), "to": to}]
        saved = budget - to
    rationale = (
        f"{view.name}: {anomaly.message} "
        f"{'Pausing' if kind == 'pause' else 'Halving the budget'} saves {_money(saved)}/day "
        f"({_money(saved * DAYS_PER_WEEK)}/week) until the cause is found."
    )
    # What the campaign still brings in over the anomalous days is what the change gives up, at most.
    share = 1.0 if kind == "pause" else 0.5
    lost = round(max(recent_value_per_day, 0.0) * share * DAYS_PER_WEEK, 2)
    expected = {"metric": metric, "per": "week", "mean": -lost, "low": -lost, "high": 0.0}
    return Draft(
        kind=kind,
        campaign=view.external_id,
        changes=changes,
        rationale=rationale,
        expected=expected,
        p_loss=float(min(max(anomaly.p_value, 0.0), 1.0)),
        evidence={
            "anomaly": {
                "kind": anomaly.kind,
                "days": anomaly.days,
                "expected_outcomes": round(anomaly.expected, 2),
                "observed_outcomes": round(anomaly.observed, 2),
                "p_value": anomaly.p_value,
            },
            "spend_saved_per_day": round(saved, 2),
        },
    )
