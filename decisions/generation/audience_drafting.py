"""audience_action proposals: which action each audience of an analysed randomised test should get.

For every test with a stored analysis (decisions/experiments/analysing.py), one proposal per audience whose policy
action — its best action when the gain is confident, else the control (engine/uplift.py, `policy_action`) —
differs from what it gets now (its live AudienceList's action, else the control): "Send Mens e-mail to … instead
of No e-mail". An audience whose current action (a live list) confidently hurts it, with nothing confidently
better, gets "stop sending": back to the control. On a test without real effects nothing is confident, so nothing
is proposed.

The expected impact is per send — one send of the action to the whole audience: the uplift per customer (over
what the audience gets now) times its customers, with the analysis's 80% interval (simultaneous over the test's
audiences × actions) and P(loss). A proposal already pending for the same audience, with the same change from the
same analysis, is not drafted again; a different one supersedes it (decisions/generation/service.py).
"""

from __future__ import annotations

import json
import math

from django.db.models import Q
from django.utils import timezone
from scipy import stats

from decisions import audiences
from decisions.audiences import segment_words
from decisions.engine import proposing, uplift
from decisions.experiments import analysing
from decisions.experiments.presenting import p_loss_words
from decisions.models import Experiment, Proposal
from objectives import formatting
from objectives.guardrails import fields

KIND = "audience_action"
PER = "send"  # the expected impact is for one send of the action to the whole audience


def audience_drafts(ctx, anomalies: dict) -> list[proposing.Draft]:
    """DRAFTERS entry: (run context, anomalies) → one draft per audience whose action should change."""
    tests = list(Experiment.objects.filter(analysis__isnull=False).order_by("pk").prefetch_related("actions"))
    if not tests:
        return []
    live = audiences.live_actions(tests)
    pending = _pending_changes()
    drafts = []
    for test in tests:
        analysis = analysing.stored_analysis(test)
        if analysis is None:
            continue
        names = {action.arm: action.name for action in test.actions.all()}
        for audience in analysis.audiences:
            segment = audiences.canonical(audience.segment)
            current = live.get((test.pk, audiences.segment_key(segment)), test.control_arm)
            to = next_action(analysis, audience, current)
            if to is None:
                continue
            draft = draft_for(test, analysis, audience, segment=segment, current=current, to=to, names=names)
            if _fingerprint(draft.changes, test) not in pending:
                drafts.append(draft)
    return drafts


def next_action(analysis: uplift.Analysis, audience: uplift.Audience, current: str) -> str | None:
    """What the audience should get instead of `current`; None to leave it as it is.

    The policy's action when it differs (a confident gain over the control); else the control when the current
    action confidently hurts. An action that is merely not proven either way is left to the people who chose it.
    """
    policy = uplift.policy_action(analysis, audience)
    if policy != current and policy != analysis.control:
        return policy
    now = audience.uplift_of(current)
    if current != analysis.control and now is not None and now.confident_loss:
        return analysis.control
    return None


def change_for(test: Experiment, segment: dict, *, current: str, to: str) -> dict:
    return {"experiment": test.name, "segment": segment, "field": fields.ACTION, "from": current, "to": to}


def per_customer(analysis: uplift.Analysis, audience: uplift.Audience, *, current: str, to: str) -> dict:
    """The incremental outcome per customer of sending `to` instead of `current`: mean, 80% interval, P(loss).

    Each action's uplift is against the control; moving between two actions is their difference, its interval's
    half-width the root of the sum of their squares (their shared control makes the errors positively correlated,
    so this is wider than the truth: honest, not flattering)."""
    gain, lose = audience.uplift_of(to), audience.uplift_of(current)
    mean = (gain.mean if gain else 0.0) - (lose.mean if lose else 0.0)
    half = math.hypot(
        (gain.high - gain.low) / 2 if gain else 0.0,
        (lose.high - lose.low) / 2 if lose else 0.0,
    )
    if gain is not None and lose is None:
        low, high, p_loss = gain.low, gain.high, gain.p_loss
    elif gain is None and lose is not None:  # stop sending: the gain is what the action was losing
        low, high, p_loss = -lose.high, -lose.low, 1.0 - lose.p_loss
    else:
        z = stats.norm.ppf(1 - (1 - analysis.interval) / (2 * max(analysis.comparisons, 1)))
        error = half / z if z > 0 else 0.0
        low, high = mean - half, mean + half
        p_loss = float(stats.norm.cdf(-mean / error)) if error > 0 else float(mean < 0)
    return {"mean": mean, "low": low, "high": high, "p_loss": min(max(float(p_loss), 0.0), 1.0)}


def draft_for(
    test: Experiment,
    analysis: uplift.Analysis,
    audience: uplift.Audience,
    *,
    segment: dict,
    current: str,
    to: str,
    names: dict,
) -> proposing.Draft:
    metric = (test.analysis or {}).get("metric") or (test.outcomes or [""])[0]
    each = per_customer(analysis, audience, current=current, to=to)
    size = audience.size
    expected = {
        "metric": metric,
        "per": PER,
        "mean": round(each["mean"] * size, 2),
        "low": round(each["low"] * size, 2),
        "high": round(each["high"] * size, 2),
    }
    change = change_for(test, segment, current=current, to=to)
    return proposing.Draft(
        kind=KIND,
        campaign="",
        changes=[change],
        rationale=_rationale(test, analysis, audience, each, expected, current=current, to=to, names=names),
        expected=expected,
        p_loss=round(each["p_loss"], 4),
        evidence={"audience": _evidence(test, analysis, audience, each, segment=segment, current=current, to=to)},
        source=f"analysis of test {test.pk} at {test.analysed_at.isoformat() if test.analysed_at else ''}",
    )


def _rationale(test, analysis, audience, each, expected, *, current, to, names) -> str:
    unit = formatting.objective_unit(expected["metric"])
    name = lambda arm: names.get(arm, arm)  # noqa: E731
    who = segment_words(audience.segment)
    who = who[:1].lower() + who[1:] if who != "Everyone" else "everyone"
    control = analysis.control
    if to == control:
        what = f"{name(current)} puts them off: without it they"
        doing = f"Stopping {name(current)}"
    else:
        instead = "no action" if current == control else name(current)
        what = f"sent {name(to)} instead of {instead}, they"
        doing = f"Sending {name(to)} to the whole audience once"
    return (
        f"In the randomised test “{test.name}” ({analysis.customers:,} customers), {who} "
        f"({audience.size:,} customers, {formatting.percent(audience.share)} of the test): {what} "
        f"brought {unit.amount(each['mean'], signed=False)} more each "
        f"(80% interval {unit.interval(each['low'], each['high'])}, "
        f"judged on customers the audience rules were not fitted on, and adjusted for the "
        f"{analysis.comparisons} audience × action comparisons made; chance of a loss "
        f"{p_loss_words(each['p_loss'])}). {doing} adds about {unit.amount(expected['mean'], signed=False)} of "
        f"{formatting.metric_label(expected['metric']).lower()} "
        f"({unit.interval(expected['low'], expected['high'])})."
    )


def _evidence(test, analysis, audience, each, *, segment, current, to) -> dict:
    curve = analysis.curves.get(audience.curve_action) or {}
    return {
        "experiment": test.name,
        "experiment_id": test.pk,
        "analysed_at": test.analysed_at.isoformat() if test.analysed_at else None,
        "metric": (test.analysis or {}).get("metric"),
        "segment": segment,
        "size": audience.size,
        "share": round(audience.share, 4),
        "customers": analysis.customers,
        "control": analysis.control,
        "from": current,
        "to": to,
        "per_customer": {key: round(value, 4) for key, value in each.items()},
        "interval": analysis.interval,
        "comparisons": analysis.comparisons,
        "uplifts": [
            {
                "action": u.action,
                "mean": round(u.mean, 4),
                "low": round(u.low, 4),
                "high": round(u.high, 4),
                "p_loss": round(u.p_loss, 4),
                "customers": u.customers,
                "confident_gain": u.confident_gain,
                "confident_loss": u.confident_loss,
            }
            for u in audience.uplifts
        ],
        "arm_outcomes": audience.arm_outcomes,
        "curve": audience.curve,
        "curve_action": audience.curve_action,
        "qini": round(float(curve.get("qini", 0.0)), 4),
    }


def _fingerprint(changes: list[dict], test: Experiment) -> str:
    """The same change from the same analysis: what a pending proposal must match to be drafted again."""
    stamp = test.analysed_at.isoformat() if test.analysed_at else None
    return json.dumps([changes, stamp], sort_keys=True, default=str)


def _pending_changes() -> set[str]:
    """Fingerprints of the audience proposals still waiting for a decision (not past their expiry)."""
    now = timezone.now()
    rows = Proposal.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), kind=KIND, status=Proposal.Status.PENDING
    ).values_list("changes", "evidence")
    found = set()
    for changes, evidence in rows:
        stamp = ((evidence or {}).get("audience") or {}).get("analysed_at")
        found.add(json.dumps([changes, stamp], sort_keys=True, default=str))
    return found
