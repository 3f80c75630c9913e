"""Kinds that single out campaigns or workflows: protected campaigns (never paused or cut), forbidden audiences
(never grown) and protected workflows (never retired)."""

from __future__ import annotations

from objectives.formatting import exact_money
from objectives.guardrails import fields
from objectives.guardrails.base import BUDGET, EPS, STATUS, CampaignFacts, Rule, campaign_prefix, sentence
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import CampaignMove, WorkflowMove, current_value
from objectives.guardrails.params import Phrases, Text


class ProtectedCampaigns(GuardrailKind):
    name = "protected_campaigns"
    label = "Protected campaigns"
    params = (Text("tag", "Tag of the protected campaigns"),)
    judged_fields = (BUDGET, STATUS)
    names_campaigns_by = {"tag": "tag"}

    def singles_out(self, rule: Rule, campaign: CampaignFacts) -> bool:
        # An untagged campaign has nothing to do with brand protection.
        return rule.params.get("tag") in campaign.tags

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        tag = rule.params["tag"]
        many = len(moves) > 1
        failures = []
        for move in moves:
            prefix = campaign_prefix(move.facts, many)
            if move.is_paused_now:
                failures.append(f"{prefix}pauses a protected campaign (tag “{tag}”)")
            elif move.changes(BUDGET) and move.budget_after < move.budget_before - EPS:
                failures.append(
                    f"{prefix}cuts a protected campaign (tag “{tag}”) "
                    f"from {exact_money(move.budget_before)} to {exact_money(move.budget_after)}"
                )
        if failures:
            return False, sentence(failures)
        return True, f"Protected campaign (tag “{tag}”) is neither paused nor cut"

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        return Limits(low=float(campaign.daily_budget), may_pause=False)


def audience_fields() -> list[fields.Field]:
    return [field for field in fields.FIELDS.values() if field.names_audience]


class ForbiddenAudiences(GuardrailKind):
    name = "forbidden_audiences"
    label = "Forbidden audiences"
    params = (Phrases("segments", "Forbidden audience segments"),)
    judged_fields = (BUDGET, STATUS)
    judged_traits = ("names_audience",)

    def singles_out(self, rule: Rule, campaign: CampaignFacts) -> bool:
        segments = rule.params.get("segments", ())
        return any(current_value(campaign, field.name) in segments for field in audience_fields())

    def singles_out_move(self, rule: Rule, move: CampaignMove) -> bool:
        # A campaign leaving a forbidden audience and one entering it are both the rule's business.
        segments = rule.params.get("segments", ())
        targeted = self._targeted(move, after=False) + self._targeted(move, after=True)
        return any(audience in segments for audience in targeted)

    @staticmethod
    def _targeted(move: CampaignMove, *, after: bool) -> list:
        """The audiences the campaign targets before or after the changes."""
        read = move.value_after if after else move.value_before
        return [read(field.name) for field in audience_fields()]

    def _problem(self, rule: Rule, move: CampaignMove) -> str:
        segments = rule.params["segments"]
        for field in move.changed_fields:
            after = move.value_after(field.name)
            if field.names_audience and after in segments and after != move.value_before(field.name):
                return f"{field.label} changes to the forbidden audience “{after}”"
        forbidden = [audience for audience in self._targeted(move, after=True) if audience in segments]
        if not forbidden:
            return ""
        if move.is_resumed_now:
            return f"resumes targeting the forbidden audience “{forbidden[0]}”"
        if move.changes(BUDGET) and move.budget_after > move.budget_before + EPS:
            return (
                f"budget rises from {exact_money(move.budget_before)} to {exact_money(move.budget_after)} "
                f"on the forbidden audience “{forbidden[0]}”"
            )
        return ""

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        many = len(moves) > 1
        failures = [
            f"{campaign_prefix(move.facts, many)}{problem}" for move in moves if (problem := self._problem(rule, move))
        ]
        if failures:
            return False, sentence(failures)
        return True, "No increase on a forbidden audience"

    def limits(self, rule: Rule, campaign: CampaignFacts) -> Limits:
        return Limits(high=float(campaign.daily_budget))


class ProtectedWorkflows(GuardrailKind):
    """Compliance or legal flows (double opt-in, unsubscribe handling) that must never be switched off."""

    name = "protected_workflows"
    label = "Protected workflows"
    params = (Text("tag", "Tag of the protected workflows"),)
    judges_target = fields.WORKFLOW

    def singles_out(self, rule: Rule, campaign) -> bool:
        # Read on a workflow's facts; a campaign with the tag is not what this rule protects.
        return self.judges_target == fields.WORKFLOW and rule.params.get("tag") in campaign.tags

    def check(self, rule: Rule, moves: list[WorkflowMove], context: CheckContext) -> tuple[bool, str]:
        tag = rule.params["tag"]
        retired = [
            m.facts.name for m in moves if m.status_after == fields.RETIRED and m.status_before != fields.RETIRED
        ]
        if retired:
            return False, f"Retires the protected workflow {', '.join(retired)} (tag “{tag}”)"
        return True, f"Protected workflow (tag “{tag}”) stays enabled"
