"""A monthly budget: what a scope may spend in a calendar month, judged on the spend projected to month end.

The projection is month-to-date spend plus, for each remaining day, each
campaign's daily budget times the share of its budget it actually spends
(`CampaignFacts.spend_share`): a campaign that spends 80% of its budget adds
80% of a raise, not all of it. Days the data has not reached yet (an import a
day behind) count as remaining days, so they are projected, not forgotten.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Mapping

from objectives.formatting import exact_money
from objectives.guardrails.base import BUDGET, EPS, PAUSED, STATUS, CampaignFacts, Rule, in_scope, scope_text
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import CampaignMove
from objectives.guardrails.params import Number


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the day's calendar month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def days_left(today: dt.date, spend_through: dt.date | None) -> int:
    """Days of today's month the month-to-date spend does not cover yet: after `spend_through`, or all of them."""
    first, last = month_bounds(today)
    start = spend_through + dt.timedelta(days=1) if spend_through and spend_through >= first else first
    return max((last - start).days + 1, 0)


def projected_spend(
    facts: CampaignFacts, *, today: dt.date, budget: float | None = None, paused: bool = False
) -> float:
    """The campaign's spend at month end, at `budget` (its current one by default) for the days left."""
    per_day = 0.0 if paused else (facts.daily_budget if budget is None else budget) * facts.spend_share
    return facts.month_spend + per_day * days_left(today, facts.spend_through)


def scope_projection(
    rule: Rule, campaigns: Iterable[CampaignFacts], moves: Mapping[str, CampaignMove], today: dt.date
) -> tuple[float, float]:
    """(projected month-end spend of the rule's scope as it is, after the moves)."""
    before = after = 0.0
    for facts in campaigns:
        if not in_scope(rule.scope, facts):
            continue
        before += projected_spend(facts, today=today, paused=facts.status == PAUSED)
        move = moves.get(facts.external_id)
        if move is None:
            after += projected_spend(facts, today=today, paused=facts.status == PAUSED)
        else:
            after += projected_spend(facts, today=today, budget=move.budget_after, paused=move.status_after == PAUSED)
    return before, after


class MonthlyBudget(GuardrailKind):
    name = "monthly_budget"
    label = "Monthly budget"
    params = (Number("amount", "Spend allowed in a calendar month"),)
    # A raise or a resume adds to the month's spend; a cut or a pause takes from it.
    judged_fields = (BUDGET, STATUS)
    reads_whole_scope = True  # the scope's projection adds up every campaign in it
    reads_month_spend = True

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        """Only a change that raises the projection past the amount fails; a cut of an overspending scope passes."""
        amount = float(rule.params["amount"])
        before, after = scope_projection(rule, context.campaigns.values(), context.moves, context.today)
        whose = f"Projected month-end spend of {scope_text(rule.scope)}" if rule.scope else "Projected month-end spend"
        if after <= amount + EPS:
            return True, f"{whose} {exact_money(after)} (monthly budget {exact_money(amount)})"
        over = f"{whose} {exact_money(after)} is over the monthly budget {exact_money(amount)}"
        if after > before + EPS:
            return False, f"{over} (it was {exact_money(before)} before this change)"
        return True, f"{over}, but this change does not raise it"

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        """A one-campaign monthly budget caps the budget at what lands the month on the amount.

        Never below today's budget: correcting an overspend is the pacing proposals' job, with their own
        rationale, not a cut the allocator would have to explain as a better use of money.
        """
        if "campaign" not in rule.scope:
            return Limits()
        return Limits(high=max(campaign.daily_budget, self._landing_budget(rule, [campaign])))

    def total_cap(self, rule: Rule, campaigns: list[CampaignFacts]) -> tuple[list[str], float] | None:
        """A channel's, a tag's or every campaign's monthly budget caps the sum of their daily budgets the same way."""
        if "campaign" in rule.scope:
            return None
        scoped = [c for c in campaigns if in_scope(rule.scope, c) and c.status != PAUSED]
        if not scoped:
            return None
        current = sum(c.daily_budget for c in scoped)
        return sorted(c.external_id for c in scoped), max(current, self._landing_budget(rule, scoped))

    @staticmethod
    def _landing_budget(rule: Rule, campaigns: list[CampaignFacts]) -> float:
        """The total daily budget that, spent at the campaigns' usual share, ends the month on the amount.

        Counted from the latest day with data (limits take no date); with no data this month, no limit.
        """
        budget = sum(c.daily_budget for c in campaigns)
        through = max((c.spend_through for c in campaigns if c.spend_through), default=None)
        if through is None:
            return math.inf
        left = days_left(through, through)
        spends = sum(c.daily_budget * c.spend_share for c in campaigns)
        share = spends / budget if budget > 0 else 1.0
        if left <= 0 or share <= 0:
            return budget
        remaining = float(rule.params["amount"]) - sum(c.month_spend for c in campaigns)
        return max(remaining / left / share, 0.0)
