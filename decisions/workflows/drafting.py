"""The workflow audit as an engine part: every generation run proposes retiring what the audit finds stale.

Each group of stale workflows that rely only on each other becomes one retire_workflow proposal (a rollback
enables the group again). A change names the workflow by "workflow_id" and "platform" and carries the name it
had, so every page, export and audit line can say which one without looking it up.
"""

from __future__ import annotations

from decisions.engine import proposing
from decisions.engine import workflows as rules
from decisions.workflows import selectors
from objectives.guardrails import fields

KIND = "retire_workflow"


def change_for(workflow: rules.Workflow) -> dict:
    return {
        "workflow_id": workflow.workflow_id,
        "platform": workflow.platform,
        "name": workflow.label,
        "field": fields.STATUS,
        "from": fields.ENABLED,
        "to": fields.RETIRED,
    }


def draft_for(group: list[rules.Workflow], *, metric: str, today, stale_after_days: int) -> proposing.Draft:
    whys = [f"{w.label}: {rules.why_stale(w, today)}" for w in group]
    together = " They rely only on each other, so they go together." if len(group) > 1 else ""
    it = "them" if len(group) > 1 else "it"
    return proposing.Draft(
        kind=KIND,
        campaign="",
        changes=[change_for(w) for w in group],
        rationale=(
            f"Enabled, and not fired for {stale_after_days} days or more (or never since it was built): "
            f"{'; '.join(whys)}. No enabled workflow that still fires relies on {it}.{together} "
            f"Retiring {it} leaves fewer automations to maintain; a rollback enables {it} again."
        ),
        expected={"metric": metric, "per": "week", "mean": 0.0, "low": 0.0, "high": 0.0},
        p_loss=0.0,
        evidence={
            "stale_after_days": stale_after_days,
            "workflows": [
                {
                    "workflow_id": w.workflow_id,
                    "platform": w.platform,
                    "name": w.label,
                    "why": rules.why_stale(w, today),
                    "last_triggered_at": w.last_triggered_at.isoformat() if w.last_triggered_at else None,
                    "enrolled_90d": w.enrolled_90d,
                }
                for w in group
            ],
        },
    )


def retire_drafts(ctx, anomalies: dict) -> list[proposing.Draft]:
    """DRAFTERS entry: (run context, anomalies) → one draft per group of stale workflows."""
    found = selectors.audit_today(today=ctx.today, guardrail_rules=ctx.rules)
    return [
        draft_for(group, metric=ctx.run.metric, today=ctx.today, stale_after_days=found.stale_after_days)
        for group in found.retire
    ]
