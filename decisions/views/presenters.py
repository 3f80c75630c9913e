"""Presenting proposals: the words, numbers and badges a queue row and a proposal page show."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from decisions.models import Proposal
from decisions.review import kinds, selectors
from objectives import guardrails
from objectives.models import Metric

EXPIRING_SOON = dt.timedelta(hours=12)
METRIC_LABELS = {**dict(Metric.choices), Metric.PLATFORM_REVENUE: "Platform revenue"}


def change_lines(changes: list[dict], names: dict[str, str]) -> list[dict]:
    """Each change with its campaign's name and the size of the move, for the row's numbers."""
    lines = []
    for change in changes:
        line = {**change, "name": names.get(change["campaign"], change["campaign"]), "pct": None, "delta": None}
        line["from_text"], line["to_text"] = str(change["from"]), str(change["to"])
        if change["field"] == guardrails.BUDGET:
            before, after = float(change["from"]), float(change["to"])
            line["delta"] = round(after - before, 2)
            line["pct"] = round(100 * (after - before) / before, 1) if before else None
            line["from_text"], line["to_text"] = money(before), money(after)
            line["pct_text"] = "new" if line["pct"] is None else f"{_sign(line['pct'])}{abs(line['pct']):g}%"
        lines.append(line)
    return lines


def _sign(value: float) -> str:
    return "−" if value < 0 else "+"


def money(value: float) -> str:
    """Dollars without a sign: whole dollars from $100 up, cents below."""
    return f"${abs(value):,.0f}" if abs(value) >= 100 else f"${abs(value):,.2f}"


def signed_money(value: float) -> str:
    return "$0" if round(value, 2) == 0 else f"{_sign(value)}{money(value)}"


def headline(kind: str, lines: list[dict]) -> str:
    """The change in words: what moves where (each kind words its own, decisions/review/kinds.py)."""
    return kinds.get(kind).headline(lines)


@dataclass(frozen=True)
class Guard:
    """The guardrail badges of a row: the worst severity that fails, and which verdicts fail."""

    status: str  # pass | warn | block
    failing: list[dict]
    checked: int

    @property
    def blocks(self) -> bool:
        return any(v.get("severity") == "block" for v in self.failing)

    @property
    def warns(self) -> bool:
        return any(v.get("severity") == "warn" for v in self.failing)


def guard_of(verdicts: list[dict]) -> Guard:
    failing = [v for v in verdicts if not v.get("passed")]
    severities = {v.get("severity") for v in failing}
    status = "block" if "block" in severities else "warn" if failing else "pass"
    return Guard(status=status, failing=failing, checked=len(verdicts))


_PK = 987654321  # a placeholder pk, reversed once per URL name


@functools.cache
def _url_pattern(name: str) -> str:
    return reverse(f"decisions:{name}", args=[_PK])


def row_urls(pk: int) -> dict[str, str]:
    """The row's links without a reverse() per link per row: the queue page draws up to 100 rows."""
    names = {"detail": "proposal", "approve": "proposal-approve", "edit": "proposal-edit", "reject": "proposal-reject"}
    return {key: _url_pattern(name).replace(str(_PK), str(pk)) for key, name in names.items()}


def decorate(proposals: list[Proposal]) -> list[Proposal]:
    """Attach what the row template shows (words, numbers, badges), with one query for every campaign name."""
    names = selectors.campaign_names(c["campaign"] for p in proposals for c in p.changes)
    now = timezone.now()
    for proposal in proposals:
        proposal.lines = change_lines(proposal.changes, names)
        proposal.headline = headline(proposal.kind, proposal.lines)
        proposal.guard = guard_of(proposal.guardrail_verdicts)
        proposal.urls = row_urls(proposal.pk)
        proposal.impact = {
            "mean": signed_money(proposal.expected_mean),
            "low": signed_money(proposal.expected_low),
            "high": signed_money(proposal.expected_high),
            "metric": METRIC_LABELS.get(proposal.expected_metric, proposal.expected_metric.replace("_", " ")),
        }
        proposal.age = timesince(proposal.created_at, now, depth=1)
        proposal.expires_in = timeuntil(proposal.expires_at, now, depth=1) if proposal.expires_at else ""
        proposal.expiring_soon = bool(proposal.expires_at and proposal.expires_at - now < EXPIRING_SOON)
    return proposals
