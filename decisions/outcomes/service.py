"""Outcomes: what a decided proposal turned out to do, and what the other choice would have done.

Realised impact (applied proposals)
-----------------------------------
The apply day D is the day the outbox row succeeded (`Application.updated_at`,
local date). It is left out of both windows because it runs half on the old
budget and half on the new one. With N = OUTCOME_DAYS:

    before = D-N … D-1        after = D+1 … D+N

For each campaign the proposal changed, b and a are its objective value per
day (the run's objective with its weights, as the engine fitted it) averaged
over the known days of each window. The untouched campaigns tell what would
have happened anyway: g = Σ after / Σ before over every campaign that no
applied change (apply or rollback, of any proposal) touched between D-N and
D+N and that has the objective on all 2N days. The realised impact is

    realised/week = 7 × Σ_changed (a − b × g)

a difference-in-differences in ratio form: the counterfactual of a changed
campaign is its own "before" level moved by the portfolio's common change.
Ratio, not plain differences, because demand shifts (season, weekday mix, a
market moving) scale every campaign by a similar factor; subtracting the
controls' average change in money would over-correct small campaigns and
under-correct large ones. Windows of whole weeks (N = 14) keep the weekday
mix the same on both sides. Without any usable untouched campaign g = 1 and
the estimate is a plain before/after comparison.

A paused campaign whose platform stops reporting it counts as 0 per day
after the pause. A changed campaign with no known "before" day cannot be
measured: the outcome is stored with `realised` NULL and no verdict.

What the method cannot see: a second change to the same campaign inside the
window (both changes' effects mix), spend that the platform did not deliver,
and effects slower than N days. The noise level is that of two N-day means,
so a single outcome is weak evidence; the hit rate over many outcomes is what
says whether the intervals are honest. Measured on the demo world (30 applied
shifts, 40 campaigns, seeds 1–6, against the simulator's true effect): the
estimate is unbiased (mean error +64/week) but noisy (sd 1,850/week, median
absolute error 1,050/week against effects of 170–5,800/week). The true effect
lay in the 80% interval 25 times of 30, the measured one only 10 times: most
"above"/"below" verdicts of a single proposal are measurement noise.

Verdict: `hit` when realised lies in [expected_low, expected_high], `above`
or `below` otherwise.

Model estimates (who would have been right)
-------------------------------------------
`machine_estimate` is the weekly impact of the machine's changes as the engine
proposed it (the proposal's expected mean), `human_estimate` that of the
reviewer's (0 for a rejection: nothing changed; the same as the machine's for
an approval as proposed; for an edit the re-estimate the queue, the proposal
page, History and the report show). The re-estimate reads the fitted curve
points the proposal stored as evidence (`evidence["curves"]`, 25 points of
each campaign's curve as the engine saw it when proposing), interpolated
linearly at each change's "from" and "to" budget and calibrated on the
engine's own figure for the machine's version (decisions/engine/estimates.py),
so the two are read on the same scale and a page never shows one figure as
"proposed" and another as "the machine's version".

Interpolation rather than a refit, because the question is what the model
that made the proposal expected from each version: a refit on later data
would mix in hindsight, and for a rejected proposal the later data never saw
the proposed budgets anyway, so it could not tell more. The points are dense
(1/24 of the curve's range apart) and the curve smooth, so the linear
interpolation error is small against the interval's width. Changes without
curve points (anomaly pauses and halvings) take the engine's expected mean,
scaled by how much of the machine's move the reviewer kept.

For an edited proposal the verdict compares what was applied with the
interval the reviewer was shown for their values: the model's re-estimate
(`reestimate`: the machine's interval moved to the reviewer's version and
scaled by how sure the curves' bands are of each version). That interval is
what the row stores as expected_low/mean/high, and what the queue, the
proposal page and History show as "re-estimated for the reviewer's values".
A rejection's interval is the machine's moved to 0 (it is never judged).

Outcomes appear once the objective is known for every day of the after
window (for rejections, the N days after the decision, so both kinds arrive
together). `outcomes_refresh` recomputes every outcome whose window ended
within RECOMPUTE_DAYS, so late corrections still land; older rows are final.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from decisions.engine.estimates import Estimate, reestimate
from decisions.generation.service import objective_weights
from decisions.models import Application, DailyMetric, Outcome, Proposal, Review
from decisions.review import kinds
from objectives import formatting
from objectives.guardrails import fields

OUTCOME_DAYS = 14
RECOMPUTE_DAYS = 28
DAYS_PER_WEEK = 7


# --- pure: the difference-in-differences ------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """Objective totals and the number of known days of one campaign in the before and after windows."""

    before: float = 0.0
    before_days: int = 0
    after: float = 0.0
    after_days: int = 0


def portfolio_growth(controls: Iterable[Windows], *, days: int) -> float:
    """Σ after / Σ before over controls known on every day of both windows; 1.0 when there are none."""
    complete = [w for w in controls if w.before_days == days and w.after_days == days]
    before = sum(w.before for w in complete)
    after = sum(w.after for w in complete)
    return after / before if before > 0 else 1.0


def effect_per_day(windows: Windows, *, growth: float, paused: bool = False) -> float | None:
    """After-mean minus the before-mean moved by the portfolio's growth; None when it cannot be measured."""
    if windows.before_days == 0:
        return None
    before = windows.before / windows.before_days
    if windows.after_days == 0:
        # A paused campaign may simply vanish from the platform's report.
        return -before * growth if paused else None
    return windows.after / windows.after_days - before * growth


def realised_per_week(changed: list[tuple[Windows, bool]], *, growth: float) -> float | None:
    """Σ effects of (windows, paused) per changed campaign, per week; None if any campaign cannot be measured."""
    effects = [effect_per_day(w, growth=growth, paused=paused) for w, paused in changed]
    if not effects or any(e is None for e in effects):
        return None
    return round(DAYS_PER_WEEK * sum(effects), 2)


def verdict_for(realised: float | None, *, low: float, high: float) -> str:
    if realised is None:
        return ""
    if realised < low:
        return Outcome.Verdict.BELOW
    if realised > high:
        return Outcome.Verdict.ABOVE
    return Outcome.Verdict.HIT


# --- pure: what the model says each version would do (decisions/engine/estimates.py) -------------------


@dataclass(frozen=True)
class Estimates:
    machine: float
    human: float


def reviewer_estimate(proposal: Proposal, final_changes: list[dict]) -> Estimate:
    """What the model expects from the reviewer's values, as the pages show it beside the machine's."""
    machine = Estimate(proposal.expected_mean, proposal.expected_low, proposal.expected_high, proposal.p_loss)
    return reestimate(final_changes, evidence=proposal.evidence, machine_changes=proposal.changes, machine=machine)


def estimates_for(proposal: Proposal, *, decision: str, final_changes: list[dict]) -> Estimates:
    """The engine's weekly figure for its version, and the model's for what the reviewer chose."""
    machine = proposal.expected_mean
    if decision == Review.Decision.REJECTED:
        return Estimates(machine=machine, human=0.0)
    if decision == Review.Decision.EDITED:
        return Estimates(machine=machine, human=reviewer_estimate(proposal, final_changes).mean)
    return Estimates(machine=machine, human=machine)


def expected_interval(
    proposal: Proposal, estimates: Estimates, *, decision: str = "", final_changes: list[dict] | None = None
) -> tuple[float, float, float]:
    """(low, mean, high) for what was actually done: an edit's re-estimate, else the machine's interval moved to
    the reviewer's version (unchanged for an approval, around 0 for a rejection)."""
    if decision == Review.Decision.EDITED and final_changes:
        estimate = reviewer_estimate(proposal, final_changes)
        return estimate.low, estimate.mean, estimate.high
    shift = estimates.human - estimates.machine
    return tuple(round(x + shift, 2) for x in (proposal.expected_low, proposal.expected_mean, proposal.expected_high))


def describe(outcome: Outcome, *, decision: str) -> str:
    """One sentence for a person: the report and the proposal page can show it as is."""
    money = _money
    if decision == Review.Decision.REJECTED:
        return (
            f"Rejected: nothing changed. The model estimates the machine's version at "
            f"{money(outcome.machine_estimate)}/week."
        )
    if outcome.realised is None:
        return f"Applied, but the change could not be measured over {outcome.days} days (no data before it)."
    interval = f"{money(outcome.expected_low)} to {money(outcome.expected_high)}"
    text = (
        f"Realised {money(outcome.realised)}/week over the {outcome.days} days after the change "
        f"(expected {interval}): {outcome.get_verdict_display().lower()}."
    )
    if decision == Review.Decision.EDITED:
        text += (
            f" The model estimates the machine's version at {money(outcome.machine_estimate)}/week "
            f"and the reviewer's at {money(outcome.human_estimate)}/week."
        )
    return text


def _money(value: float | None) -> str:
    return "—" if value is None else formatting.signed_money(value)


# --- reading the data (database) --------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The day a proposal took effect (or was rejected) and its windows."""

    day: dt.date
    days: int = OUTCOME_DAYS

    @property
    def before_start(self) -> dt.date:
        return self.day - dt.timedelta(days=self.days)

    @property
    def after_start(self) -> dt.date:
        return self.day + dt.timedelta(days=1)

    @property
    def after_end(self) -> dt.date:
        return self.day + dt.timedelta(days=self.days)


def data_end(metric: str) -> dt.date | None:
    """The last day with the objective's primary metric known for any campaign."""
    return DailyMetric.objects.filter(**{f"{metric}__isnull": False}).aggregate(last=Max("date"))["last"]


def campaign_windows(anchor: Anchor, weights: dict[str, float], *, primary: str) -> dict[str, Windows]:
    """Per campaign external id: the weighted objective summed over each window, in one grouped query.

    Like the engine's fit, a day counts only where the primary metric is
    known; a missing secondary metric counts as 0.
    """
    known = Q(**{f"{primary}__isnull": False})
    before = known & Q(date__lt=anchor.day)
    after = known & Q(date__gt=anchor.day)
    annotations = {"before_days": Count(primary, filter=before), "after_days": Count(primary, filter=after)}
    for name in weights:
        annotations[f"before__{name}"] = Sum(name, filter=before)
        annotations[f"after__{name}"] = Sum(name, filter=after)
    rows = (
        DailyMetric.objects.filter(date__gte=anchor.before_start, date__lte=anchor.after_end)
        .values("campaign__external_id")
        .annotate(**annotations)
        .order_by()
    )
    return {
        row["campaign__external_id"]: Windows(
            before=_weighted(row, "before", weights),
            before_days=row["before_days"],
            after=_weighted(row, "after", weights),
            after_days=row["after_days"],
        )
        for row in rows
    }


def _weighted(row: dict, side: str, weights: dict[str, float]) -> float:
    return sum(float(row[f"{side}__{name}"] or 0) * weight for name, weight in weights.items())


def changed_campaigns(anchor: Anchor) -> set[str]:
    """Every campaign an applied change (of any proposal, either direction) touched within the windows."""
    applications = Application.objects.filter(
        status=Application.Status.SUCCEEDED,
        updated_at__date__gte=anchor.before_start,
        updated_at__date__lte=anchor.after_end,
    ).values_list("changes", flat=True)
    return {change["campaign"] for changes in applications for change in changes if "campaign" in change}


class _Data:
    """Grouped window queries, shared by every proposal anchored on the same day and objective."""

    def __init__(self):
        self._windows: dict = {}
        self._changed: dict = {}
        self._ends: dict = {}

    def end(self, metric: str) -> dt.date | None:
        if metric not in self._ends:
            self._ends[metric] = data_end(metric)
        return self._ends[metric]

    def windows(self, anchor: Anchor, weights: dict[str, float], primary: str) -> dict[str, Windows]:
        key = (anchor, tuple(sorted(weights.items())), primary)
        if key not in self._windows:
            self._windows[key] = campaign_windows(anchor, weights, primary=primary)
        return self._windows[key]

    def changed(self, anchor: Anchor) -> set[str]:
        if anchor not in self._changed:
            self._changed[anchor] = changed_campaigns(anchor)
        return self._changed[anchor]


# --- computing and storing ---------------------------------------------------------------------


def _weights(proposal: Proposal) -> tuple[dict[str, float], str]:
    if proposal.run is not None:
        return objective_weights(proposal.run), proposal.run.metric
    return {proposal.expected_metric: 1.0}, proposal.expected_metric


def _applied_on(proposal: Proposal) -> dt.date | None:
    applied = [
        a.updated_at
        for a in proposal.applications.all()
        if a.direction == Application.Direction.APPLY and a.status == Application.Status.SUCCEEDED
    ]
    return timezone.localdate(max(applied)) if applied else None


def _anchor(proposal: Proposal) -> Anchor | None:
    if proposal.status == Proposal.Status.REJECTED:
        return Anchor(timezone.localdate(proposal.decided_at)) if proposal.decided_at else None
    day = _applied_on(proposal)
    return Anchor(day, days=_measured_days(proposal)) if day else None


def _measured_days(proposal: Proposal) -> int:
    """A spend test is measured over its own days (decisions/spend_tests.py), every other change over N."""
    test = (proposal.evidence or {}).get("spend_test")
    return int(test.get("days") or OUTCOME_DAYS) if isinstance(test, dict) else OUTCOME_DAYS


def _realised(proposal: Proposal, anchor: Anchor, changes: list[dict], data: _Data) -> float | None:
    weights, primary = _weights(proposal)
    windows = data.windows(anchor, weights, primary)
    changed = {c["campaign"] for c in changes}
    # Controls: campaigns no applied change touched in the windows, this proposal's or any other's.
    excluded = changed | data.changed(anchor)
    growth = portfolio_growth((w for ext, w in windows.items() if ext not in excluded), days=anchor.days)
    paused = {c["campaign"] for c in changes if c["field"] == fields.STATUS and c["to"] == fields.PAUSED}
    return realised_per_week([(windows.get(ext, Windows()), ext in paused) for ext in sorted(changed)], growth=growth)


def outcome_values(proposal: Proposal, data: _Data | None = None) -> dict | None:
    """The Outcome fields for one decided proposal, or None while its after window is not all in."""
    data = data or _Data()
    anchor = _anchor(proposal)
    _, primary = _weights(proposal)
    end = data.end(primary)
    if anchor is None or end is None or end < anchor.after_end:
        return None
    review = getattr(proposal, "review", None)
    decision = review.decision if review else Review.Decision.APPROVED
    applied = review.final_changes if review and review.final_changes else proposal.changes
    estimates = estimates_for(proposal, decision=decision, final_changes=applied)
    low, mean, high = expected_interval(proposal, estimates, decision=decision, final_changes=applied)
    realised = None
    if decision != Review.Decision.REJECTED:
        realised = _realised(proposal, anchor, applied, data)
    return {
        "metric": proposal.expected_metric or primary,
        "days": anchor.days,
        "window_start": anchor.after_start,
        "window_end": anchor.after_end,
        "realised": realised,
        "expected_low": low,
        "expected_mean": mean,
        "expected_high": high,
        "verdict": verdict_for(realised, low=low, high=high),
        "machine_estimate": estimates.machine,
        "human_estimate": estimates.human,
    }


def candidates(*, today: dt.date):
    """Applied and rejected proposals without an outcome, or whose outcome is still young enough to recompute."""
    final = Q(outcome__isnull=False) & Q(outcome__window_end__lt=today - dt.timedelta(days=RECOMPUTE_DAYS))
    return (
        Proposal.objects.filter(status__in=(Proposal.Status.APPLIED, Proposal.Status.REJECTED))
        .exclude(final)
        # A workflow's retirement moves no campaign: it has no realised value to measure.
        .exclude(kind__in=kinds.non_campaign_kinds())
        .select_related("review", "run__objective", "outcome")
        .prefetch_related("applications")
        .order_by("pk")
    )


def _upsert(proposal: Proposal, values: dict) -> str:
    existing = getattr(proposal, "outcome", None)
    if existing is not None and all(getattr(existing, name) == value for name, value in values.items()):
        return "unchanged"
    with transaction.atomic():
        _, created = Outcome.objects.update_or_create(proposal=proposal, defaults=values)
    return "created" if created else "updated"


def outcomes_refresh(*, today: dt.date | None = None) -> dict[str, int]:
    """Compute and upsert the outcome of every decided proposal whose window is in; safe to run any number of times.

    Returns counts: created, updated, unchanged, and waiting (the after window is not all imported yet).
    """
    today = today or timezone.localdate()
    counts = Counter(created=0, updated=0, unchanged=0, waiting=0)
    data = _Data()
    for proposal in candidates(today=today):
        values = outcome_values(proposal, data)
        counts["waiting" if values is None else _upsert(proposal, values)] += 1
    return dict(counts)
