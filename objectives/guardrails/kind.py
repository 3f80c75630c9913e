"""The base class of a guardrail kind: one subclass per kind holds everything about it.

A kind says which params it takes (and so its form fields and their
validation), which proposal fields it judges, how it judges a change, and
what it lets the engine do, as numbers the allocator obeys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from objectives.guardrails import fields
from objectives.guardrails.base import CampaignFacts, Rule
from objectives.guardrails.moves import AudienceMove, CampaignMove
from objectives.guardrails.params import Param


@dataclass(frozen=True)
class Limits:
    """What one rule lets the engine do with one campaign's daily budget."""

    low: float = 0.0
    high: float = math.inf
    may_pause: bool = True

    def within(self, other: Limits) -> Limits:
        """Both at once: the higher floor, the lower ceiling, a pause only if both allow it."""
        return Limits(max(self.low, other.low), min(self.high, other.high), self.may_pause and other.may_pause)


@dataclass(frozen=True)
class CheckContext:
    """What a check may look at beyond the campaigns it judges."""

    campaigns: Mapping[str, CampaignFacts]  # every campaign, not only the changed ones: a cap adds up its scope
    moves: Mapping[str, CampaignMove]  # every changed campaign, by external id
    today: date
    copy_text: str = ""


class GuardrailKind:
    name: ClassVar[str]
    label: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    # The proposal fields whose change the kind judges: named ones, those with a
    # trait of fields.Field (names_audience, carries_copy), or every one.
    judged_fields: ClassVar[tuple[str, ...]] = ()
    judged_traits: ClassVar[tuple[str, ...]] = ()
    judges_every_field: ClassVar[bool] = False
    # What it judges: campaign moves, or (fields.WORKFLOW) workflow moves, whose facts are WorkflowFacts, or
    # (fields.AUDIENCE_TARGET) the audiences of randomised tests, whose facts are AudienceFacts. A kind that judges
    # audiences beside its own target lists them in `also_judges` and judges them in check_audiences().
    judges_target: ClassVar[str] = fields.CAMPAIGN
    also_judges: ClassVar[tuple[str, ...]] = ()
    # Reads AudienceFacts.other_lists (the live lists an audience's customers are on): counted only when a rule
    # of such a kind is in force, as it reads every live list.
    reads_contacts: ClassVar[bool] = False
    # Params that name campaigns the way a scope does (param key → scope key): checked like a scope when saved,
    # so a protected tag nobody carries ("brnad") is refused instead of protecting nothing.
    names_campaigns_by: ClassVar[dict[str, str]] = {}
    # What check() reads beyond the moved campaigns' own facts, so that a decision loads only what its rules need
    # (decisions.review.selectors.facts_for_change): every campaign of its scope (context.campaigns), and this
    # month's spend (CampaignFacts.month_spend, spend_through, spend_share).
    reads_whole_scope: ClassVar[bool] = False
    reads_month_spend: ClassVar[bool] = False

    # --- params ---------------------------------------------------------------------

    def validate(self, params: dict) -> list[str]:
        """Problems with the params, each starting with the key it concerns."""
        allowed = [param.key for param in self.params]
        problems = [
            f"{key}: unknown key; {self.name} takes {', '.join(allowed)}" for key in params if key not in allowed
        ]
        missing = [f"{param.key}: required" for param in self.params if not param.optional and param.key not in params]
        if missing:
            return problems + missing
        found = [
            problem for param in self.params if param.key in params and (problem := param.problem(params[param.key]))
        ]
        return problems + (found or self.problems_together(params))

    def problems_together(self, params: dict) -> list[str]:
        """Problems between params that are each fine on their own (a minimum above the maximum)."""
        return []

    # --- what it judges -------------------------------------------------------------------

    def judges(self, field: fields.Field) -> bool:
        if self.judges_every_field or field.name in self.judged_fields:
            return True
        return any(getattr(field, trait) for trait in self.judged_traits)

    def singles_out(self, rule: Rule, campaign: CampaignFacts) -> bool:
        """Whether the campaign, as it is, is one the rule is about (a protected tag); most rules are about all."""
        return True

    def singles_out_move(self, rule: Rule, move: CampaignMove) -> bool:
        return self.singles_out(rule, move.facts)

    def concerns(self, rule: Rule, move: CampaignMove, context: CheckContext) -> bool:
        """The rule gives a verdict on a campaign in its scope only when a field it judges changes there."""
        return self.singles_out_move(rule, move) and any(self.judges(field) for field in move.changed_fields)

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        """(passed, message) for the campaigns the rule concerns; never called with none."""
        raise NotImplementedError

    def judged_targets(self) -> tuple[str, ...]:
        return (self.judges_target, *self.also_judges)

    def concerns_audience(self, rule: Rule, move: AudienceMove) -> bool:
        """Whether the rule gives a verdict on an audience's change (kinds judging audiences say when)."""
        return fields.AUDIENCE_TARGET in self.judged_targets()

    def check_audiences(self, rule: Rule, moves: list[AudienceMove], context: CheckContext) -> tuple[bool, str]:
        """(passed, message) for the audiences the rule concerns; never called with none."""
        raise NotImplementedError

    # --- what the engine must obey ------------------------------------------------------------

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        return Limits()

    def total_cap(self, rule: Rule, campaigns: list[CampaignFacts]) -> tuple[list[str], float] | None:
        """(external ids whose budgets add up against the cap, the cap), for a kind that caps a sum."""
        return None

    def holds_back(self, rule: Rule, campaign: CampaignFacts, today: date) -> str:
        """Why the engine may propose nothing for the campaign today; "" when it may."""
        return ""

    # --- what today's campaigns already break ------------------------------------------------------

    def broken_today(self, rule: Rule, campaigns: list[CampaignFacts], names: Mapping[str, str]) -> str:
        """How the campaigns in the rule's scope, as they are, already break it; "" when they do not.

        Said when a guardrail is saved and in its backtest: a rule broken from day one judges the next
        proposal, not the budgets it was written against.
        """
        return ""
