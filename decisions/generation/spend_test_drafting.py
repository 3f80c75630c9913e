"""spend_test proposals: where a campaign's (or, with the channel mix, a channel's) return is too uncertain to act
on and knowing it is worth more than finding out costs, "raise it by 25% for 14 days, then return".

The choice is the engine's (decisions/engine/spend_tests.py); here it meets the run: which campaigns the
allocator held or moved little, which the block-level guardrails let rise by the test's raise (and total caps
leave room for), which demand would spend the raise on, and which are not already in a test (approved or
running; a pending one is superseded by the newer). At most WAYPOINT_SPEND_TESTS_PER_RUN (3) a run, the best
net value first. Each test is one proposal of ordinary daily budget changes, its plan in
`evidence["spend_test"]`; decisions/spend_tests.py runs and ends it.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings

from decisions.data.mix_inputs import read_mix
from decisions.engine import proposing
from decisions.engine import spend_tests as engine
from decisions.models import Application, Campaign, Proposal
from decisions.review import kinds
from objectives import formatting, guardrails

KIND = kinds.SPEND_TEST.name
MIN_CHANNEL_SHARE = 0.5  # of a channel's daily budget that a channel test must be able to raise


def per_run() -> int:
    """At most this many spend tests a run (WAYPOINT_SPEND_TESTS_PER_RUN, default 3; 0 switches them off)."""
    return int(getattr(settings, "WAYPOINT_SPEND_TESTS_PER_RUN", engine.MAX_TESTS))


def campaigns_running_tests() -> set[str]:
    """External ids of campaigns with a spend test approved or running (applied, not yet returned): never tested
    again, and left alone by the allocator. A test still pending is no bar: a newer test of the same campaign (or
    a move of it) supersedes it, as any newer proposal on the same lever does, so the queue holds one at most and
    always the one made on the newest data."""
    live = Proposal.objects.filter(kind=KIND, status__in=(Proposal.Status.APPROVED, Proposal.Status.APPLIED)).exclude(
        applications__direction=Application.Direction.ROLLBACK
    )
    return {change["campaign"] for changes in live.values_list("changes", flat=True) for change in changes}


def _mode(ctx) -> str:
    objective = ctx.run.objective
    return getattr(objective, "attribution", "campaign") if objective is not None else "campaign"


def _raise_room(ctx, indexes: list[int], raise_pct: float) -> bool:
    """The block-level limits let every one of these campaigns rise by raise_pct, total caps included."""
    factor = raise_pct / 100.0
    rules = ctx.rules
    for i in indexes:
        facts = ctx.facts.get(ctx.campaigns[i].external_id)
        if facts is None or guardrails.budget_limits(facts, rules)[1] < ctx.current[i] * (1 + factor) - 1e-6:
            return False
    wanted = {ctx.campaigns[i].external_id: ctx.current[i] * factor for i in indexes}
    for members, cap in guardrails.total_caps(ctx.facts, rules):
        inside = set(members)
        total = sum(float(ctx.current[j]) for j, c in enumerate(ctx.campaigns) if c.external_id in inside)
        if total + sum(amount for eid, amount in wanted.items() if eid in inside) > cap + 1e-6:
            return False
    return True


# --- campaigns -----------------------------------------------------------------------------------------------


def spend_test_drafts(ctx, anomalies: dict) -> list[proposing.Draft]:
    """Tests for campaigns a first allocation holds or moves little. It runs before the budget shifts, and the
    campaigns it tests are then held for them (their curve and `ctx.moved`), as pacing's are: a campaign is
    tested or moved by a run, never both."""
    from decisions.generation import service  # the run's allocation; service lists this drafter

    if _mode(ctx) == "mix" or not per_run() or not any(f is not None for f in ctx.fits):
        return []
    busy = campaigns_running_tests() | set(getattr(ctx, "moved", set())) | set(getattr(ctx, "drafted", set()))
    caps = proposing.spend_caps(ctx.views)
    raised = ctx.current * (1 + engine.RAISE_PCT / 100.0)
    may_raise = np.array(
        [
            ctx.fits[i] is not None
            and campaign.status == Campaign.Status.ACTIVE
            and campaign.external_id not in busy
            and campaign.pk not in anomalies
            and caps[i] >= raised[i] - 1e-9  # a demand-limited campaign would not spend the raise
            and _raise_room(ctx, [i], engine.RAISE_PCT)
            for i, campaign in enumerate(ctx.campaigns)
        ],
        dtype=bool,
    )
    if not may_raise.any():
        return []
    allocation, bounds = service.allocation_of(ctx)
    plans = engine.campaign_plans(
        ctx.fits,
        ctx.current,
        allocated=allocation.budgets,
        lower=bounds.lower,
        upper=bounds.upper,
        may_raise=may_raise,
        rate=allocation.marginal_level,
        max_p_loss=float(getattr(settings, "WAYPOINT_MAX_P_LOSS", 0.35)),
        seed=int(ctx.run.window_end.strftime("%Y%m%d")) if ctx.run.window_end else 0,
    )
    chosen = engine.choose(plans, max_tests=per_run())
    drafts = [_campaign_draft(ctx, plan) for plan in chosen]
    for plan in chosen:
        ctx.fits[plan.index] = None  # held by the allocation that follows
    ctx.moved = set(getattr(ctx, "moved", set())) | {d.campaign for d in drafts}
    return drafts


def _campaign_draft(ctx, plan: engine.TestPlan) -> proposing.Draft:
    i = plan.index
    view, fit = ctx.views[i], ctx.fits[i]
    to = round(plan.spend_test, 2)
    changes = [{"campaign": view.external_id, "field": "daily_budget", "from": round(plan.spend_now, 2), "to": to}]
    metric = ctx.run.metric
    expected = _weekly(plan, metric, per_day=1.0)
    return proposing.Draft(
        kind=KIND,
        campaign=view.external_id,
        changes=changes,
        rationale=_rationale(view.name, plan, metric, per_day=1.0, what=f"its budget by {plan.raise_pct:.0f}%"),
        expected=expected,
        p_loss=plan.p_loss,
        evidence={
            "level": engine.LEVEL,
            "spend_test": _plan_evidence(plan, metric, mode="campaign", per_day=1.0),
            "curves": [proposing.curve_evidence(fit, view, plan.spend_now, to)],
        },
    )


# --- channels (attribution "mix") ------------------------------------------------------------------------------


def channel_spend_test_drafts(ctx, anomalies: dict) -> list[proposing.Draft]:
    """With the channel mix, raise the movable campaigns of an uncertain channel by the test's raise.

    It runs before the channel shift (DRAFTERS), and the campaigns it tests join `ctx.moved`, which the shift
    leaves where they are: a channel under test is not moved on the curve the test is about to correct."""
    if _mode(ctx) != "mix" or not per_run():
        return []
    reading = read_mix(ctx.run.metric)
    if reading.fit is None or reading.status == "FAIL":
        return []
    fit, period_days = reading.fit, reading.inputs.period_days
    busy = campaigns_running_tests() | set(getattr(ctx, "moved", set())) | set(getattr(ctx, "drafted", set()))
    members, raises = {}, []
    for channel in fit.channels:
        active = [
            i
            for i, c in enumerate(ctx.campaigns)
            if (c.channel or "").strip() == channel.channel and c.status == Campaign.Status.ACTIVE
        ]
        found = [
            i
            for i in active
            if ctx.campaigns[i].external_id not in busy
            and ctx.campaigns[i].pk not in anomalies
            and ctx.facts.get(ctx.campaigns[i].external_id) is not None
            and guardrails.may_propose(ctx.facts[ctx.campaigns[i].external_id], ctx.rules, today=ctx.today)[0]
            and _raise_room(ctx, [i], engine.RAISE_PCT)
        ]
        budget = sum(float(ctx.current[i]) for i in active)
        share = sum(float(ctx.current[i]) for i in found) / budget if budget > 0 else 0.0
        # Most of the channel must rise, or the test would read a move too small to tell.
        members[channel.channel] = (
            found if share >= MIN_CHANNEL_SHARE and _raise_room(ctx, found, engine.RAISE_PCT) else []
        )
        raises.append(engine.RAISE_PCT * share)
    plans = engine.channel_plans(
        fit.channels,
        period_days=period_days,
        noise_sd=fit.noise_sd,
        may_raise=[bool(members[c.channel]) for c in fit.channels],
        raise_pct=raises,
        seed=int(ctx.run.window_end.strftime("%Y%m%d")) if ctx.run.window_end else 0,
    )
    drafts = [
        _channel_draft(ctx, fit.channels[p.index], members[fit.channels[p.index].channel], p, period_days)
        for p in engine.choose(plans, max_tests=per_run())
    ]
    ctx.moved = set(getattr(ctx, "moved", set())) | {c["campaign"] for d in drafts for c in d.changes}
    return drafts


def _channel_draft(ctx, channel, found: list[int], plan: engine.TestPlan, period_days: int) -> proposing.Draft:
    factor = 1 + engine.RAISE_PCT / 100.0  # each campaign's; the channel's own raise is plan.raise_pct
    changes = [
        {
            "campaign": ctx.campaigns[i].external_id,
            "field": "daily_budget",
            "from": round(float(ctx.current[i]), 2),
            "to": round(float(ctx.current[i]) * factor, 2),
        }
        for i in found
    ]
    metric = ctx.run.metric
    per_day = 1.0 / period_days
    name = f"the {channel.channel} channel"
    return proposing.Draft(
        kind=KIND,
        campaign=changes[0]["campaign"],
        changes=changes,
        rationale=_rationale(name, plan, metric, per_day=per_day, what=_channel_words(found, plan)),
        expected=_weekly(plan, metric, per_day=per_day),
        p_loss=plan.p_loss,
        evidence={
            "level": engine.LEVEL,
            "spend_test": {
                **_plan_evidence(plan, metric, mode="mix", per_day=per_day),
                "channel": channel.channel,
                "period_days": period_days,
                "campaign_raise_pct": engine.RAISE_PCT,
                "campaigns": len(found),
            },
        },
    )


def _channel_words(found: list[int], plan: engine.TestPlan) -> str:
    campaigns = "its campaign's budget" if len(found) == 1 else f"the budgets of {len(found)} of its campaigns"
    return f"{campaigns} by {engine.RAISE_PCT:.0f}%, its spend by about {plan.raise_pct:.0f}%,"


# --- words and numbers -------------------------------------------------------------------------------------------


def _weekly(plan: engine.TestPlan, metric: str, *, per_day: float) -> dict:
    """The expected impact the queue shows: the raise's extra value per week while the test runs."""
    days = plan.periods / per_day
    scale = 7.0 / days
    mean, low, high = (round(x * scale, 2) for x in plan.lift)
    return {"metric": metric, "per": "week", "mean": mean, "low": low, "high": high}


def _plan_evidence(plan: engine.TestPlan, metric: str, *, mode: str, per_day: float) -> dict:
    days = int(round(plan.periods / per_day))
    return {
        "mode": mode,
        "days": days,
        "raise_pct": plan.raise_pct,
        "extra_spend": round(plan.extra_spend, 2),
        "cost": dict(zip(("mean", "low", "high"), (round(x, 2) for x in plan.cost), strict=True)),
        "predicted_lift": dict(zip(("mean", "low", "high"), (round(x, 2) for x in plan.lift), strict=True)),
        "interval_now": [round(x, 4) for x in plan.interval_now],
        "interval_expected": [round(x, 4) for x in plan.interval_expected],
        "narrowing": round(plan.narrowing, 3),
        "value_of_knowing": round(plan.value_of_knowing, 2),
        "net_value": round(plan.net_value, 2),
        "horizon_days": engine.HORIZON_DAYS,
        "metric": metric,
    }


def _value(metric: str):
    return formatting.count if metric == "leads" else formatting.money


def _per_dollar(number: float, metric: str) -> str:
    return f"{number:.3f} leads" if metric == "leads" else f"${number:,.2f}"


def _rationale(name: str, plan: engine.TestPlan, metric: str, *, per_day: float, what: str) -> str:
    """`what` is what rises and by how much: "its budget by 25%"."""
    value = _value(metric)
    low, high = plan.interval_now
    width = plan.interval_expected[1] - plan.interval_expected[0]
    days = int(round(plan.periods / per_day))
    cost, cost_low, cost_high = plan.cost
    extra_per_day = (plan.spend_test - plan.spend_now) * per_day
    if cost >= 0:
        price = f"the test costs about {value(cost)} ({value(cost_low)} to {value(cost_high)})"
    else:
        price = (
            f"the raise is expected to bring {value(-cost)} more than that money would elsewhere "
            f"({value(-cost_high)} to {value(-cost_low)}), so the test is expected to pay for itself"
        )
    return (
        f"{name[:1].upper() + name[1:]}: the return on its next dollar is too uncertain to act on: between "
        f"{_per_dollar(low, metric)} and {_per_dollar(high, metric)} per dollar (80% interval), because its spend "
        f"has barely varied. Raising {what} for {days} days (+{formatting.money(extra_per_day)}/day), then "
        f"returning, spends {formatting.money(plan.extra_spend)} more; against what that money would bring "
        f"elsewhere and what the raise is expected to bring, {price}. It is expected to narrow the interval to "
        f"about {_per_dollar(width, metric)} wide ({formatting.percent(plan.narrowing)} narrower), and knowing is "
        f"worth about {value(plan.value_of_knowing)} over the next {engine.HORIZON_DAYS} days (the better budget "
        f"the engine can then choose). Chance the raise earns less than the money would elsewhere: "
        f"{formatting.percent(plan.p_loss)}."
    )
