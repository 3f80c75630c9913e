"""Guardrails as pure code: one class per kind, dataclasses in, verdicts and engine limits out.

Nothing here touches the database or imports Django, so the engine can use
the same rules as constraints while it allocates, and the review page can
re-check an edited change on every keystroke, with identical answers.

- base: Rule, CampaignFacts, Change, Verdict, wording, scope
- fields: the campaign fields a proposal may change
- moves: each changed campaign before and after the changes
- params, kind: what a kind is made of; budget, protection, voice, timing, contacts: the kinds
- registry: every kind, in order; checks: check() and the engine's limits
- scopes: which known campaigns a scope reaches, its canonical spelling, close matches, rules broken today
"""

from objectives.guardrails.base import (
    BUDGET,
    PAUSED,
    SCOPE_KEYS,
    SEVERITIES,
    STATUS,
    ActionCopy,
    AudienceFacts,
    CampaignFacts,
    Change,
    Rule,
    Verdict,
    WorkflowFacts,
    in_scope,
    scope_text,
    validate_scope,
    validate_severity,
)
from objectives.guardrails.budget import BudgetBounds, MaxBudgetChange, TotalBudgetCap
from objectives.guardrails.checks import (
    applies_to,
    budget_limits,
    check,
    may_propose,
    total_caps,
    workflow_protection,
)
from objectives.guardrails.contacts import ContactCap
from objectives.guardrails.fields import UnknownField
from objectives.guardrails.kind import CheckContext, GuardrailKind, Limits
from objectives.guardrails.moves import AudienceMove, CampaignMove, audience_moves, campaign_moves
from objectives.guardrails.params import Number, Param, Phrases, Text, WholeNumber
from objectives.guardrails.protection import ForbiddenAudiences, ProtectedCampaigns, ProtectedWorkflows
from objectives.guardrails.registry import KINDS, REGISTRY, kind_choices, kind_named, unknown_kind, validate_params
from objectives.guardrails.scopes import KnownCampaigns, ScopeMatch, match_scope
from objectives.guardrails.timing import Cooldown, MinEvidence
from objectives.guardrails.voice import BrandVoice

__all__ = [
    "BUDGET",
    "KINDS",
    "PAUSED",
    "REGISTRY",
    "SCOPE_KEYS",
    "SEVERITIES",
    "STATUS",
    "ActionCopy",
    "AudienceFacts",
    "AudienceMove",
    "BrandVoice",
    "BudgetBounds",
    "CampaignFacts",
    "CampaignMove",
    "Change",
    "CheckContext",
    "ContactCap",
    "Cooldown",
    "ForbiddenAudiences",
    "GuardrailKind",
    "KnownCampaigns",
    "Limits",
    "MaxBudgetChange",
    "MinEvidence",
    "Number",
    "Param",
    "Phrases",
    "ProtectedCampaigns",
    "ProtectedWorkflows",
    "Rule",
    "ScopeMatch",
    "Text",
    "TotalBudgetCap",
    "UnknownField",
    "Verdict",
    "WorkflowFacts",
    "WholeNumber",
    "applies_to",
    "audience_moves",
    "budget_limits",
    "campaign_moves",
    "check",
    "in_scope",
    "kind_choices",
    "kind_named",
    "match_scope",
    "may_propose",
    "scope_text",
    "total_caps",
    "unknown_kind",
    "validate_params",
    "validate_scope",
    "validate_severity",
    "workflow_protection",
]
