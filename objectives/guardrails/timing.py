"""Kinds about when a campaign may change at all: after a cooldown, on enough evidence.

They judge every change, whatever field it moves, and the engine proposes
nothing for a campaign they hold back.
"""

from __future__ import annotations

from datetime import date

from objectives.guardrails.base import EPS, CampaignFacts, Rule, campaign_prefix, days_text, number_text, sentence
from objectives.guardrails.kind import CheckContext, GuardrailKind
from objectives.guardrails.moves import CampaignMove
from objectives.guardrails.params import Number, WholeNumber


class _HoldsBackCampaigns(GuardrailKind):
    """A kind whose verdict on a campaign is its reason to hold the campaign back."""

    judges_every_field = True

    def passed_message(self, rule: Rule) -> str:
        raise NotImplementedError

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        many = len(moves) > 1
        failures = [
            f"{campaign_prefix(move.facts, many)}{problem}"
            for move in moves
            if (problem := self.holds_back(rule, move.facts, context.today))
        ]
        if failures:
            return False, sentence(failures)
        return True, self.passed_message(rule)


class Cooldown(_HoldsBackCampaigns):
    name = "cooldown"
    label = "Cooldown"
    params = (WholeNumber("days", "Days between applied changes to one campaign", low=1),)

    def holds_back(self, rule: Rule, campaign: CampaignFacts, today: date) -> str:
        days, last = int(rule.params["days"]), campaign.last_applied_change
        if last is None:
            return ""
        since = (today - last).days
        if since >= days:
            return ""
        when = "today" if since <= 0 else f"{days_text(since)} ago"
        return f"last change applied {when} (cooldown {days_text(days)})"

    def passed_message(self, rule: Rule) -> str:
        return f"No change applied in the last {days_text(int(rule.params['days']))}"


class MinEvidence(_HoldsBackCampaigns):
    name = "min_evidence"
    label = "Minimum evidence"
    params = (
        WholeNumber("days", "Days of data with spend, at least"),
        Number("conversions", "Conversions, at least"),
    )

    def holds_back(self, rule: Rule, campaign: CampaignFacts, today: date) -> str:
        need_days, need_conversions = int(rule.params["days"]), float(rule.params["conversions"])
        problems = []
        if campaign.evidence_days < need_days:
            problems.append(f"only {days_text(campaign.evidence_days)} of data (needs {need_days})")
        if campaign.evidence_conversions < need_conversions - EPS:
            problems.append(
                f"only {number_text(campaign.evidence_conversions)} conversions (needs {number_text(need_conversions)})"
            )
        return " and ".join(problems)

    def passed_message(self, rule: Rule) -> str:
        days, conversions = int(rule.params["days"]), float(rule.params["conversions"])
        return f"Enough evidence (at least {days_text(days)} and {number_text(conversions)} conversions)"
