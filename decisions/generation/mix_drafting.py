"""channel_shift proposals: when the objective's attribution is the channel mix, budget-neutral moves between
channels from the mix model's curves, spread over each channel's campaigns in proportion to their budgets.

Every block-level guardrail bounds the move before it is made: a campaign the engine may not touch (cooldown,
thin evidence, paused, moved by another proposal of this run, held by data health) keeps its budget, and each
campaign stays inside its own limits (change cap, bounds, protection), so a channel can move only as far as its
movable campaigns can. The moves are read in the model's unit (spend per period) and written as daily budgets,
through each channel's ratio of spend to budget.
"""

from __future__ import annotations

import math

import numpy as np
from django.conf import settings

from decisions.data.mix_inputs import read_mix
from decisions.engine import proposing
from decisions.engine.mix import Interval
from decisions.engine.mix_allocation import ChannelPlan, plan_shifts
from decisions.models import Campaign
from objectives import formatting, guardrails

KIND = "channel_shift"
MAX_CHANGE_PCT = 30.0  # per channel per proposal, before the campaigns' own guardrail limits


def channel_shift_drafts(ctx, anomalies: dict) -> list[proposing.Draft]:
    objective = ctx.run.objective
    if objective is None or getattr(objective, "attribution", "campaign") != "mix":
        return []
    reading = read_mix(ctx.run.metric)
    if reading.fit is None or reading.status == "FAIL":
        return []
    members = _movable_campaigns(ctx, anomalies, reading.fit.channels)
    budgets = {i: float(ctx.current[i]) for i in range(len(ctx.campaigns))}
    plan = _plan(reading, members, budgets)
    if plan is None:
        return []
    changes = _campaign_changes(ctx, reading, members, plan, budgets)
    if not changes:
        return []
    return [_draft(ctx, reading, _as_written(ctx, reading, members, budgets, changes), changes)]


def _movable_campaigns(ctx, anomalies, channels) -> dict[str, list[tuple[int, float, float]]]:
    """Per channel: (campaign index, lowest, highest daily budget) of the campaigns a proposal may move."""
    names = {c.channel for c in channels}
    found: dict[str, list] = {name: [] for name in names}
    moved = getattr(ctx, "moved", set())
    for i, campaign in enumerate(ctx.campaigns):
        channel = (campaign.channel or "").strip()
        facts = ctx.facts.get(campaign.external_id)
        if channel not in names or facts is None or campaign.status != Campaign.Status.ACTIVE:
            continue
        if campaign.external_id in moved or campaign.pk in anomalies:
            continue
        if not guardrails.may_propose(facts, ctx.rules, today=ctx.today)[0]:
            continue
        low, high, _ = guardrails.budget_limits(facts, ctx.rules)
        found[channel].append((i, float(low), float(high)))
    return found


def _plan(reading, members, budgets):
    """The channel moves in spend per period, each channel bounded by what its movable campaigns may do."""
    fit, period_days = reading.fit, reading.inputs.period_days
    lower, upper = [], []
    for channel in fit.channels:
        found = members[channel.channel]
        per_budget = _spend_per_budget(channel, found, budgets, period_days) * period_days
        room_down = sum(budgets[i] - low for i, low, _ in found)
        room_up = sum(high - budgets[i] for i, _, high in found)
        lower.append(channel.current_spend - room_down * per_budget)
        upper.append(channel.current_spend + room_up * per_budget)
    plan = plan_shifts(fit.channels, max_change_pct=MAX_CHANGE_PCT, lower=np.array(lower), upper=np.array(upper))
    min_move = float(getattr(settings, "WAYPOINT_MIN_MOVE", 5.0))
    if plan.moved / period_days < min_move or plan.gain.mean <= 0:
        return None
    return plan


def _spend_per_budget(channel, members, budgets, period_days) -> float:
    """How much of a dollar of daily budget the channel spends: recent spend per day ÷ its campaigns' budgets."""
    budget = sum(budgets[i] for i, _, _ in members)
    per_day = channel.current_spend / period_days
    return min(max(per_day / budget, 0.2), 1.5) if budget > 0 else 1.0


def _campaign_changes(ctx, reading, members, plan, budgets) -> list[dict]:
    period_days = reading.inputs.period_days
    changes = []
    for c, channel in enumerate(reading.fit.channels):
        delta_spend = plan.proposed[c] - plan.current[c]
        if abs(delta_spend) < 1e-9 or not members[channel.channel]:
            continue
        ratio = _spend_per_budget(channel, members[channel.channel], budgets, period_days)
        delta_budget = delta_spend / period_days / ratio
        changes += _spread(ctx, members[channel.channel], delta_budget)
    return _balanced(changes)


def _spread(ctx, members, delta: float) -> list[dict]:
    """Share a channel's change of daily budget over its campaigns by budget, each within its limits."""
    budgets = {i: float(ctx.current[i]) for i, _, _ in members}
    total = sum(budgets.values()) or 1.0
    out = []
    for i, low, high in members:
        to = _toward_today(budgets[i], min(max(budgets[i] + delta * budgets[i] / total, low), high) - budgets[i])
        if abs(to - budgets[i]) >= 0.01:
            campaign = ctx.campaigns[i].external_id
            out.append(
                {"campaign": campaign, "field": "daily_budget", "from": round(budgets[i], 2), "to": round(to, 2)}
            )
    return out


def _balanced(changes: list[dict]) -> list[dict]:
    """Budget-neutral in daily budgets: channels turn spend into budget at different rates and campaigns stop at
    their limits, so the larger side (raises or cuts) is scaled down to the smaller, toward today's budgets (inside
    every limit still); the cent left by rounding goes to the largest raise."""
    ups = [ch for ch in changes if ch["to"] > ch["from"]]
    downs = [ch for ch in changes if ch["to"] < ch["from"]]
    if not ups or not downs:
        return []
    raised = sum(ch["to"] - ch["from"] for ch in ups)
    cut = sum(ch["from"] - ch["to"] for ch in downs)
    moved = min(raised, cut)
    for side, total in ((ups, raised), (downs, cut)):
        for ch in side:
            ch["to"] = _toward_today(ch["from"], (ch["to"] - ch["from"]) * moved / total)
    # Whatever rounding left over shrinks the side that is larger, so no campaign moves further than allowed.
    gap = round(sum(ch["to"] - ch["from"] for ch in changes), 2)
    if gap:
        side = ups if gap > 0 else downs
        largest = max(side, key=lambda ch: abs(ch["to"] - ch["from"]))
        largest["to"] = round(largest["to"] - gap, 2)
    return [ch for ch in changes if abs(ch["to"] - ch["from"]) >= 0.01]


def _toward_today(budget: float, delta: float) -> float:
    """budget + delta in whole cents, rounded toward today's budget: a move at a guardrail's limit stays inside."""
    cents = math.floor(abs(delta) * 100 + 1e-9) / 100
    return round(budget + math.copysign(cents, delta), 2)


def _as_written(ctx, reading, members, budgets, changes) -> ChannelPlan:
    """The plan the written budgets amount to (scaled to stay budget-neutral): each channel's spend per period
    after the change, with the gain's draws and P(loss) for those budgets, not the unscaled plan's."""
    period_days, fit = reading.inputs.period_days, reading.fit
    by_campaign = {ch["campaign"]: ch["to"] - ch["from"] for ch in changes}
    current = np.array([c.current_spend for c in fit.channels])
    proposed = current.copy()
    for c, channel in enumerate(fit.channels):
        found = members[channel.channel]
        per_budget = _spend_per_budget(channel, found, budgets, period_days) * period_days
        delta = sum(by_campaign.get(ctx.campaigns[i].external_id, 0.0) for i, _, _ in found)
        proposed[c] = current[c] + delta * per_budget
    gain = sum(
        ch.draws.value(np.array([proposed[c]]))[:, 0] - ch.draws.value(np.array([current[c]]))[:, 0]
        for c, ch in enumerate(fit.channels)
    )
    return ChannelPlan(
        current=current, proposed=proposed, gain=Interval.of(gain), p_loss=float(np.mean(gain < 0)), gain_draws=gain
    )


def _draft(ctx, reading, plan, changes) -> proposing.Draft:
    metric, period_days = ctx.run.metric, reading.inputs.period_days
    per_week = 7.0 / period_days
    gain = plan.gain_draws * per_week
    expected = {
        "metric": metric,
        "per": "week",
        "mean": round(float(gain.mean()), 2),
        "low": round(float(np.quantile(gain, 0.1)), 2),
        "high": round(float(np.quantile(gain, 0.9)), 2),
    }
    receiver = max(changes, key=lambda ch: ch["to"] - ch["from"])
    return proposing.Draft(
        kind=KIND,
        campaign=receiver["campaign"],
        changes=changes,
        rationale=_rationale(reading, plan, expected, metric),
        expected=expected,
        p_loss=plan.p_loss,
        evidence={"mix": _evidence(reading, plan)},
    )


def _rationale(reading, plan, expected, metric) -> str:
    fit = reading.fit
    up = [c for i, c in enumerate(fit.channels) if plan.proposed[i] > plan.current[i] + 1e-6]
    down = [c for i, c in enumerate(fit.channels) if plan.proposed[i] < plan.current[i] - 1e-6]
    each = lambda c: f"{c.channel} returns {_per_dollar(c.marginal_roas.mean, metric)} per extra dollar"  # noqa: E731
    moved = sorted([*up, *down], key=lambda c: -c.marginal_roas.mean)
    words = "; ".join(each(c) for c in moved)
    value = formatting.money if metric != "leads" else formatting.count
    period = "week" if reading.inputs.period_days == 7 else "day"
    return (
        f"From total {formatting.metric_label(metric).lower()} per {period} "
        f"(channel mix model): {words}. Moving budget from {', '.join(c.channel for c in down)} to "
        f"{', '.join(c.channel for c in up)}, spread over each channel's campaigns by budget, the model is 80% sure "
        f"it gains between {value(expected['low'])} and {value(expected['high'])} a week "
        f"(expected {value(expected['mean'])}; chance of a loss {formatting.percent(plan.p_loss)})."
    )


def _per_dollar(number: float, metric: str) -> str:
    return f"{number:.3f} leads" if metric == "leads" else f"${number:,.2f}"


def _evidence(reading, plan) -> dict:
    fit = reading.fit
    return {
        "period_days": reading.inputs.period_days,
        "holdout_mape": round(fit.holdout_mape, 4),
        "channels": [
            {
                "channel": c.channel,
                "from": round(float(plan.current[i]), 2),
                "to": round(float(plan.proposed[i]), 2),
                "marginal_roas": c.marginal_roas.as_dict(),
                "roas": c.roas.as_dict(),
                "curve": {
                    "spend": [round(float(s), 2) for s in c.curve_spend],
                    "mean": [round(float(v), 2) for v in c.curve[0]],
                    "low": [round(float(v), 2) for v in c.curve[1]],
                    "high": [round(float(v), 2) for v in c.curve[2]],
                },
                "warnings": list(c.warnings),
            }
            for i, c in enumerate(fit.channels)
        ],
    }
