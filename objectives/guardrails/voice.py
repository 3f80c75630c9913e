"""The kind that judges words: copy in a proposal follows the brand voice, and so does the copy of an action a
proposal sends an audience of a randomised test (its name, subject line and message, set on the test's page)."""

from __future__ import annotations

from objectives.guardrails import fields
from objectives.guardrails.base import Rule, quoted, sentence
from objectives.guardrails.kind import CheckContext, GuardrailKind
from objectives.guardrails.moves import AudienceMove, CampaignMove
from objectives.guardrails.params import Phrases


def _phrase_list(label: str, phrases: list[str]) -> str:
    return label + (" phrase " if len(phrases) == 1 else " phrases ") + quoted(phrases)


class BrandVoice(GuardrailKind):
    name = "brand_voice"
    label = "Brand voice"
    params = (
        Phrases("banned_phrases", "Banned phrases", optional=True, may_be_empty=True),
        Phrases("required_phrases", "Required phrases", optional=True, may_be_empty=True),
    )
    judged_traits = ("carries_copy",)
    also_judges = (fields.AUDIENCE_TARGET,)

    def problems_together(self, params: dict) -> list[str]:
        if not params.get("banned_phrases") and not params.get("required_phrases"):
            return ["banned_phrases: give at least one banned or required phrase"]
        return []

    def concerns(self, rule: Rule, move: CampaignMove, context: CheckContext) -> bool:
        # Copy given alongside the changes (copy_text) is judged with whatever they change.
        return bool(context.copy_text.strip()) or super().concerns(rule, move, context)

    @staticmethod
    def _texts(moves: list[CampaignMove], context: CheckContext) -> list[str]:
        texts = [context.copy_text] if context.copy_text.strip() else []
        for move in moves:
            texts += [str(move.value_after(field.name)) for field in move.changed_fields if field.carries_copy]
        return [text.casefold() for text in texts if text.strip()]

    def check(self, rule: Rule, moves: list[CampaignMove], context: CheckContext) -> tuple[bool, str]:
        texts = self._texts(moves, context)
        if not texts:
            return True, "No copy text to check"
        problems = self._problems(rule, texts)
        if problems:
            return False, sentence(problems)
        return True, "Copy follows the brand voice"

    @staticmethod
    def _problems(rule: Rule, texts: list[str]) -> list[str]:
        banned = [p for p in rule.params.get("banned_phrases", []) if any(p.casefold() in text for text in texts)]
        missing = [
            p for p in rule.params.get("required_phrases", []) if any(p.casefold() not in text for text in texts)
        ]
        problems = []
        if banned:
            problems.append(_phrase_list("copy uses banned", banned))
        if missing:
            problems.append(_phrase_list("copy lacks required", missing))
        return problems

    # --- the action an audience change sends ----------------------------------------------------------

    def concerns_audience(self, rule: Rule, move: AudienceMove) -> bool:
        return move.sends  # the control sends nothing, so it has no copy to judge

    def check_audiences(self, rule: Rule, moves: list[AudienceMove], context: CheckContext) -> tuple[bool, str]:
        failures = []
        for move in moves:
            # The action's name, subject line and message together are its copy: a required phrase may be in any.
            copy = "\n".join(move.sent.texts() + ([context.copy_text] if context.copy_text.strip() else []))
            problems = self._problems(rule, [copy.casefold()])
            failures += [f"{move.sent.name}: {'; '.join(problems)}"] if problems else []
        if failures:
            return False, sentence(failures)
        names = ", ".join(dict.fromkeys(move.sent.name for move in moves))
        return True, f"The copy of {names} follows the brand voice"
