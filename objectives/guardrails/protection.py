"""Kinds that single out campaigns, workflows or audiences: protected campaigns (never paused or cut), forbidden
audiences (campaign audiences never grown; test audiences never defined by a forbidden attribute, nor without a
minimum such as age 18 or more) and protected workflows (never retired)."""

from __future__ import annotations

from objectives.formatting import exact_money
from objectives.guardrails import fields
from objectives.guardrails.base import BUDGET, EPS, STATUS, CampaignFacts, Rule, campaign_prefix, number_text, sentence
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import AudienceMove, CampaignMove, WorkflowMove, current_value
from objectives.guardrails.params import Number, Phrases, Text


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


def _attribute_label(name: str) -> str:
    return str(name).replace("_", " ")


class ForbiddenAudiences(GuardrailKind):
    """Campaign audiences no money may grow (`segments`), and what no audience of a randomised test may be defined
    by: an attribute never used (`attributes`, e.g. a sensitive one) and a number every member must reach
    (`min_attribute` ≥ `min_value`, e.g. age 18 or more: the audience's definition must say so)."""

    name = "forbidden_audiences"
    label = "Forbidden audiences"
    params = (
        Phrases(
            "segments",
            "Forbidden audience segments",
            optional=True,
            help="Campaign audiences, as the campaigns name them: no budget increase, no resume, no move into one.",
        ),
        Phrases(
            "attributes",
            "Attributes no test audience may use",
            optional=True,
            help="Customer attributes of the randomised tests (their column names, e.g. ethnicity): an audience "
            "with any condition on one fails.",
        ),
        Text(
            "min_attribute",
            "Attribute every audience member must reach",
            optional=True,
            help="A number attribute of the tests, e.g. age, with the minimum below.",
        ),
        Number(
            "min_value",
            "Its minimum",
            optional=True,
            help="E.g. 18: an audience passes only when its definition says age 18 or more, so nobody younger "
            "(and nobody of unknown age) can be in it.",
        ),
    )
    judged_fields = (BUDGET, STATUS)
    judged_traits = ("names_audience",)
    also_judges = (fields.AUDIENCE_TARGET,)

    def problems_together(self, params: dict) -> list[str]:
        if params.get("min_attribute") and params.get("min_value") is None:
            return [f"min_value: give the minimum of {params['min_attribute']}"]
        if params.get("min_value") is not None and not params.get("min_attribute"):
            return ["min_attribute: name the attribute the minimum is for"]
        if not (params.get("segments") or params.get("attributes") or params.get("min_attribute")):
            return ["segments: give at least one forbidden segment, attribute or minimum"]
        return []

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

    # --- audiences of randomised tests ---------------------------------------------------------------

    def concerns_audience(self, rule: Rule, move: AudienceMove) -> bool:
        return bool(rule.params.get("attributes") or rule.params.get("min_attribute"))

    @staticmethod
    def _reaches(condition, minimum: float) -> bool:
        """Whether a condition keeps everyone below the minimum out: a range starting at it or above, or a list
        of numbers all at it or above (a customer whose value is unknown meets no condition)."""
        if isinstance(condition, dict):
            low = condition.get("min")
            return low is not None and float(low) >= minimum - EPS
        try:
            return bool(condition) and all(float(value) >= minimum - EPS for value in condition)
        except (TypeError, ValueError):
            return False

    def _audience_problems(self, rule: Rule, move: AudienceMove) -> list[str]:
        if not move.sends:
            return []  # going back to the control targets nobody
        segment = move.facts.segment
        used = {str(name).casefold(): name for name in segment}
        problems = [
            f"is defined by {_attribute_label(used[name.casefold()])}, an attribute no audience may use"
            for name in rule.params.get("attributes", ())
            if name.casefold() in used
        ]
        attribute = rule.params.get("min_attribute")
        if attribute:
            minimum = float(rule.params.get("min_value", 0))
            condition = segment.get(used.get(attribute.casefold(), attribute))
            if condition is None or not self._reaches(condition, minimum):
                label = _attribute_label(attribute)
                problems.append(
                    f"could hold customers under {number_text(minimum)}: its definition must say "
                    f"{label} {number_text(minimum)} or more"
                )
        return problems

    def check_audiences(self, rule: Rule, moves: list[AudienceMove], context: CheckContext) -> tuple[bool, str]:
        many = len(moves) > 1
        failures = []
        for move in moves:
            subject = f"The audience “{move.facts.name}”" if many else "This audience"
            problems = self._audience_problems(rule, move)
            failures += [f"{subject} {' and '.join(problems)}"] if problems else []
        if failures:
            return False, sentence(failures)
        if not any(move.sends for move in moves):
            return True, "Stops sending to this audience"
        kept = []
        if rule.params.get("attributes"):
            kept.append(f"uses none of {', '.join(_attribute_label(a) for a in rule.params['attributes'])}")
        if rule.params.get("min_attribute"):
            minimum = number_text(float(rule.params.get("min_value", 0)))
            kept.append(f"says {_attribute_label(rule.params['min_attribute'])} {minimum} or more")
        return True, f"The audience {' and '.join(kept)}"


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
