"""Guardrail checks as pure functions: dataclasses in, verdicts out.

Nothing here touches the database or imports a model, so the engine can use
the same rules as constraints while it allocates, and the review page can
re-check an edited change on every keystroke, with identical answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date

KINDS = (
    "max_budget_change_pct",
    "budget_bounds",
    "total_budget_cap",
    "protected_campaigns",
    "forbidden_audiences",
    "brand_voice",
    "cooldown",
    "min_evidence",
)
SEVERITIES = ("block", "warn")
SCOPE_KEYS = ("channel", "tag", "campaign")
BUDGET = "daily_budget"
STATUS = "status"
PAUSED = "paused"

# Float budgets: 100 → 120 is exactly 20%, and must not fail a 20% limit
# because of the last bit of a binary fraction.
_EPS = 1e-9


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    scope: dict = field(default_factory=dict)
    severity: str = "block"
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignFacts:
    external_id: str
    channel: str
    tags: tuple[str, ...]
    audience: str
    daily_budget: float
    status: str
    last_applied_change: date | None = None
    evidence_days: int = 0
    evidence_conversions: float = 0


@dataclass(frozen=True)
class Change:
    campaign: str
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class Verdict:
    name: str
    kind: str
    severity: str
    passed: bool
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


# --- formatting -------------------------------------------------------------


def _num(value: float) -> str:
    """120 → "120", 120.5 → "120.50", 1234 → "1,234": money and counts as people write them."""
    if abs(value - round(value)) < 0.005:
        return f"{round(value):,}"
    return f"{value:,.2f}"


def _pct(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


# --- scope ------------------------------------------------------------------


def in_scope(scope: Mapping, campaign: CampaignFacts) -> bool:
    """{} covers every campaign; otherwise the one key names a channel, a tag or a campaign."""
    if not scope:
        return True
    if "channel" in scope:
        return campaign.channel == scope["channel"]
    if "tag" in scope:
        return scope["tag"] in campaign.tags
    if "campaign" in scope:
        return campaign.external_id == scope["campaign"]
    return False


def applies_to(rule: Rule, campaign: CampaignFacts) -> bool:
    """The rule's scope covers the campaign and, for the kinds that single out
    campaigns themselves (a protecting tag, a forbidden audience), the campaign
    is one of them: an untagged campaign has nothing to do with brand protection."""
    if not in_scope(rule.scope, campaign):
        return False
    if rule.kind == "protected_campaigns":
        return rule.params.get("tag") in campaign.tags
    if rule.kind == "forbidden_audiences":
        return campaign.audience in rule.params.get("segments", ())
    return True


# --- the state after a set of changes -----------------------------------------


@dataclass(frozen=True)
class _Moved:
    """One campaign before and after the changes under review."""

    facts: CampaignFacts
    budget_before: float
    budget_after: float
    status_before: str
    status_after: str
    budget_changed: bool
    status_changed: bool

    @property
    def is_paused_now(self) -> bool:
        return self.status_after == PAUSED and self.status_before != PAUSED

    @property
    def is_resumed_now(self) -> bool:
        return self.status_before == PAUSED and self.status_after != PAUSED


def _moved(changes: Iterable[Change], campaigns: Mapping[str, CampaignFacts]) -> dict[str, _Moved]:
    moved: dict[str, _Moved] = {}
    for change in changes:
        facts = campaigns.get(change.campaign)
        if facts is None:
            # A change to a campaign we know nothing about cannot be checked;
            # the caller passes every campaign it has, so this is a stale id.
            continue
        current = moved.get(change.campaign) or _Moved(
            facts, facts.daily_budget, facts.daily_budget, facts.status, facts.status, False, False
        )
        if change.field == BUDGET:
            before = float(change.before) if change.before is not None else facts.daily_budget
            current = replace(current, budget_before=before, budget_after=float(change.after), budget_changed=True)
        elif change.field == STATUS:
            before = str(change.before) if change.before is not None else facts.status
            current = replace(current, status_before=before, status_after=str(change.after), status_changed=True)
        moved[change.campaign] = current
    return moved


# --- one checker per kind: (rule, the moved campaigns it applies to, …) → (passed, message)


def _label(item: _Moved, many: bool) -> str:
    return f"{item.facts.external_id}: " if many else ""


def _joined(failures: list[str]) -> str:
    text = "; ".join(failures)
    return text[0].upper() + text[1:] if text else text


def _change_pct(before: float, after: float) -> float:
    if before <= 0:
        return 0.0 if after <= 0 else math.inf
    return abs(after - before) / before * 100


def _max_budget_change(rule, items, **_):
    limit = float(rule.params["pct"])
    many = len(items) > 1
    failures, largest = [], 0.0
    for item in items:
        if not item.budget_changed:
            continue
        before, after = item.budget_before, item.budget_after
        pct = _change_pct(before, after)
        largest = max(largest, pct)
        if pct > limit + _EPS:
            moves = f"moves from 0 to {_num(after)}" if math.isinf(pct) else f"moves {_pct(pct)}%"
            failures.append(f"{_label(item, many)}budget {moves} (limit {_pct(limit)}%)")
    if failures:
        return False, _joined(failures)
    return True, f"Budget moves {_pct(largest)}% (limit {_pct(limit)}%)"


def _budget_bounds(rule, items, **_):
    low, high = float(rule.params["min"]), float(rule.params["max"])
    many = len(items) > 1
    failures = []
    for item in items:
        if not item.budget_changed:
            continue
        after = item.budget_after
        if after < low - _EPS:
            failures.append(f"{_label(item, many)}budget {_num(after)} is below the minimum {_num(low)}")
        elif after > high + _EPS:
            failures.append(f"{_label(item, many)}budget {_num(after)} is above the maximum {_num(high)}")
    if failures:
        return False, _joined(failures)
    return True, f"Budget stays within {_num(low)}–{_num(high)}"


def _total_budget_cap(rule, items, *, campaigns, moved, **_):
    cap = float(rule.params["amount"])
    total = 0.0
    for facts in campaigns.values():
        if not in_scope(rule.scope, facts):
            continue
        item = moved.get(facts.external_id)
        budget = item.budget_after if item else facts.daily_budget
        status = item.status_after if item else facts.status
        # A paused campaign spends nothing, so its budget does not count
        # against the cap; resuming one brings it back in.
        if status != PAUSED:
            total += budget
    if total > cap + _EPS:
        return False, f"Total daily budget {_num(total)} is over the cap {_num(cap)}"
    return True, f"Total daily budget {_num(total)} (cap {_num(cap)})"


def _protected(rule, items, **_):
    tag = rule.params["tag"]
    many = len(items) > 1
    failures = []
    for item in items:
        if item.is_paused_now:
            failures.append(f"{_label(item, many)}pauses a protected campaign (tag “{tag}”)")
        elif item.budget_changed and item.budget_after < item.budget_before - _EPS:
            failures.append(
                f"{_label(item, many)}cuts a protected campaign (tag “{tag}”) "
                f"from {_num(item.budget_before)} to {_num(item.budget_after)}"
            )
    if failures:
        return False, _joined(failures)
    return True, f"Protected campaign (tag “{tag}”) is neither paused nor cut"


def _forbidden(rule, items, **_):
    many = len(items) > 1
    failures = []
    for item in items:
        audience = item.facts.audience
        if item.is_resumed_now:
            failures.append(f"{_label(item, many)}resumes targeting the forbidden audience “{audience}”")
        elif item.budget_changed and item.budget_after > item.budget_before + _EPS:
            failures.append(
                f"{_label(item, many)}budget rises from {_num(item.budget_before)} to {_num(item.budget_after)} "
                f"on the forbidden audience “{audience}”"
            )
    if failures:
        return False, _joined(failures)
    return True, "No increase on a forbidden audience"


def _brand_voice(rule, items, *, copy_text, **_):
    if not copy_text.strip():
        return True, "No copy text to check"
    text = copy_text.casefold()
    banned = [p for p in rule.params.get("banned_phrases", []) if p.casefold() in text]
    missing = [p for p in rule.params.get("required_phrases", []) if p.casefold() not in text]
    problems = []
    if banned:
        problems.append("copy uses banned " + ("phrase " if len(banned) == 1 else "phrases ") + _quoted(banned))
    if missing:
        problems.append("copy lacks required " + ("phrase " if len(missing) == 1 else "phrases ") + _quoted(missing))
    if problems:
        return False, _joined(problems)
    return True, "Copy follows the brand voice"


def _quoted(phrases: list[str]) -> str:
    return ", ".join(f"“{p}”" for p in phrases)


def _cooldown_problem(rule: Rule, facts: CampaignFacts, today: date) -> str:
    days = int(rule.params["days"])
    last = facts.last_applied_change
    if last is None:
        return ""
    since = (today - last).days
    if since < days:
        when = "today" if since <= 0 else f"{_days(since)} ago"
        return f"last change applied {when} (cooldown {_days(days)})"
    return ""


def _cooldown(rule, items, *, today, **_):
    many = len(items) > 1
    failures = [
        f"{_label(item, many)}{problem}" for item in items if (problem := _cooldown_problem(rule, item.facts, today))
    ]
    if failures:
        return False, _joined(failures)
    return True, f"No change applied in the last {_days(int(rule.params['days']))}"


def _evidence_problem(rule: Rule, facts: CampaignFacts) -> str:
    need_days, need_conv = int(rule.params["days"]), float(rule.params["conversions"])
    problems = []
    if facts.evidence_days < need_days:
        problems.append(f"only {_days(facts.evidence_days)} of data (needs {need_days})")
    if facts.evidence_conversions < need_conv - _EPS:
        problems.append(f"only {_num(facts.evidence_conversions)} conversions (needs {_num(need_conv)})")
    return " and ".join(problems)


def _min_evidence(rule, items, **_):
    many = len(items) > 1
    failures = [f"{_label(item, many)}{problem}" for item in items if (problem := _evidence_problem(rule, item.facts))]
    if failures:
        return False, _joined(failures)
    days, conv = int(rule.params["days"]), float(rule.params["conversions"])
    return True, f"Enough evidence (at least {_days(days)} and {_num(conv)} conversions)"


_CHECKERS = {
    "max_budget_change_pct": _max_budget_change,
    "budget_bounds": _budget_bounds,
    "total_budget_cap": _total_budget_cap,
    "protected_campaigns": _protected,
    "forbidden_audiences": _forbidden,
    "brand_voice": _brand_voice,
    "cooldown": _cooldown,
    "min_evidence": _min_evidence,
}


def check(
    changes: list[Change],
    *,
    rules: list[Rule],
    campaigns: Mapping[str, CampaignFacts],
    today: date,
    copy_text: str = "",
) -> list[Verdict]:
    """One verdict per rule that applies to at least one changed campaign, in rule order.

    `campaigns` holds every campaign, not only the changed ones: a total cap
    adds up the whole scope.
    """
    moved = _moved(changes, campaigns)
    verdicts = []
    for rule in rules:
        checker = _CHECKERS.get(rule.kind)
        items = [item for item in moved.values() if applies_to(rule, item.facts)]
        if checker is None or not items:
            continue
        passed, message = checker(rule, items, campaigns=campaigns, moved=moved, today=today, copy_text=copy_text)
        verdicts.append(Verdict(rule.name, rule.kind, rule.severity, passed, message))
    return verdicts


# --- the same rules as constraints for the engine ----------------------------


def _with_severity(rules: Iterable[Rule], severity: str | None) -> list[Rule]:
    return [rule for rule in rules if severity is None or rule.severity == severity]


def budget_limits(campaign: CampaignFacts, rules: Iterable[Rule], *, severity: str | None = "block"):
    """(lowest allowed budget, highest allowed budget, may_pause) for one campaign.

    When the rules contradict each other (a protected campaign already above
    its bounds), the only move that makes nothing worse is no move, so the
    interval collapses to the current budget.
    """
    current = float(campaign.daily_budget)
    low, high, may_pause = 0.0, math.inf, True
    for rule in _with_severity(rules, severity):
        if not applies_to(rule, campaign):
            continue
        if rule.kind == "max_budget_change_pct":
            step = current * float(rule.params["pct"]) / 100
            low, high = max(low, current - step), min(high, current + step)
        elif rule.kind == "budget_bounds":
            low, high = max(low, float(rule.params["min"])), min(high, float(rule.params["max"]))
        elif rule.kind == "protected_campaigns":
            low, may_pause = max(low, current), False
        elif rule.kind == "forbidden_audiences":
            high = min(high, current)
    if low > high + _EPS:
        return current, current, may_pause
    return low, high, may_pause


def total_caps(
    campaigns: Mapping[str, CampaignFacts] | Iterable[CampaignFacts],
    rules: Iterable[Rule],
    *,
    severity: str | None = "block",
) -> list[tuple[list[str], float]]:
    """(external ids in scope, cap) per total budget cap; paused campaigns do not count against a cap."""
    facts = list(campaigns.values()) if isinstance(campaigns, Mapping) else list(campaigns)
    caps = []
    for rule in _with_severity(rules, severity):
        if rule.kind != "total_budget_cap":
            continue
        ids = sorted(c.external_id for c in facts if in_scope(rule.scope, c) and c.status != PAUSED)
        caps.append((ids, float(rule.params["amount"])))
    return caps


def may_propose(
    campaign: CampaignFacts, rules: Iterable[Rule], *, today: date, severity: str | None = "block"
) -> tuple[bool, str]:
    """Whether the engine may propose anything for the campaign: enough evidence, no cooldown running."""
    reasons = []
    for rule in _with_severity(rules, severity):
        if not applies_to(rule, campaign):
            continue
        if rule.kind == "min_evidence":
            problem = _evidence_problem(rule, campaign)
        elif rule.kind == "cooldown":
            problem = _cooldown_problem(rule, campaign, today)
        else:
            continue
        if problem:
            reasons.append(f"{problem} ({rule.name})")
    if reasons:
        return False, _joined(reasons)
    return True, ""


# --- validation of what people write -----------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value) -> bool:
    return _is_number(value) and float(value).is_integer()


def _need_number(params: dict, key: str, low: float, high: float | None = None) -> str:
    value = params[key]
    if high is None:
        if not _is_number(value) or value < low:
            return f"{key}: must be a number of at least {_num(low)}"
    elif not _is_number(value) or not low <= value <= high:
        return f"{key}: must be a number between {_num(low)} and {_num(high)}"
    return ""


def _need_whole(params: dict, key: str, low: int) -> str:
    value = params[key]
    if not _is_whole(value) or value < low:
        return f"{key}: must be a whole number of at least {low}"
    return ""


def _need_text(params: dict, key: str) -> str:
    value = params[key]
    if not isinstance(value, str) or not value.strip():
        return f"{key}: must be a non-empty text"
    return ""


def _need_phrases(params: dict, key: str, *, allow_empty: bool) -> str:
    value = params[key]
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        return f"{key}: must be a list of non-empty texts"
    if not value and not allow_empty:
        return f"{key}: must name at least one"
    return ""


def _check_max_change(p):
    return [_need_number(p, "pct", 0, 100)]


def _check_bounds(p):
    problems = [_need_number(p, "min", 0), _need_number(p, "max", 0)]
    if not any(problems) and p["min"] > p["max"]:
        problems.append(f"max: must be at least min ({_num(p['min'])})")
    return problems


def _check_cap(p):
    return [_need_number(p, "amount", 0)]


def _check_protected(p):
    return [_need_text(p, "tag")]


def _check_forbidden(p):
    return [_need_phrases(p, "segments", allow_empty=False)]


def _check_voice(p):
    problems = [_need_phrases(p, key, allow_empty=True) for key in ("banned_phrases", "required_phrases") if key in p]
    if not any(problems) and not p.get("banned_phrases") and not p.get("required_phrases"):
        problems.append("banned_phrases: give at least one banned or required phrase")
    return problems


def _check_cooldown(p):
    return [_need_whole(p, "days", 1)]


def _check_evidence(p):
    return [_need_whole(p, "days", 0), _need_number(p, "conversions", 0)]


# kind → (required keys, optional keys, checker of the values)
PARAMS = {
    "max_budget_change_pct": (("pct",), (), _check_max_change),
    "budget_bounds": (("min", "max"), (), _check_bounds),
    "total_budget_cap": (("amount",), (), _check_cap),
    "protected_campaigns": (("tag",), (), _check_protected),
    "forbidden_audiences": (("segments",), (), _check_forbidden),
    "brand_voice": ((), ("banned_phrases", "required_phrases"), _check_voice),
    "cooldown": (("days",), (), _check_cooldown),
    "min_evidence": (("days", "conversions"), (), _check_evidence),
}


def unknown_kind(kind) -> str:
    return f"unknown kind {_show(kind)}; expected one of {', '.join(KINDS)}"


def _show(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def validate_params(kind: str, params: dict) -> list[str]:
    """Problems with a rule's params, each starting with the key it concerns ("pct: must be …")."""
    if not isinstance(kind, str) or kind not in PARAMS:
        return [unknown_kind(kind)]
    if not isinstance(params, dict):
        return ["must be an object"]
    required, optional, checker = PARAMS[kind]
    allowed = required + optional
    problems = [f"{key}: unknown key; {kind} takes {', '.join(allowed)}" for key in params if key not in allowed]
    missing = [f"{key}: required" for key in required if key not in params]
    if missing:
        return problems + missing
    return problems + [problem for problem in checker(params) if problem]


def validate_scope(scope) -> list[str]:
    """Problems with a scope: {} or exactly one of channel / tag / campaign, naming a non-empty text."""
    if not isinstance(scope, dict):
        return ['must be an object: {} for every campaign, or one of {"channel": …}, {"tag": …}, {"campaign": …}']
    unknown = [key for key in scope if key not in SCOPE_KEYS]
    if unknown:
        return [f"{key}: unknown key; expected one of {', '.join(SCOPE_KEYS)}" for key in unknown]
    if len(scope) > 1:
        return [f"must name one of channel, tag or campaign, not {len(scope)} ({', '.join(scope)})"]
    return [
        f"{key}: must be a non-empty text" for key, value in scope.items() if not (isinstance(value, str) and value)
    ]


def validate_severity(severity) -> list[str]:
    if severity not in SEVERITIES:
        return [f"unknown severity {_show(severity)}; expected block or warn"]
    return []
