"""Which campaigns a guardrail's scope reaches, judged against the campaigns that exist.

Pure: the known campaigns are passed in (decisions reads them; objectives may not). A scope is matched
case-insensitively ("Display" finds channel "display", "sim-0001" finds campaign SIM-0001, a campaign's
name finds its id), and saved in the spelling the campaigns use: the checker, the engine and an exported
policy compare scopes exactly, so the stored value must be the one the data carries. A value that matches
no campaign is refused with the close matches, so a typo cannot become a rule that guards nothing.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from objectives.guardrails.base import PAUSED, CampaignFacts, Rule, in_scope
from objectives.guardrails.registry import kind_named

MAX_SUGGESTIONS = 3
# With this few values in all, a value matching nothing lists them all instead of guessing.
LIST_ALL_UP_TO = 8


@dataclass(frozen=True)
class KnownCampaigns:
    """The campaigns a scope may name (archived ones left out), with their display names."""

    campaigns: tuple[CampaignFacts, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # external id → name

    @property
    def channels(self) -> list[str]:
        return sorted({c.channel for c in self.campaigns if c.channel}, key=str.casefold)

    @property
    def tags(self) -> list[str]:
        return sorted({tag for c in self.campaigns for tag in c.tags if tag}, key=str.casefold)

    @property
    def external_ids(self) -> list[str]:
        return [c.external_id for c in self.campaigns]

    def name_of(self, external_id: str) -> str:
        return self.names.get(external_id) or external_id

    def values(self, key: str) -> list[str]:
        """Every value a scope of that key may name."""
        if key == "channel":
            return self.channels
        if key == "tag":
            return self.tags
        if key == "campaign":
            return self.external_ids
        return []


@dataclass(frozen=True)
class ScopeMatch:
    """What a scope reaches: the spelling to store, the campaigns it matches, and close matches when none."""

    key: str  # "" for every campaign
    typed: str
    canonical: str  # the spelling the campaigns use; "" when nothing matches
    campaigns: tuple[str, ...]  # external ids matched
    paused: int = 0
    suggestions: tuple[str, ...] = ()
    checked: bool = True  # False when no campaign exists yet, so nothing could be checked

    @property
    def count(self) -> int:
        return len(self.campaigns)

    @property
    def scope(self) -> dict:
        return {self.key: self.canonical or self.typed} if self.key else {}

    @property
    def matches_nothing(self) -> bool:
        return self.checked and self.count == 0

    @property
    def summary(self) -> str:
        """ "matches 3 campaigns (1 paused)" — what the form shows as the admin types."""
        if not self.checked:
            return "no campaigns yet, so the scope cannot be checked"
        if self.count == 0:
            return "matches no campaign"
        count = "1 campaign" if self.count == 1 else f"{self.count:,} campaigns"
        text = f"matches all {count}" if not self.key else f"matches {count}"
        return text + (f" ({self.paused} paused)" if self.paused else "")


def _canonical(key: str, typed: str, known: KnownCampaigns) -> str:
    """The spelling the campaigns use for a typed value: the exact one, else the commonest equal ignoring case."""
    wanted = typed.strip()
    if key == "campaign":
        ids = {c.external_id.casefold(): c.external_id for c in known.campaigns}
        if wanted.casefold() in ids:
            return ids[wanted.casefold()]
        # A campaign may be named instead of its id, when exactly one campaign has that name.
        named = [c.external_id for c in known.campaigns if known.name_of(c.external_id).casefold() == wanted.casefold()]
        return named[0] if len(named) == 1 else ""
    spellings = Counter(
        value
        for c in known.campaigns
        for value in ((c.channel,) if key == "channel" else c.tags)
        if value and value.casefold() == wanted.casefold()
    )
    if wanted in spellings:
        return wanted
    return spellings.most_common(1)[0][0] if spellings else ""


_DIGITS = re.compile(r"\d+")


def _loosely(text: str) -> str:
    """ "SIM-009" and "sim-0009" alike: case ignored, numbers without their leading zeros."""
    return _DIGITS.sub(lambda number: str(int(number.group())), text.strip().casefold())


def suggestions(key: str, typed: str, known: KnownCampaigns, *, limit: int = MAX_SUGGESTIONS) -> tuple[str, ...]:
    """Known values close to a typed one: the same ignoring case or leading zeros if any, else the closest
    by spelling (difflib). Campaigns are found by id or by name; imports ask the same for unknown ids."""
    candidates: dict[str, str] = {}  # casefolded text → the value to suggest
    for value in known.values(key):
        candidates.setdefault(value.casefold(), value)
    if key == "campaign":
        for external_id in known.external_ids:
            candidates.setdefault(known.name_of(external_id).casefold(), external_id)
    wanted = _loosely(typed)
    # A near-certain match ("sim-0010" for SIM-0010) is the only suggestion: nine look-alikes would bury it.
    same = [value for text, value in candidates.items() if _loosely(text) == wanted]
    if same:
        return tuple(dict.fromkeys(same))[:limit]
    close = difflib.get_close_matches(typed.strip().casefold(), list(candidates), n=limit * 2, cutoff=0.6)
    return tuple(dict.fromkeys(candidates[text] for text in close))[:limit]


def match_scope(scope: Mapping, known: KnownCampaigns) -> ScopeMatch:
    """The campaigns a scope ({} or one of channel / tag / campaign) reaches among the known ones."""
    if not scope:
        ids = tuple(c.external_id for c in known.campaigns)
        paused = sum(c.status == PAUSED for c in known.campaigns)
        return ScopeMatch("", "", "", ids, paused, checked=bool(known.campaigns))
    key, typed = next(iter(scope.items()))
    typed = typed if isinstance(typed, str) else str(typed)
    if not known.campaigns:
        return ScopeMatch(key, typed, "", (), checked=False)
    canonical = _canonical(key, typed, known)
    if not canonical:
        return ScopeMatch(key, typed, "", (), suggestions=suggestions(key, typed, known))
    matched = [c for c in known.campaigns if in_scope({key: canonical}, c)]
    paused = sum(c.status == PAUSED for c in matched)
    return ScopeMatch(key, typed, canonical, tuple(c.external_id for c in matched), paused)


def shown_value(key: str, value: str, known: KnownCampaigns) -> str:
    """A value as a person recognises it: a campaign id with its name ("SIM-0009 (Display – Retargeting)")."""
    if key == "campaign" and known.name_of(value) != value:
        return f"{value} ({known.name_of(value)})"
    return value


def _either(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def nothing_matched(match: ScopeMatch, known: KnownCampaigns) -> str:
    """'channel “linkedn” matches no campaign; did you mean linkedin?' — the refusal, with what might be meant."""
    text = f"{match.key} “{match.typed}” matches no campaign"
    if match.suggestions:
        return f"{text}; did you mean {_either([shown_value(match.key, s, known) for s in match.suggestions])}?"
    values = known.values(match.key)
    if match.key != "campaign" and 0 < len(values) <= LIST_ALL_UP_TO:
        return f"{text}; the {match.key}s are {', '.join(values)}"
    if not values:
        return f"{text}; no campaign has a {match.key}"
    return text


def scope_problems(scope: Mapping, known: KnownCampaigns | None) -> list[str]:
    """Why a (well-formed) scope cannot be saved against these campaigns; [] when it can or cannot be checked."""
    if known is None:
        return []
    match = match_scope(scope, known)
    return [nothing_matched(match, known)] if match.matches_nothing and match.key else []


def _naming_params(kind: str, params) -> list[tuple[str, dict]]:
    """(param key, the scope it amounts to) for each param of the kind that names campaigns, when set to a text."""
    found = kind_named(kind)
    if found is None or not isinstance(params, Mapping):
        return []
    return [
        (key, {scope_key: params[key]})
        for key, scope_key in found.names_campaigns_by.items()
        if isinstance(params.get(key), str) and params[key].strip()
    ]


def param_problems(kind: str, params, known: KnownCampaigns | None) -> list[str]:
    """Params naming campaigns (a protected tag) that match none, each led by its key like every param problem."""
    if known is None:
        return []
    problems = []
    for key, scope in _naming_params(kind, params):
        match = match_scope(scope, known)
        if match.matches_nothing:
            problems.append(f"{key}: {nothing_matched(match, known)}")
    return problems


def canonical_params(kind: str, params, known: KnownCampaigns | None):
    """The params with every campaign-naming one in the campaigns' spelling, as scopes are saved."""
    if known is None:
        return params
    respelled = dict(params) if isinstance(params, Mapping) else params
    for key, scope in _naming_params(kind, params):
        respelled[key] = next(iter(canonical_scope(scope, known).values()))
    return respelled


def canonical_scope(scope: Mapping, known: KnownCampaigns | None) -> dict:
    """The scope in the campaigns' own spelling; unchanged when it matches nothing or cannot be checked."""
    if known is None or not scope:
        return dict(scope)
    match = match_scope(scope, known)
    return {match.key: match.canonical} if match.canonical else dict(scope)


def broken_today(rule: Rule, known: KnownCampaigns) -> str:
    """How today's campaigns already break the rule (a cap already exceeded); "" when they do not."""
    kind = kind_named(rule.kind)
    if kind is None:
        return ""
    in_rule = [c for c in known.campaigns if in_scope(rule.scope, c)]
    return kind.broken_today(rule, in_rule, known.names) if in_rule else ""
