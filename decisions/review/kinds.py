"""Proposal kinds: one spec each, and the one place that knows what a kind is.

A kind names what it moves (its target: a campaign, or a workflow — decisions/targets.py) and the field of that
target it moves (its lever, from objectives.guardrails.fields),
how a proposal of it reads in a sentence (its headline), and how its changes are
validated, edited, measured and inverted — all through that field. Nothing else
switches on a proposal's kind or on a field's name: generation asks `lever_of`, the
review services `clean_target` and `inverse`, the edit form the field, auto-approval,
the acceptance model and the report `move_pct`, the ledger connector the field, and
guardrail kinds say which fields they judge.

Adding a kind: register one `KindSpec` here, give the engine a drafter that proposes
it (`DRAFTERS` in decisions/generation/service.py), and test it. A change to a field nobody
registered is refused wherever it appears (`fields.UnknownField`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from objectives import formatting
from objectives.guardrails import fields


class UnknownKind(ValueError):
    """A proposal kind nobody registered."""


class InvalidChange(ValueError):
    """A change a kind cannot make: another field, a malformed entry, a value the field cannot take."""


# A headline reads the presented lines of a proposal: each change with its campaign's display `name`
# and, for money fields, its signed `delta`.
Headline = Callable[[list[dict]], str]


@dataclass(frozen=True)
class KindSpec:
    name: str  # the stored value, e.g. "budget_shift"
    label: str  # "Budget shift"
    field: str  # the lever: the one field of its target that its changes move
    headline: Headline
    help: str = ""  # one sentence for pages that explain kinds
    # What its changes move: a campaign (named by "campaign") or a workflow (by "workflow_id" and "platform");
    # decisions/targets.py looks each target up, names it, reads and writes its fields.
    target: str = fields.CAMPAIGN

    @property
    def lever(self) -> fields.Field:
        return fields.get(self.field, self.target)

    def validate(self, changes: list[dict]) -> list[dict]:
        """The changes, each checked: its target named, this kind's field, and a "to" the field can take."""
        if not isinstance(changes, list) or not changes:
            raise InvalidChange(f"A {self.label.lower()} changes at least one {self.target}.")
        key = fields.TARGET_KEYS[self.target]
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get(key), str):
                article = "an" if self.target[0] in "aeiou" else "a"
                raise InvalidChange(f"Malformed change {change!r}: it must name {article} {self.target}.")
            if change.get("field") != self.field or fields.target_of(change) != self.target:
                fields.of(change)  # an unregistered field says so first
                raise InvalidChange(f"A {self.label.lower()} moves {self.field}, not {change.get('field')}.")
            try:
                fields.check_shape(change)  # what the target needs beside its key: an audience's segment
            except fields.InvalidValue as error:
                raise InvalidChange(str(error)) from None
            clean_target(change, change.get("to"))
        return changes


REGISTRY: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> KindSpec:
    fields.get(spec.field, spec.target)  # a kind's lever must be a field proposals may change
    if REGISTRY.get(spec.name, spec) != spec:
        raise ValueError(f"another proposal kind is already registered as {spec.name!r}")
    REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Take a kind back out (tests that register a toy kind clean up after themselves)."""
    REGISTRY.pop(name, None)


def get(name) -> KindSpec:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownKind(f"unknown proposal kind {name!r}; expected one of {', '.join(REGISTRY)}") from None


def choices() -> list[tuple[str, str]]:
    """(stored value, label) of every kind: the model's choices, the filters' and auto-approval's."""
    return [(spec.name, spec.label) for spec in REGISTRY.values()]


def label(name: str) -> str:
    return REGISTRY[name].label if name in REGISTRY else str(name).replace("_", " ")


def lever_of(name: str) -> str:
    return get(name).field


def non_campaign_kinds() -> list[str]:
    """Kinds whose changes move something other than a campaign (no curve, no realised value, no budget)."""
    return [spec.name for spec in REGISTRY.values() if spec.target != fields.CAMPAIGN]


# --- what every kind does through its field --------------------------------------------


def clean_target(change: dict, value):
    """The reviewer's (or the engine's) target for one change, as its field stores it."""
    try:
        return fields.of(change).clean(value)
    except fields.InvalidValue as error:
        raise InvalidChange(str(error)) from None


def move_pct(change: dict) -> float:
    """One change's signed move in % of where it starts (a pause −100%, a new audience 100%).

    Raises UnknownField for a field nobody registered: an unmeasurable move is
    never read as 0%, i.e. as "small".
    """
    return fields.of(change).move_pct(change.get("from"), change.get("to"))


def largest_move_pct(changes: Iterable[dict]) -> float:
    return max((abs(move_pct(change)) for change in changes), default=0.0)


def inverse(changes: Iterable[dict]) -> list[dict]:
    """The changes that undo these: every kind moves one field from a value to another, so swap them."""
    return [{**change, "from": change["to"], "to": change["from"]} for change in changes]


# --- the kinds ---------------------------------------------------------------------------


def _money(value: float) -> str:
    return formatting.money(abs(value))


def _names(lines: list[dict]) -> str:
    names = [line["name"] for line in lines]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]} and {len(names) - 1} others"


def budget_headline(lines: list[dict]) -> str:
    """Move money between campaigns, or raise or cut one."""
    givers = sorted((line for line in lines if (line["delta"] or 0) < 0), key=lambda line: line["delta"])
    takers = sorted((line for line in lines if (line["delta"] or 0) > 0), key=lambda line: -line["delta"])
    if givers and takers:
        moved = sum(line["delta"] for line in takers)
        return f"Move {_money(moved)}/day from {_names(givers)} to {_names(takers)}"
    line = lines[0]
    verb = "Raise" if (line["delta"] or 0) >= 0 else "Cut"
    return f"{verb} {line['name']}’s daily budget by {_money(line['delta'] or 0)}"


def _verb_headline(verb: str) -> Headline:
    return lambda lines: f"{verb} {_names(lines)}"


BUDGET_SHIFT = register(
    KindSpec(
        "budget_shift",
        "Budget shift",
        fields.BUDGET,
        budget_headline,
        help="Moves daily budget between campaigns; the total stays the same.",
    )
)
BUDGET_CHANGE = register(
    KindSpec(
        "budget_change",
        "Budget change",
        fields.BUDGET,
        budget_headline,
        help="Raises or cuts one campaign's daily budget.",
    )
)
PAUSE = register(KindSpec("pause", "Pause", fields.STATUS, _verb_headline("Pause"), help="Pauses a campaign."))
RESUME = register(
    KindSpec("resume", "Resume", fields.STATUS, _verb_headline("Resume"), help="Resumes a paused campaign.")
)
RECLAIM = register(
    KindSpec(
        "reclaim",
        "Reclaim unspent budget",
        fields.BUDGET,
        budget_headline,
        help="Lowers the budget of campaigns that cannot spend it toward what they spend, and moves the money "
        "to campaigns that will; the total stays the same.",
    )
)


CHANNEL_SHIFT = register(
    KindSpec(
        "channel_shift",
        "Channel shift",
        fields.BUDGET,
        lambda lines: "Channel mix: " + budget_headline(lines)[0].lower() + budget_headline(lines)[1:],
        help="Moves daily budget between channels, read from total outcomes (the channel mix model), spread over "
        "each channel's campaigns by budget; the total stays the same.",
    )
)


SPEND_TEST_DAYS = 14  # decisions.engine.spend_tests.TEST_DAYS; the plan's own days are in its evidence


def spend_test_headline(lines: list[dict]) -> str:
    """ "Test: raise Search – Brand by 25% ($40/day) for 14 days, then return"."""
    before = sum(float(line["from"] or 0) for line in lines)
    delta = sum(line["delta"] or 0 for line in lines)
    pct = f"{100 * delta / before:.0f}% " if before else ""
    return f"Test: raise {_names(lines)} by {pct}({_money(delta)}/day) for {SPEND_TEST_DAYS} days, then return"


SPEND_TEST = register(
    KindSpec(
        "spend_test",
        "Spend test",
        fields.BUDGET,
        spend_test_headline,
        help="Raises a campaign (or a channel's campaigns) whose return is too uncertain to act on for a fixed "
        "number of days, then returns it on schedule; the test's days settle its curve.",
    )
)


def retire_headline(lines: list[dict]) -> str:
    """A retirement and why: "Retire Welcome series (old): last fired 214 days ago, 0 enrolments in 90 days"."""
    why = lines[0].get("why") or ""
    if len(lines) > 1:
        return f"Retire {_names(lines)} together"  # each line says why below
    return f"Retire {lines[0]['name']}" + (f": {why}" if why else "")


RETIRE_WORKFLOW = register(
    KindSpec(
        "retire_workflow",
        "Retire workflow",
        fields.STATUS,
        retire_headline,
        help="Switches off an automation workflow that has not fired for months; a rollback enables it again.",
        target=fields.WORKFLOW,
    )
)


def audience_headline(lines: list[dict]) -> str:
    """ "Send Mens e-mail to Bought men's items and … instead of No e-mail", or "Stop sending Womens e-mail to …"
    when the audience goes back to the test's control. Lines carry the actions' names (`to_name`, `from_name`,
    `control`) where the presenters know them, else the arms."""
    line = lines[0]
    to_name, from_name = line.get("to_name") or line.get("to"), line.get("from_name") or line.get("from")
    audience = line["name"][:1].lower() + line["name"][1:] if line["name"] != "Everyone" else "everyone"
    if line.get("control") is not None and line.get("to") == line["control"]:
        return f"Stop sending {from_name} to {audience}"
    return f"Send {to_name} to {audience} instead of {from_name}"


AUDIENCE_ACTION = register(
    KindSpec(
        "audience_action",
        "Audience action",
        fields.ACTION,
        audience_headline,
        help="Gives one audience of a randomised test the action that test showed adds most over the control "
        "(or stops one that puts it off); applied, the audience's customer list is published, a rollback "
        "withdraws it.",
        target=fields.AUDIENCE_TARGET,
    )
)
