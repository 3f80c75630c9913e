"""From an allocation to reviewable proposals: pairing, impact with intervals, rationale, evidence.

Pure: takes arrays and fitted curves, returns `Draft`s; the generation service
stores them. A budget shift moves money between a handful of campaigns and is
budget-neutral on its own, so it can be approved or rejected without touching
any other proposal (see `group_moves`).

Budgets are valued at the spend they buy: a demand-limited campaign
(decisions/engine/utilization.py) spends no more than its cap whatever its
budget, so every impact is read at min(budget, cap). A cut of budget it never
spent is a *reclaim* (`split_reclaims`, `reclaim_draft`): its own kind, since
it asks the reviewer a different question (this money is idle — put it to
work?) at almost no risk, and reviewers, auto-approval and the reports can
tell it from a shift that trades one campaign's outcomes for another's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from decisions.engine.allocation import bounds_from_limits
from decisions.engine.types import Anomaly, Bounds, CurveFit
from decisions.engine.utilization import Utilization
from objectives import formatting, guardrails

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
    utilization: Utilization | None = None  # how much of its budget it spends, and what limits it


def spend_caps(views: list[CampaignView]) -> np.ndarray:
    """Per campaign, the budget beyond which it spends no more (inf where demand does not limit it)."""
    return np.array([v.utilization.spend_cap if v.utilization is not None else np.inf for v in views])


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
    # What the draft was computed from beyond the run's data window (an audience's: its test's analysis), part of
    # its idempotency key: a new analysis proposing the same change is a new proposal. "" for most drafts.
    source: str = ""


@dataclass(frozen=True)
class Group:
    """One budget-neutral shift: per campaign index, the change of its daily budget."""

    deltas: dict[int, float]

    @property
    def amount(self) -> float:
        return round(sum(d for d in self.deltas.values() if d > 0), 2)

    def receivers(self) -> list[int]:
        return sorted((i for i, d in self.deltas.items() if d > 0), key=lambda i: -self.deltas[i])

    def donors(self) -> list[int]:
        return sorted((i for i, d in self.deltas.items() if d < 0), key=lambda i: self.deltas[i])


def guardrail_bounds(
    current: np.ndarray,
    *,
    facts: list[guardrails.CampaignFacts],
    rules: list[guardrails.Rule],
    fits: list[CurveFit | None],
    max_step_pct: float,
    caps: np.ndarray | None = None,
) -> Bounds:
    """Per-campaign budget bounds from the block-level guardrails, the engine's own step limit, the data seen
    and (`caps`) what demand-limited campaigns can spend: none is raised above it."""
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
        spend_cap=caps,
    )


def group_moves(current: np.ndarray, budgets: np.ndarray, *, min_move: float, max_campaigns: int = 5) -> list[Group]:
    """Split the allocation into small budget-neutral shifts, each campaign in exactly one of them.

    Cuts and increases, largest first, are matched as a chain of flows (the
    first cut funds the first increase until one runs out, then the next …).
    Consecutive flows share a campaign, so cutting the chain at a flow splits
    it into independent shifts; a dynamic programme picks the cheapest cuts
    (least money left unmoved) that keep every shift to `max_campaigns`. A cut
    may not fall inside one campaign's run of flows, which would put that
    campaign into two proposals with conflicting targets.
    """
    groups = []
    for chain in _chains(_flows(budgets - current, min_move=min_move)):
        for run in _cheapest_cuts(chain, max_flows=max_campaigns - 1):
            deltas: dict[int, int] = {}
            for donor, receiver, cents in run:
                deltas[donor] = deltas.get(donor, 0) - cents
                deltas[receiver] = deltas.get(receiver, 0) + cents
            if sum(d for d in deltas.values() if d > 0) >= min_move * 100:
                groups.append(Group({i: d / 100 for i, d in deltas.items()}))
    return groups


def _flows(delta: np.ndarray, *, min_move: float) -> list[tuple[int, int, int]]:
    """(donor, receiver, cents) in matching order; whole cents keep every shift exactly budget-neutral."""
    donors = sorted((i for i in range(len(delta)) if delta[i] < -min_move), key=lambda i: delta[i])
    receivers = sorted((i for i in range(len(delta)) if delta[i] > min_move), key=lambda i: -delta[i])
    give = {i: -float(delta[i]) for i in donors}
    need = {i: float(delta[i]) for i in receivers}
    flows, d, r = [], 0, 0
    while d < len(donors) and r < len(receivers):
        donor, receiver = donors[d], receivers[r]
        amount = min(give[donor], need[receiver])
        cents = math.floor(amount * 100 + 1e-6)  # never move more than the allocation asked for
        if cents:
            flows.append((donor, receiver, cents))
        give[donor] -= amount
        need[receiver] -= amount
        if give[donor] <= 1e-9:
            d += 1
        if need[receiver] <= 1e-9:
            r += 1
    return flows


def _chains(flows: list) -> list[list]:
    """Consecutive flows that share a campaign; a new chain starts where a cut and an increase ran out together."""
    chains: list[list] = []
    for flow in flows:
        if chains and set(chains[-1][-1][:2]) & set(flow[:2]):
            chains[-1].append(flow)
        else:
            chains.append([flow])
    return chains


def _cheapest_cuts(flows: list, *, max_flows: int) -> list[list]:
    """Runs of at most `max_flows` consecutive flows, separated by dropped flows of least total amount."""
    m = len(flows)
    if m == 0:
        return []
    cuttable = [
        not (0 < j < m - 1 and _shared(flows[j - 1], flows[j]) == _shared(flows[j], flows[j + 1])) for j in range(m)
    ]
    limit = max_flows
    while True:
        best, back = _cut_programme(flows, cuttable, limit)
        ends = [i for i in range(m + 1) if i in best and m - i <= limit]
        if ends:
            break
        limit = m  # a campaign with very many partners cannot be split: allow a larger shift
    i = min(ends, key=lambda k: best[k])
    runs, end = [], m
    while True:
        runs.append(flows[i:end])
        if i == 0:
            break
        end, i = i - 1, back[i]
    return [run for run in reversed(runs) if run]


def _cut_programme(flows, cuttable, limit):
    """best[i]: least amount dropped so that a new run may start at flow i; back[i]: where the run before began."""
    m = len(flows)
    best, back = {0: 0.0}, {0: 0}
    for i in range(m + 1):
        if i not in best:
            continue
        for j in range(i, min(i + limit, m - 1) + 1):
            if not cuttable[j]:
                continue
            cost = best[i] + flows[j][2]
            if cost < best.get(j + 1, float("inf")):
                best[j + 1], back[j + 1] = cost, i
    return best, back


def _shared(a, b) -> int:
    return a[0] if a[0] in (b[0], b[1]) else a[1]


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
    group: Group,
    *,
    current: np.ndarray,
    fits: list[CurveFit | None],
    views: list[CampaignView],
    metric: str,
    marginal_level: float,
    weights: dict | None = None,
) -> Draft:
    order = group.donors() + group.receivers()
    targets = {i: round(float(current[i]) + group.deltas[i], 2) for i in order}
    draws = _impact_draws(order, current=current, targets=targets, fits=fits, views=views)
    expected, p_loss = impact_summary(draws, metric=metric)
    changes = [
        {
            "campaign": views[i].external_id,
            "field": "daily_budget",
            "from": round(float(current[i]), 2),
            "to": targets[i],
        }
        for i in order
    ]
    donor, receiver = group.donors()[0], group.receivers()[0]
    return Draft(
        kind="budget_shift",
        campaign=views[receiver].external_id,
        changes=changes,
        rationale=shift_rationale(
            group, current=current, fits=fits, views=views, metric=metric, expected=expected, weights=weights
        )
        + _utilization_sentences(order, views),
        expected=expected,
        p_loss=p_loss,
        evidence={
            "level": LEVEL,
            "marginal_level": round(float(marginal_level), 4),
            "curves": [curve_evidence(fits[i], views[i], float(current[i]), targets[i]) for i in order],
            **utilization_evidence(order, views),
        },
        platform_view=platform_view(views[donor], views[receiver], metric=metric, others=[views[i] for i in order]),
    )


def _impact_draws(order, *, current, targets, fits, views) -> np.ndarray:
    """Change in value/day per parameter draw, each campaign read at the spend its budget buys."""
    caps = spend_caps(views)
    return sum(fits[i].impact_draws(min(float(current[i]), caps[i]), min(float(targets[i]), caps[i])) for i in order)


def utilization_evidence(order: list[int], views: list[CampaignView]) -> dict:
    """{"utilization": {external_id: figures and sentence}} for the campaigns of a proposal that were measured."""
    found = {views[i].external_id: views[i].utilization.to_dict() for i in order if views[i].utilization is not None}
    return {"utilization": found} if found else {}


def _utilization_sentences(order: list[int], views: list[CampaignView]) -> str:
    """ " Name spent 79% of its budget on 90 of 90 days: demand-limited, a raise would not be spent." for each
    demand-limited campaign of the proposal: why it gets no raise, or why its cut costs little."""
    return "".join(
        f" {views[i].name} {views[i].utilization.sentence()}."
        for i in order
        if views[i].utilization is not None and views[i].utilization.is_demand_limited
    )


# --- reclaiming budget a campaign does not spend ---------------------------------------


def split_reclaims(current: np.ndarray, budgets: np.ndarray, caps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split an allocation into (reclaims, the rest), each as budgets, over disjoint campaigns.

    A reclaim donor is a capped campaign cut no lower than its cap: all it
    gives up is budget it does not spend. Its money goes to the increases,
    largest first, each taken whole while the reclaimed money lasts (a
    campaign in two proposals would have two conflicting targets); reclaim
    cuts are scaled down to what those increases take. When no increase fits
    whole, the largest takes all of it as a smaller raise. Everything else, cuts
    into spent budget included, stays for the ordinary shifts.
    """
    current, budgets = np.asarray(current, dtype=float), np.asarray(budgets, dtype=float)
    cut = current - budgets
    donors = np.isfinite(caps) & (cut > 1e-9) & (budgets >= caps - 0.01)
    pool = float(cut[donors].sum())
    takers = np.zeros(len(current), dtype=bool)
    taken = 0.0
    for i in np.argsort(cut, kind="stable"):  # largest increase first
        if cut[i] >= -1e-9:
            break
        if taken - cut[i] <= pool + 1e-9:
            takers[i], taken = True, taken - cut[i]
    scale = taken / pool if pool > 0 else 0.0
    targets = budgets.copy()
    if pool > 1e-9 and not takers.any() and (cut < -1e-9).any():
        # No increase is small enough to take whole: the largest takes all the idle money as a smaller raise,
        # and the rest of its raise is dropped (never split across two proposals).
        largest = int(np.argmin(cut))
        takers[largest], scale = True, 1.0
        targets[largest] = current[largest] + pool
    reclaims = np.where(donors, current - cut * scale, np.where(takers, targets, current))
    rest = np.where(donors | takers, current, budgets)
    return reclaims, rest


def reclaim_draft(
    group: Group,
    *,
    current: np.ndarray,
    fits: list[CurveFit | None],
    views: list[CampaignView],
    metric: str,
    marginal_level: float,
    weights: dict | None = None,
) -> Draft:
    """Lower demand-limited campaigns' budgets toward what they spend and move the money to campaigns that spend.

    Impact and interval are read at effective spend, so the cuts count for (about) nothing and the
    increases for what they earn.
    """
    draft = shift_draft(
        group, current=current, fits=fits, views=views, metric=metric, marginal_level=marginal_level, weights=weights
    )
    return replace(
        draft,
        kind="reclaim",
        rationale=reclaim_rationale(
            group, current=current, views=views, metric=metric, expected=draft.expected, weights=weights
        ),
    )


def reclaim_rationale(group: Group, *, current, views, metric: str, expected: dict, weights: dict | None = None) -> str:
    unit = formatting.objective_unit(metric, weights)
    donors = [
        f"{views[i].name} {views[i].utilization.sentence()}; lowering its budget from "
        f"{_money(current[i])} to {_money(current[i] + group.deltas[i])}/day keeps what it spends on 9 days in 10"
        for i in group.donors()
        if views[i].utilization is not None
    ]
    return (
        f"{'. '.join(donors)}. "
        f"Moving the {_money(group.amount)}/day {'it does' if len(donors) == 1 else 'they do'} not spend to "
        f"{_names(group.receivers(), views)}, "
        f"which spend their budgets, is expected to add {unit.amount(expected['mean'], signed=False)}/week, "
        f"{int(LEVEL * 100)}% interval {unit.amount(expected['low'], signed=False)}–"
        f"{unit.amount(expected['high'], signed=False)}; the cut itself gives up next to nothing."
    )


def _money(value: float) -> str:
    return formatting.money(value)


def _label(metric: str) -> str:
    # "pipeline", "closed revenue", "lifetime value": the metric's own short words (objectives/formatting.py).
    return formatting.metric_words(metric).short


def _per_dollar(value: float, unit: formatting.Unit, metric: str) -> str:
    """What one more dollar brings, in the objective's unit: "$0.25 pipeline", "0.031 leads"."""
    if unit.is_money:
        return f"{_money(value)} {_label(metric)}"
    return f"{value:.2g} {unit.noun}"


def shift_rationale(
    group: Group, *, current, fits, views, metric: str, expected: dict, weights: dict | None = None
) -> str:
    donor, receiver = group.donors()[0], group.receivers()[0]
    unit = formatting.objective_unit(metric, weights)
    caps = spend_caps(views)  # "today's spend": what the budget buys, for a demand-limited campaign less
    m_r = float(fits[receiver].curve.marginal(min(current[receiver], caps[receiver])))
    m_d = float(fits[donor].curve.marginal(min(current[donor], caps[donor])))
    saturated = " and is saturated" if _is_saturated(fits[donor], current[donor]) else ""
    return (
        f"{views[receiver].name} returns {_per_dollar(m_r, unit, metric)} per extra dollar at today's spend "
        f"(its marginal return); {views[donor].name} returns {_per_dollar(m_d, unit, metric)}{saturated}. "
        f"Moving {_money(group.amount)}/day from {_names(group.donors(), views)} to "
        f"{_names(group.receivers(), views)} is expected to add {unit.amount(expected['mean'], signed=False)}/week, "
        f"{int(LEVEL * 100)}% interval {unit.amount(expected['low'], signed=False)}–"
        f"{unit.amount(expected['high'], signed=False)}."
    )


def _names(indexes: list[int], views: list[CampaignView]) -> str:
    names = [views[i].name for i in indexes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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


def platform_view(
    donor: CampaignView, receiver: CampaignView, *, metric: str, others: list[CampaignView] | None = None
) -> dict:
    """The ad platforms' own view beside the objective's: would platform ROAS move money the same way?

    The summary compares the largest cut with the largest increase; the rows list every campaign of the
    shift (`others`, in the proposal's order), so the page's table leaves none of them out.
    """
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
            for v in (others or (donor, receiver))
        ],
    }


def priority(expected: dict, p_accept: float | None = None) -> float:
    """The queue's rank: expected value penalised by half its downside uncertainty (a sure gain outranks a
    lucky guess), times P(accept) once the acceptance model exists. A negative value (a pause that gives up a
    little to stop waste) is left as it is: multiplying it by an unlikely P(accept) would push it up."""
    base = expected["mean"] - 0.5 * (expected["mean"] - expected["low"])
    if p_accept is not None and base > 0:
        base *= p_accept
    return round(base, 2)


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
