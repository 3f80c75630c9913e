"""What the model that made a proposal expects from other values: the reviewer's edit, or nothing at all.

Pure: reads the curve points a proposal stored as evidence (`evidence["curves"]`: per campaign, 25
spend points with the fitted value per day and its 80% band), never refits. The outcome service
judges decisions with the same numbers, and the pages show them beside the machine's.

The weekly mean of a set of budget changes is the curve read at each change's "to" minus at its "from",
linearly between points, times seven (`estimate_per_week`); a campaign whose utilization was measured is read
at min(budget, the spend it can reach), as the engine valued it. Changes without curve points (an anomaly's
pause or halving) take the engine's expected mean, scaled by how much of the machine's move they keep.

The interval and P(loss) of a reviewer's version (`reestimate`) are approximate, in three steps:

1. Per campaign, the band's edges are read as whole curves: the move is worth between
   low(to) − low(from) and high(to) − high(from) per day. That is exact when the fit is unsure only of
   the curve's height (its ceiling), and a fair reading otherwise.
2. Campaigns are independent fits: each range is read as a normal 80% interval (half-width 1.28 σ) and
   the σ of the sum is the root of the sum of squares.
3. Calibrated on the machine's own version, whose stored figures come from the engine's posterior draws.
   The draws average over the fit's uncertainty and the stored curve is the best fit alone, so the
   curves' mean for the reviewer's version is scaled by (engine's mean ÷ curves' mean) of the machine's
   version (left as it is when that ratio is outside ½–2), and the interval's sides are the machine's,
   each scaled by σ(reviewer) ÷ σ(machine) (by 1 when the curves carry no band). Values equal to the
   machine's give back its figures exactly.

P(loss) then reads a normal distribution off the side of the interval that faces zero:
P(loss) ≈ Φ(−mean ÷ σ), σ = (mean − low) ÷ 1.28 for a gain, (high − mean) ÷ 1.28 for a loss. Read off
the engine's own intervals it gives back the engine's P(loss) to within about two points.

Measured against the engine's draws (tests/decisions/engine/test_estimates.py): 3-campaign shifts fitted
on simulated data, each edited four ways (half the move, one and a half times it, reversed, a campaign
left out). Median errors: the mean 2–4% of the interval's width, its ends 8–19%, P(loss) 2–4 points
(90th percentile 7–9 points). Without step 3 the intervals came out half as wide as the draws'.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from objectives.guardrails import fields

DAYS_PER_WEEK = 7
LEVEL = 0.8  # the band the engine stores and the interval the pages show
Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)  # 1.28: half an 80% interval, in σ
BUDGET = fields.BUDGET
# The engine's mean over the curves' for the machine's version; outside this range one of them is near zero
# and their ratio says nothing about the other version.
MIN_RATIO, MAX_RATIO = 0.5, 2.0


@dataclass(frozen=True)
class Estimate:
    """Weekly impact (mean and 80% interval) and P(loss) of one version of a proposal's changes."""

    mean: float
    low: float
    high: float
    p_loss: float
    # False: the machine's own values, so these are the engine's figures as it proposed them.
    reestimated: bool = True


def curve_value(curve: dict, spend: float) -> float:
    """The stored curve (value per day at each spend point) read at `spend`, linearly between points."""
    return _read(curve, "value", spend)


def _read(curve: dict, key: str, spend: float) -> float:
    # A budget beyond what the campaign can spend ("cap", from its measured utilization) buys nothing more.
    spend = min(float(spend), curve.get("cap") or math.inf)
    return float(np.interp(spend, curve["spend"], curve[key]))


def _curves(evidence: dict | None) -> dict[str, dict]:
    """Each campaign's stored curve, with the spend it can reach ("cap") where its utilization was measured:
    the engine valued its budgets at min(budget, that cap), so a cut of budget it never spends costs nothing."""
    caps = {key: u.get("ceiling_high") for key, u in (evidence or {}).get("utilization", {}).items()}
    return {
        c["campaign"]: {**c, "cap": caps.get(c["campaign"])}
        for c in (evidence or {}).get("curves", [])
        if c.get("spend") and c.get("value")
    }


def _key(change: dict) -> tuple[str, str]:
    """What a change moves, whatever its target: (the campaign's or the workflow's id, the field)."""
    return (change.get(fields.TARGET_KEYS[fields.target_of(change)]), change["field"])


def _on_curve(change: dict, curves: dict[str, dict]) -> dict | None:
    """The campaign's curve when this change is a budget move it can read; else None."""
    return curves.get(change.get("campaign")) if change.get("field") == BUDGET else None


def _share_of_machine_move(change: dict, machine: dict | None) -> float:
    """How much of the machine's move this change keeps: 1 = all of it, 0 = none."""
    if machine is None:
        return 0.0
    if change["field"] == BUDGET:
        move = float(machine["to"]) - float(machine["from"])
        return (float(change["to"]) - float(change["from"])) / move if move else 0.0
    return 1.0 if change["to"] == machine["to"] else 0.0


def _machine_share(changes: list[dict], *, curves: dict, machine_changes: list[dict]) -> float:
    """The part of the machine's expected mean that the changes without curve points carry."""
    machine = {_key(c): c for c in machine_changes}
    kept = sum(
        _share_of_machine_move(change, machine.get(_key(change)))
        for change in changes
        if _on_curve(change, curves) is None
    )
    return kept / max(len(machine_changes), 1)


def estimate_per_week(
    changes: list[dict], *, evidence: dict, machine_changes: list[dict], machine_mean: float
) -> float:
    """The model's weekly impact of `changes`: stored curve points where there are some, else the expected mean."""
    curves = _curves(evidence)
    by_curve = sum(
        curve_value(curve, change["to"]) - curve_value(curve, change["from"])
        for change in changes
        if (curve := _on_curve(change, curves)) is not None
    )
    fallback = machine_mean * _machine_share(changes, curves=curves, machine_changes=machine_changes)
    return round(DAYS_PER_WEEK * by_curve + fallback, 2)


def net_budget_change(changes: Iterable[dict]) -> float:
    """Σ(to − from) of the daily-budget changes, per day: 0 for a budget-neutral shift."""
    return round(sum(float(c["to"]) - float(c["from"]) for c in changes if c.get("field") == BUDGET), 2)


def same_values(changes: list[dict], machine_changes: list[dict]) -> bool:
    """Whether `changes` set every field to the machine's value (an edit that kept them all)."""
    wanted = {_key(c): c["to"] for c in machine_changes}
    chosen = {_key(c): c["to"] for c in changes}
    if chosen.keys() != wanted.keys():
        return False
    return all(same_value(key[1], chosen[key], wanted[key]) for key in wanted)


def same_value(field: str, a, b) -> bool:
    """Whether two values of a field are one: budgets to the cent (99.94 and 99.940001 are the same)."""
    if field == BUDGET:
        try:
            return round(float(a), 2) == round(float(b), 2)
        except (TypeError, ValueError):
            return False
    return a == b


# --- the interval and P(loss) of another version ----------------------------------------------------


def _sigma(low: float, high: float) -> float:
    return max(high - low, 0.0) / (2 * Z)


def _campaign_sigma(curve: dict, change: dict) -> float:
    """σ of one budget move per week, from the band's edges read as whole curves (step 1)."""
    if not curve.get("low") or not curve.get("high"):
        return 0.0
    edges = [_read(curve, key, change["to"]) - _read(curve, key, change["from"]) for key in ("low", "high")]
    mean = curve_value(curve, change["to"]) - curve_value(curve, change["from"])
    return DAYS_PER_WEEK * _sigma(min(*edges, mean), max(*edges, mean))


def _version_sigma(changes: list[dict], *, curves: dict, machine_changes: list[dict], machine_sigma: float) -> float:
    """σ of a version's weekly impact: independent campaigns on curves, the machine's σ for the rest (step 2)."""
    variance = sum(
        _campaign_sigma(curve, change) ** 2 for change in changes if (curve := _on_curve(change, curves)) is not None
    )
    share = _machine_share(changes, curves=curves, machine_changes=machine_changes)
    return math.sqrt(variance) + abs(share) * machine_sigma


def p_loss(mean: float, low: float, high: float) -> float:
    """P(impact < 0) of a normal read off the interval's side that faces zero."""
    sigma = (mean - low) / Z if mean >= 0 else (high - mean) / Z
    if sigma <= 0:
        return 1.0 if mean < 0 else 0.0
    return round(NormalDist().cdf(-mean / sigma), 4)


def reestimate(
    changes: list[dict], *, evidence: dict | None, machine_changes: list[dict], machine: Estimate
) -> Estimate:
    """The weekly impact, its 80% interval and P(loss) for `changes` instead of the machine's (step 3).

    `machine` holds the engine's own figures for its changes (the proposal's expected_* and p_loss).
    """
    if same_values(changes, machine_changes):
        return Estimate(machine.mean, machine.low, machine.high, machine.p_loss, reestimated=False)
    curves, drawn_sigma = _curves(evidence), _sigma(machine.low, machine.high)

    def curves_say(version: list[dict]) -> tuple[float, float]:
        """The version's mean and σ read off the curve points, before calibration."""
        mean = estimate_per_week(
            version, evidence=evidence or {}, machine_changes=machine_changes, machine_mean=machine.mean
        )
        return mean, _version_sigma(version, curves=curves, machine_changes=machine_changes, machine_sigma=drawn_sigma)

    (mean, sigma), (machine_mean, machine_sigma) = curves_say(changes), curves_say(machine_changes)
    ratio = machine.mean / machine_mean if machine_mean else 1.0
    mean *= ratio if MIN_RATIO <= ratio <= MAX_RATIO else 1.0
    # Curves stored without their bands say nothing about the spread: the machine's, moved to the new mean.
    scale = sigma / machine_sigma if machine_sigma > 0 else 1.0
    low, high = mean - (machine.mean - machine.low) * scale, mean + (machine.high - machine.mean) * scale
    low, high = min(low, mean), max(high, mean)
    return Estimate(round(mean, 2), round(low, 2), round(high, 2), p_loss(mean, low, high))
