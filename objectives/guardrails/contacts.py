"""The kind that counts contacts: how many actions of the randomised tests' audience lists a customer gets a week."""

from __future__ import annotations

from objectives.guardrails import fields
from objectives.guardrails.base import Rule, sentence
from objectives.guardrails.kind import CheckContext, GuardrailKind
from objectives.guardrails.moves import AudienceMove
from objectives.guardrails.params import WholeNumber


def _actions(n: int) -> str:
    return f"{n} action a week" if n == 1 else f"{n} actions a week"


def _customers(n: int) -> str:
    return f"{n:,} customer" if n == 1 else f"{n:,} customers"


class ContactCap(GuardrailKind):
    """A customer gets at most `max_per_week` actions a week. Each live audience list (of any test) is one action a
    week; a change that sends an audience an action counts, for each of its customers, the live lists they are on
    already (the audience's own list aside: the new action replaces it) plus this one. Customers are matched across
    tests by their id; one without an id counts this action only."""

    name = "contact_cap"
    label = "Contact cap"
    params = (
        WholeNumber(
            "max_per_week",
            "Actions a customer may get a week, at most",
            low=1,
            help="Each live audience list is one action a week. E.g. 2: a proposal that would give any customer of "
            "its audience a third fails.",
        ),
    )
    judges_target = fields.AUDIENCE_TARGET
    reads_contacts = True

    def concerns_audience(self, rule: Rule, move: AudienceMove) -> bool:
        return move.sends  # going back to the control sends nothing: no one gets more

    def check_audiences(self, rule: Rule, moves: list[AudienceMove], context: CheckContext) -> tuple[bool, str]:
        cap = int(rule.params["max_per_week"])
        many = len(moves) > 1
        failures, most = [], 1
        for move in moves:
            # other_lists: customers by the live lists they are on now; with this action, one more each.
            after = {lists + 1: count for lists, count in move.facts.other_lists.items() if count}
            most = max([most, *after])
            over = sorted((n, count) for n, count in after.items() if n > cap)
            if not over:
                continue
            whose = f"the audience “{move.facts.name}”" if many else "this audience"
            first_n, first_count = over[0]
            parts = [f"{_customers(first_count)} of {whose} would get {_actions(first_n)}"]
            parts += [f"{count:,} would get {n}" for n, count in over[1:]]
            failures.append(f"{', '.join(parts)}; the cap is {cap}")
        if failures:
            return False, sentence(failures)
        return True, f"No customer of this audience would get more than {_actions(most)} (the cap is {cap})"
