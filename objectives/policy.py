"""Policy as code: the active objective and guardrails as one JSON document.

`export_policy()` writes it, `import_policy()` makes the database match it
(through the services, so every change is versioned and audited), and
`policy_version()` fingerprints it so a generation run can record which rules
it obeyed. The schema is documented in docs/policy.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from objectives import guardrails as rules
from objectives import selectors, services, signals
from objectives.guardrails import KnownCampaigns, scopes
from objectives.models import VANITY_METRICS, Guardrail, Metric, Objective

TOP_KEYS = ("objective", "guardrails")
OBJECTIVE_KEYS = ("metric", "weights", "horizon_days", "attribution")
GUARDRAIL_KEYS = ("name", "kind", "scope", "severity", "params")
GUARDRAIL_REQUIRED = ("name", "kind", "params")


class PolicyError(Exception):
    """The document is not a valid policy; `errors` say what is wrong and where.

    `errors` place each problem by its path in the file (`guardrails[3].params.pct: …`); `named` says the
    same with the guardrail's name in front, for people (the import page, the command line).
    """

    def __init__(self, errors: list[str], named: list[str] | None = None):
        super().__init__("\n".join(errors))
        self.errors = errors
        self.named = named or errors


@dataclass(frozen=True)
class Policy:
    objective: dict | None
    guardrails: list[dict]
    warnings: list[str] = field(default_factory=list)


# --- reading and validating -----------------------------------------------------


def parse_policy(text: str, *, known: KnownCampaigns | None = None) -> Policy:
    """The document read and validated; with `known` (the campaigns that exist) every scope is checked too."""
    duplicates: list[str] = []

    def keep_pairs(pairs):
        # JSON silently keeps the last of two equal keys; a policy file that
        # says "pct" twice is a mistake worth stopping for.
        seen = set()
        for key, _ in pairs:
            if key in seen:
                duplicates.append(f'duplicate key "{key}" in one object (JSON would keep only the last)')
            seen.add(key)
        return dict(pairs)

    depth = _deepest_nesting(text)
    if depth > MAX_NESTING:
        raise PolicyError([f"top level: nested {depth} levels deep; a policy needs at most {MAX_NESTING}"])
    try:
        data = json.loads(text, object_pairs_hook=keep_pairs, parse_int=_whole_number, parse_constant=_Unusable)
    except json.JSONDecodeError as error:
        raise PolicyError([f"line {error.lineno}, column {error.colno}: not valid JSON ({error.msg})"]) from None
    except (ValueError, RecursionError) as error:  # the scan above should leave nothing for these; kept as a net
        raise PolicyError([f"top level: not a policy JSON can hold ({type(error).__name__})"]) from None
    if duplicates:
        raise PolicyError(duplicates)
    unusable = list(_unusable_values(data))
    if unusable:
        guardrails = data.get("guardrails") if isinstance(data, dict) else None
        raise PolicyError(unusable, named=named_errors(unusable, guardrails))
    return validate_policy(data, known=known)


# What JSON allows but no policy means: limits that keep the parser, the database and the engine safe.
# The same checks run for the dry run and the real import, since both start from parse_policy.
MAX_NESTING = 20  # a policy is five levels deep; 100,000 brackets would exhaust Python's stack
MAX_NUMBER = 10**12  # the money columns hold less than 10^12; nothing in a policy is larger
MAX_NUMBER_DIGITS = 15  # longer integers are refused unread: int() of a 5,000-digit number raises
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class _Unusable:
    """A number JSON can write but a policy cannot use (NaN, Infinity, a 5,000-digit integer), kept as
    found so the check after parsing can say where it is."""

    def __init__(self, literal: str):
        self.literal = literal

    def describe(self) -> str:
        if self.literal.lstrip("-").isdigit():
            return f"a {len(self.literal.lstrip('-')):,}-digit number is beyond ±10^12"
        return f"{self.literal} is not a number a policy can use (JSON has no NaN or Infinity)"


def _whole_number(literal: str) -> int | _Unusable:
    return _Unusable(literal) if len(literal.lstrip("-")) > MAX_NUMBER_DIGITS else int(literal)


def _deepest_nesting(text: str) -> int:
    """How deep the brackets go, outside strings; counted before parsing, which would recurse that deep."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _unusable_values(data):
    """Each number beyond ±10^12, NaN or Infinity, and each text or key with a NUL or a lone surrogate,
    by its place (`guardrails[2].params.pct: …`); walked without recursion."""
    pending = [("", data)]
    while pending:
        place, value = pending.pop()
        where = place or "top level"
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                if _NOT_TEXT.search(key):
                    yield f"{where}: a key {_not_text(key)}"
                pending.append((f"{place}.{key}" if place else key, item))
        elif isinstance(value, list):
            pending.extend((f"{place}[{index}]", item) for index, item in reversed(list(enumerate(value))))
        elif isinstance(value, _Unusable):
            yield f"{where}: {value.describe()}"
        elif isinstance(value, str) and _NOT_TEXT.search(value):
            yield f"{where}: {_not_text(value)}"
        elif isinstance(value, int | float) and not isinstance(value, bool) and not -MAX_NUMBER <= value <= MAX_NUMBER:
            yield f"{where}: {value:g} is beyond ±10^12"


def _not_text(value: str) -> str:
    found = _NOT_TEXT.search(value).group()
    if found == "\x00":
        return "contains a NUL character"
    return f"contains a lone surrogate (\\u{ord(found):04x}), which is not text"


def validate_policy(data, *, known: KnownCampaigns | None = None) -> Policy:
    """Every problem in the document at once, each prefixed with its place (`guardrails[2].params.pct`).

    With `known`, a scope that matches no campaign is a problem (with the close matches), a scope is
    stored in the campaigns' own spelling, and a guardrail today's budgets already break is a warning.
    """
    if not isinstance(data, dict):
        raise PolicyError([f'top level: must be a JSON object with "objective" and "guardrails", not {_type(data)}'])
    errors = [f"{key}: unknown key; expected {', '.join(TOP_KEYS)}" for key in data if key not in TOP_KEYS]
    errors += [f"{key}: required" for key in TOP_KEYS if key not in data]
    objective, warnings = None, []
    if "objective" in data and data["objective"] is not None:
        objective, problems, warnings = _objective(data["objective"])
        errors += problems
    guardrail_list: list[dict] = []
    if "guardrails" in data:
        guardrail_list, problems = _guardrails(data["guardrails"], known)
        errors += problems
        if not problems:
            warnings += _scope_warnings(guardrail_list, known)
    if errors:
        raise PolicyError(errors, named=named_errors(errors, data.get("guardrails")))
    return Policy(objective=objective, guardrails=guardrail_list, warnings=warnings)


def _type(value) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


_GUARDRAIL_PLACE = re.compile(r"^guardrails\[(\d+)\]")


def ordinal(number: int) -> str:
    """1 → "1st", 12 → "12th", 23 → "23rd"."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _guardrail_called(items, index: int) -> str:
    item = items[index] if isinstance(items, list) and index < len(items) else None
    name = item.get("name") if isinstance(item, dict) else None
    where = f"{ordinal(index + 1)} in the file"
    if isinstance(name, str) and name.strip() and not _NOT_TEXT.search(name):  # a NUL or surrogate stays unshown
        return f"Guardrail “{name}” ({where})"
    return f"The {where.replace(' in the file', '')} guardrail in the file (no name)"


def named_errors(errors: list[str], items) -> list[str]:
    """Each guardrail's problems led by its name, the path kept for whoever edits the file:
    "Guardrail “Display cap” (4th in the file) — guardrails[3].params.pct: must be …"."""
    named = []
    for error in errors:
        place = _GUARDRAIL_PLACE.match(error)
        named.append(f"{_guardrail_called(items, int(place.group(1)))} — {error}" if place else error)
    return named


_KEYED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*: ")


def _placed(place: str, field_name: str, message: str) -> str:
    """("guardrails[2]", "params", "pct: must be …") → "guardrails[2].params.pct: must be …"."""
    where = f"{place}.{field_name}" if field_name != "__all__" else place
    return f"{where}.{message}" if _KEYED.match(message) else f"{where}: {message}"


def _from_validation(place: str, error: ValidationError) -> list[str]:
    return [_placed(place, name, message) for name, messages in error.message_dict.items() for message in messages]


def _objective(value) -> tuple[dict | None, list[str], list[str]]:
    if not isinstance(value, dict):
        return (
            None,
            [f'objective: must be an object like {{"metric": "pipeline_value"}} or null, not {_type(value)}'],
            [],
        )
    errors = [
        f"objective.{key}: unknown key; expected {', '.join(OBJECTIVE_KEYS)}"
        for key in value
        if key not in OBJECTIVE_KEYS
    ]
    if "metric" not in value:
        return None, [*errors, "objective.metric: required"], []
    objective = {
        "metric": value["metric"],
        "weights": value.get("weights", {}),
        "horizon_days": value.get("horizon_days", 7),
    }
    # "campaign" is the default and, like an absent key, not written back: export → import → export is stable.
    if value.get("attribution", "campaign") != "campaign":
        objective["attribution"] = value["attribution"]
    try:
        services.validate_objective(**objective)
    except ValidationError as error:
        errors += _from_validation("objective", error)
    warnings = []
    if not errors and objective["metric"] in VANITY_METRICS:
        label = Metric(objective["metric"]).label
        warnings.append(
            f"objective.metric: {label} is reported by the ad platforms about themselves; "
            "it rewards what they can see, not pipeline or revenue"
        )
    return objective, errors, warnings


def _guardrails(value, known: KnownCampaigns | None) -> tuple[list[dict], list[str]]:
    if not isinstance(value, list):
        return [], [f"guardrails: must be a list of guardrail objects, not {_type(value)}"]
    result, errors, first_place = [], [], {}
    for index, item in enumerate(value):
        place = f"guardrails[{index}]"
        guardrail, problems = _guardrail(place, item, known)
        errors += problems
        if guardrail is None:
            continue
        name = guardrail["name"]
        if isinstance(name, str) and name in first_place:
            errors.append(f'{place}.name: duplicate name "{name}" (also {first_place[name]})')
        elif isinstance(name, str):
            first_place[name] = place
        result.append(guardrail)
    return result, errors


def _guardrail(place: str, item, known: KnownCampaigns | None) -> tuple[dict | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{place}: must be an object with name, kind, params, not {_type(item)}"]
    errors = [
        f"{place}.{key}: unknown key; expected {', '.join(GUARDRAIL_KEYS)}" for key in item if key not in GUARDRAIL_KEYS
    ]
    errors += [f"{place}.{key}: required" for key in GUARDRAIL_REQUIRED if key not in item]
    if any(key not in item for key in GUARDRAIL_REQUIRED):
        return None, errors
    guardrail = {
        "name": item["name"],
        "kind": item["kind"],
        "scope": item.get("scope", {}),
        "severity": item.get("severity", "block"),
        "params": item["params"],
    }
    try:
        services.validate_guardrail(**guardrail, known=known)
    except ValidationError as error:
        errors += _from_validation(place, error)
    else:
        # Stored as the campaigns spell it, as the guardrail page does, so a re-import finds it unchanged.
        guardrail["scope"] = scopes.canonical_scope(guardrail["scope"], known)
        guardrail["params"] = scopes.canonical_params(guardrail["kind"], guardrail["params"], known)
    return guardrail, errors


def _scope_warnings(guardrail_list: list[dict], known: KnownCampaigns | None) -> list[str]:
    """What the preview says without refusing: scopes unchecked for want of campaigns, rules broken today."""
    if known is None:
        return []
    warnings = []
    for index, guardrail in enumerate(guardrail_list):
        place = f"guardrails[{index}]"
        if guardrail["scope"] and not known.campaigns:
            warnings.append(f"{place}.scope: there are no campaigns yet, so the scope could not be checked")
            continue
        broken = scopes.broken_today(rules.Rule(**guardrail), known)
        if broken:
            warnings.append(f"Guardrail “{guardrail['name']}” ({place}): {broken}")
    return warnings


# --- writing ---------------------------------------------------------------------


def _guardrail_document(guardrail: Guardrail) -> dict:
    return {
        "name": guardrail.name,
        "kind": guardrail.kind,
        "scope": guardrail.scope,
        "severity": guardrail.severity,
        "params": guardrail.params,
    }


def export_policy() -> dict:
    objective = Objective.objects.filter(is_active=True).first()
    return {
        "objective": services.objective_snapshot(objective) or None,
        "guardrails": [_guardrail_document(g) for g in Guardrail.objects.filter(is_active=True).order_by("name")],
    }


def export_policy_json() -> str:
    return json.dumps(export_policy(), indent=2, ensure_ascii=False) + "\n"


def _canonical(value):
    # 20 and 20.0 are the same limit; the fingerprint must not tell them apart.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def policy_version() -> str:
    """A short, stable fingerprint of the active objective and guardrails."""
    body = json.dumps(_canonical(export_policy()), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:12]


# --- importing ------------------------------------------------------------------------


@dataclass
class Plan:
    """What an import changes, by guardrail name, and in words: `details` holds, per guardrail name, the
    before → after of every changed field ("pct: 30 → 25") or what a created or switched-off guardrail is."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    objective_changed: bool = False
    details: dict[str, list[str]] = field(default_factory=dict)
    objective_before: dict | None = None
    objective_after: dict | None = None

    @property
    def objective_changes(self) -> list[str]:
        """Like "Pipeline value → Closed revenue", "horizon 7 → 14 days"; empty when the objective stays."""
        if not self.objective_changed:
            return []
        return selectors.objective_changes(self.objective_before, self.objective_after)

    def changed_guardrails(self) -> list[tuple[str, str, list[str]]]:
        """(what happens, name, lines) for every guardrail the import touches, in the order the page lists them."""
        groups = (("Created", self.created), ("Updated", self.updated), ("Switched off", self.deactivated))
        return [(label, name, self.details.get(name, [])) for label, names in groups for name in names]

    @property
    def changes_anything(self) -> bool:
        return bool(self.created or self.updated or self.deactivated or self.objective_changed)

    def summary(self) -> str:
        objective = "objective changed" if self.objective_changed else "objective unchanged"
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.deactivated)} deactivated, "
            f"{len(self.unchanged)} unchanged; {objective}"
        )


def _differs(guardrail: Guardrail, wanted: dict) -> bool:
    if not guardrail.is_active:
        return True
    return any(getattr(guardrail, key) != value for key, value in wanted.items())


def plan_import(policy: Policy) -> Plan:
    """Compare the document with the database without writing anything."""
    existing = {g.name: g for g in Guardrail.objects.all()}
    plan = Plan()
    for wanted in policy.guardrails:
        current = existing.get(wanted["name"])
        if current is None:
            plan.created.append(wanted["name"])
            plan.details[wanted["name"]] = [selectors.describe_guardrail(wanted)]
        elif _differs(current, wanted):
            plan.updated.append(wanted["name"])
            after = {**wanted, "is_active": True}
            plan.details[wanted["name"]] = selectors.version_diff(services.guardrail_snapshot(current), after)
        else:
            plan.unchanged.append(wanted["name"])
    in_file = {wanted["name"] for wanted in policy.guardrails}
    plan.deactivated = sorted(name for name, g in existing.items() if g.is_active and name not in in_file)
    for name in plan.deactivated:
        plan.details[name] = [f"was {selectors.describe_guardrail(services.guardrail_snapshot(existing[name]))}"]
    current_objective = services.objective_snapshot(Objective.objects.filter(is_active=True).first()) or None
    plan.objective_changed = current_objective != policy.objective
    plan.objective_before, plan.objective_after = current_objective, policy.objective
    return plan


def rules_of(policy: Policy) -> list[rules.Rule]:
    """The document's guardrails as the pure checker's rules: what a backtest of the whole policy replays."""
    return [rules.Rule(**{key: guardrail[key] for key in GUARDRAIL_KEYS}) for guardrail in policy.guardrails]


@transaction.atomic
def import_policy(*, policy: Policy, actor=None, reason: str) -> Plan:
    """Make the active objective and guardrails match the document, all or nothing.

    Decisions hears of it once (`policy_changed`, on commit), not once per guardrail.
    """
    plan = plan_import(policy)
    with signals.announced_once(actor=actor):
        _apply_plan(plan, policy, actor=actor, reason=reason)
    return plan


def _apply_plan(plan: Plan, policy: Policy, *, actor, reason: str) -> None:
    by_name = {g.name: g for g in Guardrail.objects.filter(name__in=plan.updated + plan.deactivated)}
    for name in plan.deactivated:
        services.guardrail_deactivate(guardrail=by_name[name], actor=actor, reason=reason)
    for wanted in policy.guardrails:
        if wanted["name"] in plan.created:
            services.guardrail_create(**wanted, actor=actor, reason=reason)
        elif wanted["name"] in plan.updated:
            fields = {key: value for key, value in wanted.items() if key != "name"}
            services.guardrail_update(
                guardrail=by_name[wanted["name"]], **fields, is_active=True, actor=actor, reason=reason
            )
    if plan.objective_changed:
        if policy.objective is None:
            services.objective_clear(actor=actor, reason=reason)
        else:
            services.objective_set(**policy.objective, actor=actor, reason=reason)
