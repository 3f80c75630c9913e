"""Which campaigns exist, for checking guardrail scopes where no page can pass them in (`manage.py policy import`).

objectives may not import decisions, so decisions registers its reader at start-up (DecisionsConfig.ready),
the way it connects to `policy_changed`; objectives only calls it. Pages pass the campaigns in themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from objectives.guardrails import KnownCampaigns

_reader: Callable[[], KnownCampaigns] | None = None


def register(reader: Callable[[], KnownCampaigns]) -> None:
    global _reader
    _reader = reader


def known_campaigns() -> KnownCampaigns | None:
    """The campaigns that exist; None when nothing registered a reader (objectives used without decisions)."""
    return _reader() if _reader is not None else None
