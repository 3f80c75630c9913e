"""The rules applied: verdicts on changes under review, and the same rules as the engine's constraints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from objectives.guardrails.base import (
    EPS,
    AudienceFacts,
    CampaignFacts,
    Change,
    Rule,
    Verdict,
    WorkflowFacts,
    in_scope,
    sentence,
)
from objectives.guardrails.fields import AUDIENCE_TARGET, CAMPAIGN, WORKFLOW
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import audience_moves, campaign_moves, workflow_moves
from objectives.guardrails.registry import kind_named


def applies_to(rule: Rule, campaign: CampaignFacts) -> bool:
    """The rule's scope covers the campaign and, for the kinds that single out
    campaigns themselves (a protecting tag, a forbidden audience), the campaign
    is one of them."""
    if not in_scope(rule.scope, campaign):
        return False
    kind = kind_named(rule.kind)
    return kind is None or kind.singles_out(rule, campaign)


def check(
    changes: list[Change],
    *,
    rules: list[Rule],
    campaigns: Mapping[str, CampaignFacts],
    today: date,
    copy_text: str = "",
    workflows: Mapping[str, WorkflowFacts] | None = None,
    audiences: Mapping[str, AudienceFacts] | None = None,
) -> list[Verdict]:
    """One verdict per rule that judges a change to at least one campaign in its scope, in rule order.

    `campaigns` holds every campaign, not only the changed ones: a total cap
    adds up the whole scope. A change to an unregistered field raises
    fields.UnknownField. Changes to workflows are judged by the kinds that
    judge workflows, from `workflows` (the changed ones' facts, by external id), and changes to audiences of
    randomised tests by the kinds that judge audiences, from `audiences`. A kind judging both campaigns and
    audiences gives one verdict for both.
    """
    moves = campaign_moves(changes, campaigns)
    retirements = workflow_moves(changes, workflows or {})
    sends = audience_moves(changes, audiences or {})
    context = CheckContext(campaigns=campaigns, moves=moves, today=today, copy_text=copy_text)
    verdicts = []
    for rule in rules:
        kind = kind_named(rule.kind)
        if kind is None:
            continue
        judged_targets = kind.judged_targets()
        results = []
        if WORKFLOW in judged_targets:
            judged = [m for m in retirements if in_scope(rule.scope, m.facts) and kind.singles_out(rule, m.facts)]
            results += [kind.check(rule, judged, context)] if judged else []
        if CAMPAIGN in judged_targets:
            judged = [m for m in moves.values() if in_scope(rule.scope, m.facts) and kind.concerns(rule, m, context)]
            results += [kind.check(rule, judged, context)] if judged else []
        if AUDIENCE_TARGET in judged_targets:
            judged = [m for m in sends if in_scope(rule.scope, m.facts) and kind.concerns_audience(rule, m)]
            results += [kind.check_audiences(rule, judged, context)] if judged else []
        if not results:
            continue
        failed = [message for passed, message in results if not passed]
        message = sentence(failed) if failed else results[0][1]
        verdicts.append(Verdict(rule.name, rule.kind, rule.severity, not failed, message))
    return verdicts


# --- the same rules as constraints for the engine ----------------------------


def _with_severity(rules: Iterable[Rule], severity: str | None) -> list[tuple[Rule, GuardrailKind]]:
    """The rules of that severity (None: all) with their kinds; rules of an unknown kind constrain nothing."""
    chosen = [rule for rule in rules if severity is None or rule.severity == severity]
    return [(rule, kind) for rule in chosen if (kind := kind_named(rule.kind)) is not None]


def budget_limits(campaign: CampaignFacts, rules: Iterable[Rule], *, severity: str | None = "block"):
    """(lowest allowed budget, highest allowed budget, may_pause) for one campaign.

    When the rules contradict each other (a protected campaign already above
    its bounds), the only move that makes nothing worse is no move, so the
    interval collapses to the current budget.
    """
    limits = Limits()
    for rule, kind in _with_severity(rules, severity):
        if applies_to(rule, campaign):
            limits = limits.within(kind.limits(rule, campaign))
    if limits.low > limits.high + EPS:
        current = float(campaign.daily_budget)
        return current, current, limits.may_pause
    return limits.low, limits.high, limits.may_pause


def total_caps(
    campaigns: Mapping[str, CampaignFacts] | Iterable[CampaignFacts],
    rules: Iterable[Rule],
    *,
    severity: str | None = "block",
) -> list[tuple[list[str], float]]:
    """(external ids in scope, cap) per total budget cap; paused campaigns do not count against a cap."""
    facts = list(campaigns.values()) if isinstance(campaigns, Mapping) else list(campaigns)
    caps = [kind.total_cap(rule, facts) for rule, kind in _with_severity(rules, severity)]
    return [cap for cap in caps if cap is not None]


def may_propose(
    campaign: CampaignFacts, rules: Iterable[Rule], *, today: date, severity: str | None = "block"
) -> tuple[bool, str]:
    """Whether the engine may propose anything for the campaign: enough evidence, no cooldown running."""
    reasons = []
    for rule, kind in _with_severity(rules, severity):
        if applies_to(rule, campaign) and (problem := kind.holds_back(rule, campaign, today)):
            reasons.append(f"{problem} ({rule.name})")
    if reasons:
        return False, sentence(reasons)
    return True, ""


def workflow_protection(workflow: WorkflowFacts, rules: Iterable[Rule], *, severity: str | None = "block") -> str:
    """Why the engine may not propose retiring the workflow (the rules that protect it); "" when it may."""
    names = [
        rule.name
        for rule, kind in _with_severity(rules, severity)
        if kind.judges_target == WORKFLOW and in_scope(rule.scope, workflow) and kind.singles_out(rule, workflow)
    ]
    return f"protected by {', '.join(names)}" if names else ""
