"""The campaign fields a proposal may change, and what their values mean.

Pure: no database. A proposal kind (decisions/review/kinds.py) moves one of
these fields; a guardrail kind says which of them it judges; the ledger
connector writes them. A change to a field that is not registered here is
refused wherever it meets one (UnknownField): never passed by a guardrail,
never read as a 0% move by auto-approval or the acceptance model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# What a change of a text or choice field weighs when moves are compared with
# budget moves (auto-approval limits, the acceptance model, the report): all of it.
WHOLE_MOVE_PCT = 100.0


class UnknownField(ValueError):
    """A change names a field no proposal may change."""


class InvalidValue(ValueError):
    """A value the field cannot take; the message says which values it can."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # in a sentence: "daily budget"
    target: str = "campaign"  # what the field belongs to: a campaign, or a workflow (TARGET_KEYS)
    names_audience: bool = False  # forbidden_audiences judges it
    carries_copy: bool = False  # brand_voice judges it

    def clean(self, value):
        """The value as stored in a change, or InvalidValue."""
        raise NotImplementedError

    def move_pct(self, before, after) -> float:
        """The signed size of a move, in % of where it starts: what auto-approval and learning compare."""
        return 0.0 if before == after else WHOLE_MOVE_PCT

    def show(self, value) -> str:
        return "—" if value is None else str(value)

    def same(self, a, b) -> bool:
        """Whether two stored values are the same value of this field (a change's "from" and the campaign's now)."""
        return a == b


@dataclass(frozen=True)
class MoneyField(Field):
    def clean(self, value) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidValue(f"{self.label.capitalize()} must be a number, not {value!r}.") from None
        if not math.isfinite(number) or number < 0:
            raise InvalidValue(f"{self.label.capitalize()} must be zero or more.")
        return round(number, 2)

    def move_pct(self, before, after) -> float:
        before, after = float(before), float(after)
        if before <= 0:
            return WHOLE_MOVE_PCT if after > before else 0.0
        return round(100.0 * (after - before) / before, 4)

    def same(self, a, b) -> bool:
        # To the cent: 324 and Decimal("324.00") are one budget, 324.004 rounds to it, 324.01 does not.
        if a is None or b is None:
            return a is b
        cent = Decimal("0.01")
        try:
            return Decimal(str(a)).quantize(cent, ROUND_HALF_UP) == Decimal(str(b)).quantize(cent, ROUND_HALF_UP)
        except InvalidOperation:
            return False  # not a number: not the same budget

    def show(self, value) -> str:
        if value is None:
            return "—"
        number = float(value)
        return f"{round(number):,}" if abs(number - round(number)) < 0.005 else f"{number:,.2f}"


@dataclass(frozen=True)
class ChoiceField(Field):
    choices: tuple[str, ...] = ()
    # Signed move of switching to a value (a pause is −100%, a resume +100%); unlisted values count +100%.
    signs: tuple[tuple[str, float], ...] = ()

    def clean(self, value) -> str:
        if value not in self.choices:
            raise InvalidValue(f"{self.label.capitalize()} must be one of {', '.join(self.choices)}.")
        return value

    def move_pct(self, before, after) -> float:
        if before == after:
            return 0.0
        return dict(self.signs).get(after, WHOLE_MOVE_PCT)


@dataclass(frozen=True)
class ActionField(Field):
    """What an audience of a test gets: one of the test's arms (its value in the test's file). Which arms exist
    is the test's business (decisions/targets.py refuses an arm the test does not have); here, any short text."""

    def clean(self, value) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(f"{self.label.capitalize()} must name one of the test's arms.")
        if len(value) > 64:
            raise InvalidValue(f"{self.label.capitalize()} must be at most 64 characters.")
        return value.strip()


@dataclass(frozen=True)
class TextField(Field):
    max_length: int = 128

    def clean(self, value) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(f"{self.label.capitalize()} must be a non-empty text.")
        if len(value) > self.max_length:
            raise InvalidValue(f"{self.label.capitalize()} must be at most {self.max_length} characters.")
        return value.strip()


BUDGET = "daily_budget"
STATUS = "status"
AUDIENCE = "audience"
ACTIVE, PAUSED = "active", "paused"
ENABLED, RETIRED = "enabled", "retired"
ACTION = "action"

# What a change may move, and the key that names the thing in a change: a campaign by its external id
# ("campaign"), an automation workflow by its platform's id ("workflow_id", beside its "platform"), an audience
# of a randomised test by the test's name ("experiment", beside its "segment").
CAMPAIGN, WORKFLOW, AUDIENCE_TARGET = "campaign", "workflow", "audience"
TARGET_KEYS = {CAMPAIGN: "campaign", WORKFLOW: "workflow_id", AUDIENCE_TARGET: "experiment"}

# Every target's fields, and the campaign fields by name (what most of Waypoint reads).
TARGET_FIELDS: dict[str, dict[str, Field]] = {target: {} for target in TARGET_KEYS}
FIELDS: dict[str, Field] = TARGET_FIELDS[CAMPAIGN]


def target_of(change) -> str:
    """The target a change moves: a workflow or an audience when it names one, else a campaign (every older
    change)."""
    if isinstance(change, dict):
        for target in (WORKFLOW, AUDIENCE_TARGET):
            if TARGET_KEYS[target] in change:
                return target
    return CAMPAIGN


def register(field: Field) -> Field:
    """Add a field proposals may change (a new kind's lever); the same name twice must be the same field."""
    registered = TARGET_FIELDS[field.target]
    if registered.get(field.name, field) != field:
        raise ValueError(f"another {field.target} field is already registered as {field.name!r}")
    registered[field.name] = field
    return field


def unregister(name: str, target: str = CAMPAIGN) -> None:
    """Take a field back out (tests that register a toy kind clean up after themselves)."""
    TARGET_FIELDS[target].pop(name, None)


def get(name, target: str = CAMPAIGN) -> Field:
    registered = TARGET_FIELDS.get(target, {})
    try:
        return registered[name]
    except (KeyError, TypeError):
        raise UnknownField(
            # never read as no move at all
            f"unknown field {name!r}; a proposal may change a {target}'s {', '.join(registered) or 'nothing'}"
        ) from None


def of(change: dict) -> Field:
    """The field a change moves, on the target it names (UnknownField for one nobody registered)."""
    return get(change.get("field"), target_of(change))


# --- what a change must carry beside its target's key ------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def segment_problem(segment) -> str:
    """What is wrong with an audience's segment, "" when nothing: an object mapping an attribute's name to its
    allowed values (a non-empty list of texts or numbers) or, for a number, {"min": …, "max": …} (either may be
    null, not both; min below max). {} is everyone."""
    if not isinstance(segment, dict):
        return "The audience's segment must be an object: attribute → allowed values or {min, max}."
    for name, condition in segment.items():
        if not isinstance(name, str) or not name.strip():
            return "Each condition of the segment must name an attribute."
        if isinstance(condition, dict):
            if set(condition) - {"min", "max"}:
                return f"The condition on {name} takes min and max only."
            low, high = condition.get("min"), condition.get("max")
            if any(bound is not None and not _is_number(bound) for bound in (low, high)):
                return f"The condition on {name}: min and max must be numbers (or null)."
            if low is None and high is None:
                return f"The condition on {name} needs a min or a max."
            if low is not None and high is not None and low >= high:
                return f"The condition on {name}: min ({low:g}) must be below max ({high:g})."
        elif isinstance(condition, list):
            if not condition or not all(isinstance(v, str) or _is_number(v) for v in condition):
                return f"The condition on {name} must list at least one value."
        else:
            return f"The condition on {name} must be a list of values or {{min, max}}."
    return ""


def _audience_shape(change: dict) -> None:
    if problem := segment_problem(change.get("segment")):
        raise InvalidValue(problem)


# Per target, what a change must carry beside its key (an audience: its segment); raises InvalidValue.
TARGET_SHAPES = {AUDIENCE_TARGET: _audience_shape}


def check_shape(change: dict) -> None:
    shape = TARGET_SHAPES.get(target_of(change))
    if shape is not None:
        shape(change)


register(MoneyField(BUDGET, "daily budget"))
register(ChoiceField(STATUS, "status", choices=(ACTIVE, PAUSED), signs=((PAUSED, -100.0), (ACTIVE, 100.0))))
register(TextField(AUDIENCE, "audience", names_audience=True))
# A workflow is retired (switched off for good) or enabled again by a rollback; retiring is the whole move.
register(
    ChoiceField(
        STATUS, "status", target=WORKFLOW, choices=(ENABLED, RETIRED), signs=((RETIRED, -100.0), (ENABLED, 100.0))
    )
)
# An audience gets one action of its test (the control included): a new action is the whole move. Its segment
# is what forbidden_audiences judges, the action's copy what brand_voice judges.
register(ActionField(ACTION, "action", target=AUDIENCE_TARGET, names_audience=True, carries_copy=True))
