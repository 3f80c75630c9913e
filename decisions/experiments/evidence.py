"""An audience_action proposal's evidence for its page: the audience in words, its size and share, the uplift of
every action and the outcome of every arm in it, and its uplift curve (drawn like the experiment page's)."""

from __future__ import annotations

from decisions import audiences
from decisions.experiments import presenting
from decisions.review import kinds
from objectives import formatting
from objectives.guardrails import fields


def audience_evidence(proposal, names: dict) -> dict | None:
    """The evidence card's words and numbers; None for a proposal without an audience's evidence. `names` holds
    ("actions", test name) → {arm: name}, as presenters.other_target_names reads it (no query here)."""
    if kinds.get(proposal.kind).target != fields.AUDIENCE_TARGET:
        return None  # only an audience's proposal carries one (and the evidence of others stays unloaded)
    data = (proposal.evidence or {}).get("audience")
    if not data:
        return None
    actions = names.get(("actions", data.get("experiment")), {})
    name = lambda arm: actions.get(arm, arm)  # noqa: E731
    metric = data.get("metric") or proposal.expected_metric
    unit = formatting.objective_unit(metric)
    each = data.get("per_customer") or {}
    return {
        "experiment": data.get("experiment"),
        "experiment_id": data.get("experiment_id"),
        "words": audiences.segment_words(data.get("segment") or {}),
        "conditions": [
            audiences.condition_words(attribute, condition)
            for attribute, condition in (data.get("segment") or {}).items()
        ],
        "size": data.get("size", 0),
        "share": formatting.percent(data.get("share", 0.0)),
        "customers": data.get("customers", 0),
        "metric_label": formatting.metric_label(metric),
        "control": name(data.get("control")),
        "from": name(data.get("from")),
        "to": name(data.get("to")),
        "stops": data.get("to") == data.get("control"),
        "per_customer": unit.amount(each.get("mean", 0.0)),
        "interval": unit.interval(each.get("low", 0.0), each.get("high", 0.0)),
        "p_loss": presenting.p_loss_words(each.get("p_loss", 0.0)),
        "interval_pct": formatting.percent(data.get("interval", 0.8)),
        "comparisons": data.get("comparisons", 0),
        "uplifts": [
            {
                "action": name(u["action"]),
                "mean": unit.amount(u["mean"]),
                "interval": unit.interval(u["low"], u["high"]),
                "p_loss": presenting.p_loss_words(u["p_loss"]),
                "customers": u["customers"],
                "gain": u.get("confident_gain", False),
                "loss": u.get("confident_loss", False),
                "proposed": u["action"] == data.get("to"),
            }
            for u in data.get("uplifts", [])
        ],
        "arm_outcomes": [
            (name(arm), seen.get("customers", 0), unit.amount(seen.get("mean", 0.0), signed=False))
            for arm, seen in (data.get("arm_outcomes") or {}).items()
        ],
        "chart": presenting.chart(data.get("curve") or [], unit),
        "curve_action": name(data.get("curve_action")),
        "qini_helps": (data.get("qini") or 0) > 0,
    }
