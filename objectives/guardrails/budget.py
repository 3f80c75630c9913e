"""Kinds that bound budgets: one campaign's move, one campaign's level, a group's sum."""

from __future__ import annotations

import math

from objectives.guardrails.base import (
    BUDGET,
    EPS,
    PAUSED,
    STATUS,
    CampaignFacts,
    Rule,
    campaign_prefix,
    in_scope,
    number_text,
    pct_text,
    sentence,
)
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import CampaignMove
from objectives.guardrails.params import Number


def change_pct(before: float, after: float) -> float:
    if before <= 0:
        return 0.0 if after <= 0 else math.inf
    return abs(after - before) / before * 100


class MaxBudgetChange(GuardrailKind):
    name = "max_budget_change_pct"
    label = "Max budget change %"
    params = (Number("pct", "Largest move, % of the daily budget", high=100),)
    judged_fields = (BUDGET,)

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        limit = float(rule.params["pct"])
        many = len(moves) > 1
        failures, largest = [], 0.0
        for move in moves:
            before, after = move.budget_before, move.budget_after
            pct = change_pct(before, after)
            largest = max(largest, pct)
            if pct > limit + EPS:
                moved = f"moves from 0 to {number_text(after)}" if math.isinf(pct) else f"moves {pct_text(pct)}%"
                failures.append(
                    f"{campaign_prefix(move.facts.external_id, many)}budget {moved} (limit {pct_text(limit)}%)"
                )
        if failures:
            return False, sentence(failures)
        return True, f"Budget moves {pct_text(largest)}% (limit {pct_text(limit)}%)"

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        current = float(campaign.daily_budget)
        step = current * float(rule.params["pct"]) / 100
        return Limits(low=max(0.0, current - step), high=current + step)


class BudgetBounds(GuardrailKind):
    name = "budget_bounds"
    label = "Budget bounds"
    params = (Number("min", "Lowest daily budget"), Number("max", "Highest daily budget"))
    judged_fields = (BUDGET,)

    def problems_together(self, params: dict) -> list[str]:
        if params["min"] > params["max"]:
            return [f"max: must be at least min ({number_text(params['min'])})"]
        return []

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        low, high = float(rule.params["min"]), float(rule.params["max"])
        many = len(moves) > 1
        failures = []
        for move in moves:
            after, prefix = move.budget_after, campaign_prefix(move.facts.external_id, many)
            if after < low - EPS:
                failures.append(f"{prefix}budget {number_text(after)} is below the minimum {number_text(low)}")
            elif after > high + EPS:
                failures.append(f"{prefix}budget {number_text(after)} is above the maximum {number_text(high)}")
        if failures:
            return False, sentence(failures)
        return True, f"Budget stays within {number_text(low)}–{number_text(high)}"

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        return Limits(low=float(rule.params["min"]), high=float(rule.params["max"]))


class TotalBudgetCap(GuardrailKind):
    name = "total_budget_cap"
    label = "Total budget cap"
    params = (Number("amount", "Cap on the sum of daily budgets"),)
    # A resume brings a budget back into the sum, a pause takes one out.
    judged_fields = (BUDGET, STATUS)

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        cap = float(rule.params["amount"])
        total = 0.0
        for facts in context.campaigns.values():
            if not in_scope(rule.scope, facts):
                continue
            move = context.moves.get(facts.external_id)
            budget = move.budget_after if move else facts.daily_budget
            status = move.status_after if move else facts.status
            # A paused campaign spends nothing, so its budget does not count
            # against the cap; resuming one brings it back in.
            if status != PAUSED:
                total += budget
        if total > cap + EPS:
            return False, f"Total daily budget {number_text(total)} is over the cap {number_text(cap)}"
        return True, f"Total daily budget {number_text(total)} (cap {number_text(cap)})"

    def total_cap(self, rule: Rule, campaigns: list[CampaignFacts]) -> tuple[list[str], float]:
        ids = sorted(c.external_id for c in campaigns if in_scope(rule.scope, c) and c.status != PAUSED)
        return ids, float(rule.params["amount"])
