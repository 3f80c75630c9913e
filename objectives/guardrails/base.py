"""What every guardrail kind works with: rules, campaign facts, changes, verdicts, their wording and scope.

Pure: no database, no Django. The engine and the review page read the same
dataclasses, so a rule means the same thing while allocating and while reviewing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date

from objectives.guardrails.fields import BUDGET, PAUSED, STATUS

__all__ = ["BUDGET", "PAUSED", "STATUS"]

SEVERITIES = ("block", "warn")
SCOPE_KEYS = ("channel", "tag", "campaign")

# Float budgets: 100 → 120 is exactly 20%, and must not fail a 20% limit
# because of the last bit of a binary fraction.
EPS = 1e-9


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    scope: dict = field(default_factory=dict)
    severity: str = "block"
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignFacts:
    """A campaign as it is now; each attribute named after a registered field holds that field's current value."""

    external_id: str
    channel: str
    tags: tuple[str, ...]
    audience: str
    daily_budget: float
    status: str
    last_applied_change: date | None = None
    evidence_days: int = 0
    evidence_conversions: float = 0
    name: str = ""  # what verdicts call the campaign; "" = its external id
    # This calendar month so far (monthly budgets): spend through `spend_through`, the last day with spend
    # data, and the share of its daily budget the campaign spends (1.0 when no day says otherwise).
    month_spend: float = 0.0
    spend_through: date | None = None
    spend_share: float = 1.0


@dataclass(frozen=True)
class WorkflowFacts:
    """An automation workflow as it is now, for the kinds that judge workflows (protected_workflows).

    `external_id` is "platform/id"; `channel` is always empty, so a rule scoped to a channel never reaches one."""

    external_id: str
    name: str
    tags: tuple[str, ...]
    status: str
    channel: str = ""


@dataclass(frozen=True)
class ActionCopy:
    """One action of a randomised test as customers meet it: its name and copy."""

    name: str
    subject_line: str = ""
    message: str = ""

    def texts(self) -> list[str]:
        return [text for text in (self.name, self.subject_line, self.message) if text.strip()]


@dataclass(frozen=True)
class AudienceFacts:
    """An audience of a randomised test as it is now, for the kinds that judge audiences (forbidden_audiences,
    brand_voice, contact_cap).

    `external_id` is "test/segment digest"; `segment` its definition (attribute → allowed values, or a number's
    {"min", "max"}); `actions` every arm of the test with its copy. `other_lists` counts the audience's customers
    by how many live audience lists (of any test, this audience's own left out: a new action replaces it) they
    are on now; it is empty unless a rule that reads it is in force. `channel` and `tags` are empty, so a rule
    scoped to a channel, a tag or a campaign never reaches an audience."""

    external_id: str
    name: str
    experiment: str
    segment: Mapping = field(default_factory=dict)
    control: str = ""
    action: str = ""  # what it gets now: its live list's action, else the control
    actions: Mapping[str, ActionCopy] = field(default_factory=dict)
    customers: int = 0
    other_lists: Mapping[int, int] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    channel: str = ""

    def action_name(self, arm) -> str:
        action = self.actions.get(arm)
        return action.name if action is not None else str(arm)


@dataclass(frozen=True)
class Change:
    campaign: str  # the campaign's external id; for a workflow, its WorkflowFacts.external_id
    field: str
    before: object
    after: object
    target: str = "campaign"  # fields.CAMPAIGN, fields.WORKFLOW or fields.AUDIENCE_TARGET


@dataclass(frozen=True)
class Verdict:
    name: str
    kind: str
    severity: str
    passed: bool
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


# --- wording ----------------------------------------------------------------------


def number_text(value: float) -> str:
    """120 → "120", 120.5 → "120.50", 1234 → "1,234": money and counts as people write them."""
    if abs(value - round(value)) < 0.005:
        return f"{round(value):,}"
    return f"{value:,.2f}"


def pct_text(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def days_text(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def quoted(phrases: list[str]) -> str:
    return ", ".join(f"“{p}”" for p in phrases)


def shown(value) -> str:
    """A value as an admin typed it, in a message about what they typed."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def sentence(parts: list[str]) -> str:
    """Problems joined into one message that starts with a capital."""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] if text else text


def campaign_prefix(campaign: CampaignFacts, many: bool) -> str:
    # A verdict covering one campaign needs no name; one covering several says which failed, by the name
    # people know it by (the platform's id only when the campaign has no name).
    return f"{campaign.name or campaign.external_id}: " if many else ""


# --- scope and severity -------------------------------------------------------------


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


def scope_text(scope: Mapping) -> str:
    """{"channel": "social"} → "channel social"; "" for every campaign. Verdicts name the scope they judged."""
    return ", ".join(f"{key} {value}" for key, value in scope.items())


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
        return [f"unknown severity {shown(severity)}; expected block or warn"]
    return []
