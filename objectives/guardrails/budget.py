"""Kinds that bound budgets: one campaign's move, one campaign's level, a group's sum."""

from __future__ import annotations

import math
from collections.abc import Mapping

from objectives.formatting import exact_money
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
    scope_text,
    sentence,
)
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import CampaignMove
from objectives.guardrails.params import Number

# A message about campaigns already breaking a rule names this many, then counts the rest.
SHOWN_CAMPAIGNS = 5


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
                moved = f"moves from 0 to {exact_money(after)}" if math.isinf(pct) else f"moves {pct_text(pct)}%"
                failures.append(f"{campaign_prefix(move.facts, many)}budget {moved} (limit {pct_text(limit)}%)")
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
            after, prefix = move.budget_after, campaign_prefix(move.facts, many)
            if after < low - EPS:
                failures.append(f"{prefix}budget {exact_money(after)} is below the minimum {exact_money(low)}")
            elif after > high + EPS:
                failures.append(f"{prefix}budget {exact_money(after)} is above the maximum {exact_money(high)}")
        if failures:
            return False, sentence(failures)
        return True, f"Budget stays within {exact_money(low)}–{exact_money(high)}"

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        return Limits(low=float(rule.params["min"]), high=float(rule.params["max"]))

    def broken_today(self, rule: Rule, campaigns: list[CampaignFacts], names: Mapping[str, str]) -> str:
        low, high = float(rule.params["min"]), float(rule.params["max"])
        outside = [c for c in campaigns if not low - EPS <= c.daily_budget <= high + EPS]
        if not outside:
            return ""
        listed = ", ".join(
            f"{names.get(c.external_id) or c.external_id} at {exact_money(c.daily_budget)}"
            for c in outside[:SHOWN_CAMPAIGNS]
        )
        more = f" and {len(outside) - SHOWN_CAMPAIGNS} more" if len(outside) > SHOWN_CAMPAIGNS else ""
        count = "1 campaign's budget is" if len(outside) == 1 else f"{len(outside)} campaigns' budgets are"
        return f"already broken: {count} outside {exact_money(low)}–{exact_money(high)} today ({listed}{more})"


class TotalBudgetCap(GuardrailKind):
    name = "total_budget_cap"
    label = "Total budget cap"
    params = (Number("amount", "Cap on the sum of daily budgets"),)
    # A resume brings a budget back into the sum, a pause takes one out.
    judged_fields = (BUDGET, STATUS)
    reads_whole_scope = True  # the scope's total adds up every campaign in it

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        """The scope's total after the changes against the cap; only a change that raises it past the cap fails.

        A scope already over its cap is not made worse by a cut, so cutting (or keeping) it passes: the cap
        judges what a proposal does to the total, not the total it inherited.
        """
        cap = float(rule.params["amount"])
        before, after = self.scope_totals(rule, context)
        whose = f"Total daily budget of {scope_text(rule.scope)}" if rule.scope else "Total daily budget"
        if after <= cap + EPS:
            return True, f"{whose} {exact_money(after)} (cap {exact_money(cap)})"
        over = f"{whose} {exact_money(after)} is over the cap {exact_money(cap)}"
        if after > before + EPS:
            return False, over
        if after < before - EPS:
            return True, f"{over}, but this change lowers it from {exact_money(before)}"
        return True, f"{over}, but this change does not raise it"

    @staticmethod
    def scope_totals(rule: Rule, context: CheckContext) -> tuple[float, float]:
        """(the scope's total daily budget before the changes, after them); paused campaigns count for nothing."""
        before = after = 0.0
        for facts in context.campaigns.values():
            if not in_scope(rule.scope, facts):
                continue
            move = context.moves.get(facts.external_id)
            if move is None:
                if facts.status != PAUSED:
                    before += facts.daily_budget
                    after += facts.daily_budget
                continue
            # A paused campaign spends nothing, so its budget does not count
            # against the cap; resuming one brings it back in.
            if move.status_before != PAUSED:
                before += move.budget_before
            if move.status_after != PAUSED:
                after += move.budget_after
        return before, after

    def total_cap(self, rule: Rule, campaigns: list[CampaignFacts]) -> tuple[list[str], float]:
        # The same campaigns check() adds up: the scope's, paused ones left out.
        ids = sorted(c.external_id for c in campaigns if in_scope(rule.scope, c) and c.status != PAUSED)
        return ids, float(rule.params["amount"])

    def broken_today(self, rule: Rule, campaigns: list[CampaignFacts], names: Mapping[str, str]) -> str:
        cap = float(rule.params["amount"])
        total = sum(c.daily_budget for c in campaigns if c.status != PAUSED)
        if total <= cap + EPS:
            return ""
        whose = "the scope's budgets" if rule.scope else "the budgets of all campaigns"
        return f"already exceeded: {whose} total {exact_money(total)} today, over the cap {exact_money(cap)}"
