"""A spend test's life after approval: it starts when its raise reaches the platform, runs its days, and returns.

The plan (decisions/engine/spend_tests.py) travels in the proposal's evidence (`evidence["spend_test"]`: days,
raise, cost, intervals, value of knowing, predicted lift). Its changes are ordinary daily-budget changes, so
approving, applying and a manual rollback are the review paths every campaign kind takes.

Timeline, with D the day the raise reached the platform (the apply row's success, as outcomes anchor it):
the test's days are D+1 … D+days (D itself runs half on each budget), and on D+days+1 the return goes out.

Why the return is an outbox row of direction ROLLBACK and not a rollback of the proposal: the change goes
back through the connector that took it there, with the one rollback key a proposal has (a receiver that saw
it knows it; a manual rollback and the scheduled return can never both be sent), and the freshness check
refuses it if someone moved the budget meanwhile, exactly as for a rollback. But the proposal stays
`applied` and the audit log says `spend_test.ended`, not `proposal.rolled_back`: returning on schedule is what
was approved, not a person overriding the machine, so it must not count as an override in History, the
weekly report or the acceptance model. A manual rollback before the end is an ordinary rollback (an
override, with a reason) and ends the test early.

Outcome: the outcome service measures a spend test over its own days (the after window is the test
window), so the realised figure is the lift the raise brought against the campaign's own earlier level moved
by the untouched campaigns' common change (the difference-in-differences of decisions/outcomes/service.py),
beside the lift the plan predicted. The curve needs nothing: the next run's window holds the test's days.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from decisions import audit
from decisions.audit.actions import Action
from decisions.models import Application, AuditEvent, DailyMetric, Outcome, Proposal
from decisions.review import kinds
from objectives import formatting

KIND = "spend_test"
APPLY = Application.Direction.APPLY
ROLLBACK = Application.Direction.ROLLBACK
SUCCEEDED = Application.Status.SUCCEEDED


def plan_of(proposal: Proposal) -> dict | None:
    return (proposal.evidence or {}).get("spend_test") if proposal.kind == kinds.SPEND_TEST.name else None


def days_of(proposal: Proposal) -> int:
    plan = plan_of(proposal) or {}
    return int(plan.get("days") or kinds.SPEND_TEST_DAYS)


def started_on(proposal: Proposal) -> dt.date | None:
    """D: the local day the last apply row of the raise succeeded."""
    moments = [a.updated_at for a in proposal.applications.all() if a.direction == APPLY and a.status == SUCCEEDED]
    return timezone.localdate(max(moments)) if moments and proposal.status != Proposal.Status.APPROVED else None


def returns_on(proposal: Proposal) -> dt.date | None:
    start = started_on(proposal)
    return start + dt.timedelta(days=days_of(proposal) + 1) if start else None


def has_returned(proposal: Proposal) -> bool:
    """Whether the test's return went out: the proposal stays applied (the return was what was approved) with a
    ROLLBACK row beside it, so a manual rollback has nothing left to undo."""
    return Application.objects.filter(
        proposal=proposal, direction=ROLLBACK, proposal__status=Proposal.Status.APPLIED
    ).exists()


def _returned(proposal: Proposal) -> Application | None:
    rows = [a for a in proposal.applications.all() if a.direction == ROLLBACK]
    return min(rows, key=lambda a: a.pk) if rows else None


def state(proposal: Proposal, *, today: dt.date | None = None) -> dict | None:
    """What the proposal page says: running (day n of N, returns on …) or ended (on …, early or on schedule)."""
    if plan_of(proposal) is None:
        return None
    today = today or timezone.localdate()
    days, start = days_of(proposal), started_on(proposal)
    if start is None:
        return {"status": "not_started", "days": days}
    back = _returned(proposal)
    if back is not None or proposal.status == Proposal.Status.ROLLED_BACK:
        ended = timezone.localdate(back.created_at) if back else today
        early = proposal.status == Proposal.Status.ROLLED_BACK
        return {"status": "ended", "days": days, "started_on": start, "ended_on": ended, "early": early}
    day = min(max((today - start).days, 0), days)
    return {"status": "running", "days": days, "day": day, "started_on": start, "returns_on": returns_on(proposal)}


# --- starting and ending -----------------------------------------------------------------------------------


def started(proposal_id: int) -> None:
    """Called by the outbox in the transaction that marks a proposal applied: a spend test's days start."""
    proposal = Proposal.objects.prefetch_related("applications").filter(pk=proposal_id).first()
    if proposal is None or plan_of(proposal) is None or proposal.status != Proposal.Status.APPLIED:
        return
    start = started_on(proposal) or timezone.localdate()
    back = start + dt.timedelta(days=days_of(proposal) + 1)
    audit.record(
        action=Action.SPEND_TEST_STARTED,
        proposal=proposal,
        machine_payload={"started_on": start.isoformat(), "days": days_of(proposal), "returns_on": back.isoformat()},
    )


def due(*, today: dt.date) -> list[Proposal]:
    """Applied spend tests whose days are over and whose return has not been sent."""
    returned = Application.objects.filter(proposal=OuterRef("pk"), direction=ROLLBACK)
    running = (
        Proposal.objects.filter(kind=kinds.SPEND_TEST.name, status=Proposal.Status.APPLIED)
        .exclude(Exists(returned))
        .prefetch_related("applications")
        .order_by("pk")
    )
    return [p for p in running if (returns_on(p) or today + dt.timedelta(days=1)) <= today]


def spend_test_end(*, proposal: Proposal, today: dt.date | None = None) -> list[Application]:
    """Send a finished test's return: one ROLLBACK row per platform the raise reached, audited. Returns the rows
    (none when another sweep or a manual rollback got there first)."""
    from decisions.delivery import outbox  # the outbox calls `started` here

    today = today or timezone.localdate()
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().filter(pk=proposal.pk, status=Proposal.Status.APPLIED).first()
        if locked is None or has_returned(locked):
            return []
        applied = outbox.succeeded_applies(locked)
        rows = [outbox.rollback_create(undoing=row, changes=kinds.inverse(row.changes)) for row in applied]
        audit.record(
            action=Action.SPEND_TEST_ENDED,
            proposal=locked,
            machine_payload={
                "ended_on": today.isoformat(),
                "days": days_of(proposal),
                "changes": [change for row in rows for change in row.changes],
                "applications": [row.pk for row in rows],
            },
        )
    return rows


def spend_tests_sweep(*, today: dt.date | None = None) -> dict:
    """Beat (decisions.tasks.end_spend_tests): send the return of every test whose days are over."""
    today = today or timezone.localdate()
    ended = [p.pk for p in due(today=today) if spend_test_end(proposal=p, today=today)]
    return {"ended": ended}


# --- what the page says ----------------------------------------------------------------------------------


def describe_state(found: dict | None) -> str:
    if not found:
        return ""
    if found["status"] == "not_started":
        return f"Not started: its {found['days']} days start when the raise reaches the ad platform."
    if found["status"] == "running":
        back = found["returns_on"]
        when = "today" if back <= timezone.localdate() else f"on {_day(back)}"
        return f"Running: day {found['day']} of {found['days']}, returns {when}."
    how = " (rolled back early)" if found["early"] else ""
    return f"Ended on {_day(found['ended_on'])}{how}."


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def lift_text(proposal: Proposal, outcome: Outcome | None) -> str:
    """ "Predicted +$X (low–high); measured +$Y": the lift over the test's days, predicted and, once its days are
    imported, measured."""
    plan = plan_of(proposal)
    if not plan:
        return ""
    lift = plan.get("predicted_lift") or {}
    value = formatting.signed_money if proposal.expected_metric != "leads" else _signed_count
    text = (
        f"Predicted {value(lift.get('mean', 0))} ({value(lift.get('low', 0))} to {value(lift.get('high', 0))}) "
        f"over its {plan.get('days')} days"
    )
    if (measured := measured_lift(proposal, outcome)) is not None:
        text += f"; measured {value(measured['mean'])} ({value(measured['low'])} to {value(measured['high'])})"
    else:
        text += "; measured once its days are imported"
    return text + "."


Z80 = 1.2816  # the normal quantile of an 80% interval's upper end


def measured_lift(proposal: Proposal, outcome: Outcome | None) -> dict | None:
    """The lift measured over the test's days (the outcome's realised figure, per week, times the weeks), with
    an 80% interval from the day-to-day spread of the tested campaigns' objective before the test: the
    difference of two means of `days` days each."""
    if outcome is None or outcome.realised is None:
        return None
    from decisions.outcomes import service as outcomes  # outcomes reads the engine; this module the outbox

    days = outcome.days
    total = outcome.realised * days / 7.0
    weights, primary = outcomes._weights(proposal)
    start = outcome.window_start - dt.timedelta(days=days + 1)
    ids = [change["campaign"] for change in proposal.changes if "campaign" in change]
    rows = DailyMetric.objects.filter(
        campaign__external_id__in=ids, date__gte=start, date__lt=outcome.window_start - dt.timedelta(days=1)
    ).values_list("campaign__external_id", primary, *[name for name in weights if name != primary])
    secondary = [name for name in weights if name != primary]
    by_campaign: dict[str, list[float]] = {}
    for external_id, first, *others in rows:
        if first is None:
            continue
        extra = sum(float(v or 0) * weights[name] for v, name in zip(others, secondary, strict=True))
        by_campaign.setdefault(external_id, []).append(float(first) * weights[primary] + extra)
    variance = sum(float(np.var(values, ddof=1)) for values in by_campaign.values() if len(values) > 1)
    se = days * math.sqrt(variance * 2.0 / days)
    return {"mean": total, "low": total - Z80 * se, "high": total + Z80 * se}


def _signed_count(value: float) -> str:
    return f"{'+' if value >= 0 else '−'}{abs(value):,.1f} leads" if math.isfinite(value) else "—"


def card(proposal: Proposal) -> dict | None:
    """The proposal page's spend-test card."""
    plan = plan_of(proposal)
    if plan is None:
        return None
    outcome = Outcome.objects.filter(proposal=proposal).first()
    found = state(proposal)
    events = AuditEvent.objects.filter(
        proposal=proposal, action__in=(Action.SPEND_TEST_STARTED, Action.SPEND_TEST_ENDED)
    ).count()
    return {
        "plan": plan,
        "state": describe_state(found),
        "lift": lift_text(proposal, outcome),
        "rows": plan_rows(plan, proposal.expected_metric),
        "events": events,
    }


def plan_rows(plan: dict, metric: str) -> list[tuple[str, str]]:
    """The plan in words, a (term, words) pair per line of the card."""
    value = formatting.count if metric == "leads" else formatting.money
    per = (lambda x: f"{x:.3f} leads") if metric == "leads" else (lambda x: f"${x:,.2f}")
    cost = plan.get("cost") or {}
    now = plan.get("interval_now") or [0, 0]
    after = plan.get("interval_expected") or [0, 0]
    if plan.get("channel"):
        raised = (
            f"Raise {plan.get('campaigns')} campaign{'s' if plan.get('campaigns') != 1 else ''} of the "
            f"{plan['channel']} channel by {float(plan.get('campaign_raise_pct', 0)):.0f}% (the channel's spend by "
            f"about {float(plan.get('raise_pct', 0)):.0f}%)"
        )
    else:
        raised = f"Raise its daily budget by {float(plan.get('raise_pct', 0)):.0f}%"
    return [
        (
            "Plan",
            f"{raised} for {plan.get('days')} days, then return: "
            f"{formatting.money(plan.get('extra_spend', 0))} of extra spend.",
        ),
        (
            "Cost",
            f"{value(cost.get('mean', 0))} ({value(cost.get('low', 0))} to {value(cost.get('high', 0))}, 80%): the "
            "extra spend at what the money earns elsewhere, minus what the raise is expected to bring.",
        ),
        ("Return on the next dollar now", f"{per(now[0])} to {per(now[1])} (80%)."),
        (
            "Expected after the test",
            f"about {per(after[1] - after[0])} wide, {formatting.percent(plan.get('narrowing', 0))} narrower.",
        ),
        (
            "Value of knowing",
            f"{value(plan.get('value_of_knowing', 0))} over the next {plan.get('horizon_days')} days: what the "
            "better budget the engine can choose once the test has spoken is expected to add.",
        ),
    ]
