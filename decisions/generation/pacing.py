"""Pacing proposals: budget changes that bring a monthly budget pacing outside the band back to its amount.

They are `budget_change` proposals with a rationale of their own rather than a kind of their own: the lever is
a campaign's daily budget, so the edit form, the guardrails, apply and rollback, learning and the reports
already know it; what differs is why, and that is the rationale and the evidence (`evidence["pacing"]`).
A cut is judged like an anomaly's cut (the spend it saves per week against the value floor); its P(loss) is
the chance the month would have ended inside the band anyway, from how much the scope's spend varies by day.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings

from decisions.data import delivery
from decisions.engine import pacing, proposing
from decisions.models import Campaign
from objectives import formatting, guardrails


def pacing_drafts(ctx, anomalies: dict) -> list[proposing.Draft]:
    band = delivery.pacing_band()
    index = {c.external_id: i for i, c in enumerate(ctx.campaigns)}
    min_move = float(getattr(settings, "WAYPOINT_MIN_MOVE", 5.0))
    min_move_pct = float(getattr(settings, "WAYPOINT_MIN_MOVE_PCT", 0.03))
    drafts, moved = [], set()
    for entry in delivery.monthly_courses(today=ctx.today, facts=ctx.facts, rules=ctx.rules):
        course = entry.course
        if not course.needs_correction(band):
            continue
        members = [m for f in entry.campaigns if (m := _member(ctx, index, f, moved, anomalies)) is not None]
        others = course.daily_budget * course.spend_share - sum(m.budget * m.spend_share for m in members)
        targets = pacing.corrections(course, members, others_per_day=max(others, 0.0))
        targets = {
            key: to
            for key, to in targets.items()
            if abs(to - ctx.current[index[key]]) >= max(min_move, min_move_pct * ctx.current[index[key]])
        }
        landing = pacing.projected_with(course, targets, members, max(others, 0.0))
        p_loss = pacing.unneeded_chance(course, band, course.daily_sd)
        for key, to in targets.items():
            drafts.append(
                _draft(ctx, index[key], to, entry=entry, band=band, landing=landing, p_loss=p_loss, with_=len(targets))
            )
            moved.add(key)
    return drafts


def _member(ctx, index, facts, moved, anomalies) -> pacing.Member | None:
    """The campaign as a correction may move it; None when it may not be moved (left alone by the run: paused,
    anomalous, unfitted, held back by a guardrail; or already moved for another monthly budget this run)."""
    i = index.get(facts.external_id)
    if i is None or facts.external_id in moved:
        return None
    campaign = ctx.campaigns[i]
    # The run left it alone (no curve, anomalous, paused, held back: its fit was cleared) or it is paused.
    if ctx.fits[i] is None or campaign.status != Campaign.Status.ACTIVE or campaign.pk in anomalies:
        return None
    if not guardrails.may_propose(facts, ctx.rules, today=ctx.today)[0]:
        return None
    low, high, _ = guardrails.budget_limits(facts, ctx.rules)
    utilization = ctx.views[i].utilization
    return pacing.Member(
        key=facts.external_id,
        budget=float(ctx.current[i]),
        spend_share=facts.spend_share,
        may_raise=not (utilization is not None and utilization.is_demand_limited),
        low=low,
        high=high,
    )


def _draft(ctx, i: int, to: float, *, entry, band, landing: float, p_loss: float, with_: int) -> proposing.Draft:
    course, view = entry.course, ctx.views[i]
    before = round(float(ctx.current[i]), 2)
    fit = ctx.fits[i]
    if fit is not None:
        expected, _ = proposing.impact_summary(fit.impact_draws(before, to), metric=ctx.run.metric)
    else:
        expected = {"metric": ctx.run.metric, "per": "week", "mean": 0.0, "low": 0.0, "high": 0.0}
    evidence = {
        "pacing": {
            "guardrail": entry.rule.name,
            "amount": course.amount,
            "spent": round(course.spent, 2),
            "through": course.through.isoformat() if course.through else None,
            "target_to_date": round(course.target_to_date, 2),
            "projected": round(course.projected, 2),
            "projected_after": round(landing, 2),
            "band": [band.low, band.high],
            "days_left": course.days_left,
        }
    }
    if to < before:
        evidence["spend_saved_per_day"] = round(before - to, 2)
    return proposing.Draft(
        kind="budget_change",
        campaign=view.external_id,
        changes=[{"campaign": view.external_id, "field": "daily_budget", "from": before, "to": to}],
        rationale=rationale(
            entry.rule.name, course, band, name=view.name, before=before, to=to, landing=landing, together=with_
        ),
        expected=expected,
        p_loss=float(np.clip(p_loss, 0.0, 1.0)),
        evidence=evidence,
    )


def rationale(
    rule_name: str, course: pacing.Course, band: pacing.Band, *, name, before, to, landing, together: int = 1
) -> str:
    """Why: the course so far, where it ends at today's budgets, and where it ends with the change (and the
    scope's other pacing changes of the same run, `together` in all)."""
    money = formatting.money
    direction = "over" if (course.projected_share or 0) > band.high or (course.pace or 0) > band.high else "under"
    through = f"{course.through:%b} {course.through.day}" if course.through else "today"
    pace = f"{course.pace:.0%}" if course.pace is not None else "no pace yet"
    plural = "s" if together > 2 else ""
    # Guardrails (a largest move, a protected campaign) may allow less than the whole correction.
    short = "" if abs(landing - course.amount) <= 0.01 * course.amount else "; the guardrails allow no more this run"
    return (
        f"Pacing {direction} its monthly budget: “{rule_name}” has spent {money(course.spent)} of "
        f"{money(course.amount)} by {through}, {pace} of the pro-rated {money(course.target_to_date)}; at today's "
        f"budgets the month would end at {money(course.projected)} ({course.projected_share:.0%}), outside the "
        f"{band} band. {'Cutting' if to < before else 'Raising'} {name}'s daily budget from {money(before)} to "
        f"{money(to)} for the {course.days_left} day{'s' if course.days_left != 1 else ''} left"
        f"{f' (with the {together - 1} other pacing change{plural} proposed with it)' if together > 1 else ''} "
        f"brings the projected month-end spend to {money(landing)}{short}."
    )
