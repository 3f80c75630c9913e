"""One campaign's change history: every proposal that moved it — decided, applied, rolled back, measured —
and its daily spend and objective value to draw those changes over (as an ad platform's change history does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from decisions import units
from decisions.audit import timeline, wording
from decisions.models import Application, Campaign, DailyMetric, Proposal
from decisions.review import attribution
from decisions.review import history as history_selectors
from objectives import selectors as objective_selectors
from objectives.models import Metric

CHART_DAYS = 180
CHANGE_LIMIT = 100
MAX_GAP_DAYS = 31
COLUMNS = {name for name, _ in Metric.choices}


@dataclass(frozen=True)
class Objective:
    """What the chart's second line adds up: the active objective's metric and its composite weights."""

    metric: str
    weights: dict[str, float]  # the composite's other terms (as Objective.weights stores them)

    @property
    def terms(self) -> dict[str, float]:
        """Every column with its weight, the metric at 1 plus any weight on it, as the engine adds them."""
        terms = {self.metric: 1.0}
        for name, weight in self.weights.items():
            terms[name] = terms.get(name, 0.0) + weight
        return terms

    @property
    def label(self) -> str:
        return units.label(self.metric, self.weights)

    @property
    def unit(self):
        return units.unit_of(self.metric, self.weights)


def current_objective() -> Objective:
    objective = objective_selectors.active_objective()
    metric = objective.metric if objective else Metric.PIPELINE_VALUE
    stored = (objective.weights or {}) if objective else {}
    return Objective(metric=metric, weights={n: float(w) for n, w in stored.items() if n in COLUMNS})


def daily_series(campaign: Campaign, objective: Objective, *, days: int = CHART_DAYS) -> list[dict]:
    """The last `days` days up to the campaign's latest row: spend and the objective (None where unknown)."""
    latest = DailyMetric.objects.filter(campaign=campaign).aggregate(last=Max("date"))["last"]
    if latest is None:
        return []
    rows = (
        DailyMetric.objects.filter(campaign=campaign, date__gt=latest - dt.timedelta(days=days))
        .order_by("date")
        .values("date", "spend", *objective.terms)
    )
    return [
        {"date": row["date"].isoformat(), "spend": _number(row["spend"]), "objective": _objective(row, objective)}
        for row in rows
    ]


def _number(value) -> float | None:
    return None if value is None else float(value)


def _objective(row: dict, objective: Objective) -> float | None:
    # Unknown stays unknown: a composite with one term missing is a gap in the line, not a smaller value.
    terms = objective.terms
    if any(row[name] is None for name in terms):
        return None
    return round(sum(float(row[name]) * weight for name, weight in terms.items()), 2)


def changes(campaign: Campaign, *, limit: int = CHANGE_LIMIT) -> list[Proposal]:
    """The newest proposals that moved this campaign, each with its change to it, exit, decider and outcome."""
    proposals = list(
        Proposal.objects.filter(attribution.touches_campaign(campaign.external_id))
        .select_related("review", "outcome")
        .order_by("-created_at", "-id")[:limit]
    )
    applied = _applied_on([p.pk for p in proposals])
    for proposal in proposals:
        proposal.change_text = _change_text(proposal.changes, campaign)
        review = getattr(proposal, "review", None)
        chosen = review.final_changes if review is not None and review.decision == "edited" else None
        # An edit applied the reviewer's values: say those, and what the engine had proposed.
        proposal.proposed_text = proposal.change_text if chosen else ""
        proposal.change_text = _change_text(chosen, campaign) if chosen else proposal.change_text
        proposal.exit = history_selectors.exit_of(proposal)
        proposal.exit_label = history_selectors.EXIT_LABELS.get(proposal.exit, proposal.get_status_display())
        proposal.applied_at, proposal.rolled_back_at = applied.get(proposal.pk, (None, None))
        proposal.outcome_row = timeline.outcome_of(proposal)
        if proposal.outcome_row is not None:
            proposal.realised_text = units.amount(
                proposal.outcome_row.realised, proposal.outcome_row.metric, signed=True, per="week"
            )
    return proposals


def _change_text(changes: list[dict], campaign: Campaign) -> str:
    mine = [c for c in changes if c.get("campaign") == campaign.external_id]
    return "; ".join(wording.format_change(c, short=True).split(": ", 1)[-1] for c in mine)


def _applied_on(proposal_ids: list[int]) -> dict[int, tuple[dt.datetime | None, dt.datetime | None]]:
    """When each proposal's change, and its rollback, reached the ad platform (the first platform to answer)."""
    found: dict[int, list] = {}
    rows = (
        Application.objects.filter(proposal_id__in=proposal_ids, status=Application.Status.SUCCEEDED)
        .order_by("updated_at")
        .values_list("proposal_id", "direction", "updated_at")
    )
    for proposal_id, direction, at in rows:
        slots = found.setdefault(proposal_id, [None, None])
        index = 0 if direction == Application.Direction.APPLY else 1
        slots[index] = slots[index] or at
    return {pk: (slots[0], slots[1]) for pk, slots in found.items()}


def through_markers(series: list[dict], lines: list[dict]) -> list[dict]:
    """The series with empty days added up to the newest change, so a change made after the last imported
    day is still drawn (at its own day, over no data yet)."""
    if not series or not lines:
        return series
    last, newest = dt.date.fromisoformat(series[-1]["date"]), dt.date.fromisoformat(lines[-1]["date"])
    # Imports lag by days, not months: past a month of nothing the chart would be all gap; the table still lists it.
    newest = min(newest, last + dt.timedelta(days=MAX_GAP_DAYS))
    extra = [last + dt.timedelta(days=n) for n in range(1, (newest - last).days + 1)]
    return series + [{"date": day.isoformat(), "spend": None, "objective": None} for day in extra]


def markers(proposals: list[Proposal]) -> list[dict]:
    """The chart's vertical lines: each change that reached the platform, and each rollback, by local day."""
    lines = []
    for proposal in proposals:
        for at, what in ((proposal.applied_at, "applied"), (proposal.rolled_back_at, "rolled back")):
            if at is not None:
                label = f"#{proposal.pk} {what}: {proposal.change_text}"
                lines.append({"date": _local_day(at), "label": label, "kind": what, "proposal": proposal.pk})
    return sorted(lines, key=lambda line: line["date"])


def _local_day(at: dt.datetime) -> str:
    return timezone.localtime(at).date().isoformat()
