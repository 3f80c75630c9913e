"""Generating proposals: load the data window, fit curves in chunks, allocate, write proposals.

The steps map onto Celery tasks (decisions/generation/tasks.py): `generation_start`
opens a run, `fit_chunk` runs once per chunk of campaigns (in parallel on as
many workers as there are), and `generation_finish` allocates over all of
them and writes the proposals. Every step is idempotent: a run over the same
data window, objective and policy version is reused, not repeated (unless one
of its pending proposals has gone out of date: a campaign moved since, so the
run proposes again from today's values), and a proposal's idempotency key keeps
a retried finish from writing it twice.

Less noise, by design: the allocator leaves alone every campaign a guardrail
holds back (a cooldown, thin evidence) whatever the guardrail's severity, so
proposals do not arrive carrying warnings about campaigns changed days ago; and
no proposal is written below the value floor (WAYPOINT_MIN_WEEKLY_VALUE) or above
the P(loss) cap (WAYPOINT_MAX_PROPOSAL_P_LOSS). The run records what it left
alone and why (`GenerationRun.left_alone`), for the Runs page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from types import SimpleNamespace

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from decisions import audit, sweeping, targets
from decisions.audit import events as audit_events
from decisions.data import health
from decisions.engine import acceptance, data_health, proposing
from decisions.engine.allocation import Allocation, Bounds, allocate_detailed
from decisions.engine.anomalies import detect_anomalies
from decisions.engine.curves import fit_curves
from decisions.engine.types import CurveFit, FittedCurve
from decisions.engine.utilization import Utilization, measure
from decisions.experiments.facts import audience_facts
from decisions.generation import audience_drafting, mix_drafting, spend_test_drafting
from decisions.generation.pacing import pacing_drafts
from decisions.learning import service as learning
from decisions.models import AcceptanceModel, Campaign, DailyMetric, GenerationRun, Proposal
from decisions.review import freshness, kinds, selectors
from decisions.workflows import drafting as workflow_drafting
from objectives import guardrails
from objectives import selectors as objective_selectors
from objectives.models import Metric
from objectives.policy import policy_version

logger = logging.getLogger(__name__)

MODEL_VERSION = "hill-laplace-1"
RECENT_DAYS = 28  # the window behind the platform view and the detail chart's daily series


def setting(name: str, default):
    return getattr(settings, name, default)


# --- opening a run --------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    run: GenerationRun
    created: bool


def generation_start(*, actor=None, force: bool = False, window_end: dt.date | None = None) -> Started:
    """Open a run over the latest data window, or return the run that already covers it.

    `window_end` (the demo's replay) ends the window on an earlier day than the newest imported one.
    """
    latest = DailyMetric.objects.filter(date__lte=window_end) if window_end else DailyMetric.objects
    window_end = latest.aggregate(latest=Max("date"))["latest"]
    objective = objective_selectors.active_objective()
    metric = objective.metric if objective else Metric.PIPELINE_VALUE
    version = policy_version()
    with transaction.atomic():
        existing = (
            GenerationRun.objects.select_for_update()
            .filter(window_end=window_end, metric=metric, policy_version=version, model_version=MODEL_VERSION)
            .exclude(status=GenerationRun.Status.FAILED)
            .first()
        )
        if existing and sweeping.is_silent(existing):
            # Its task was lost or its worker died: fail it (audited) rather than let it hold the window.
            sweeping.work_fail(existing, reason=sweeping.silence_reason(existing))
            existing = None
        if existing and not force and not _has_out_of_date_pending(existing):
            return Started(run=existing, created=False)
        days = int(setting("WAYPOINT_WINDOW_DAYS", 90))
        run = GenerationRun.objects.create(
            objective=objective,
            metric=metric,
            window_start=window_end - dt.timedelta(days=days - 1) if window_end else None,
            window_end=window_end,
            policy_version=version,
            model_version=MODEL_VERSION,
            triggered_by=actor,
        )
        audit_events.generation_started(run, actor=actor)
    return Started(run=run, created=True)


def _has_out_of_date_pending(run: GenerationRun) -> bool:
    """A finished run whose pending proposals include one a campaign has moved away from is not reused."""
    if run.status != GenerationRun.Status.SUCCEEDED:
        return False
    changes = [
        change
        for proposal_changes in Proposal.objects.filter(run=run, status=Proposal.Status.PENDING).values_list(
            "changes", flat=True
        )
        for change in proposal_changes
    ]
    return bool(changes) and bool(freshness.out_of_date(changes))


def noise_limits() -> dict[str, float]:
    """The proposal-level floor and cap a run applies, as the Runs page shows them."""
    return {
        "min_weekly_value": float(setting("WAYPOINT_MIN_WEEKLY_VALUE", 25.0)),
        "max_proposal_p_loss": float(setting("WAYPOINT_MAX_PROPOSAL_P_LOSS", 0.3)),
    }


def plan_chunks(run: GenerationRun) -> list[list[int]]:
    """Campaign ids in chunks, one fitting task each; records the count for the progress bar."""
    size = int(setting("WAYPOINT_CHUNK_SIZE", 250))
    # Archived campaigns (created by mistake) are left out of the run altogether.
    ids = list(Campaign.objects.filter(archived_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    health.findings_for_run(run)  # once, before the chunks read it: a check over this run's window exists
    GenerationRun.objects.filter(pk=run.pk).update(chunks_total=len(chunks), chunks_done=0, heartbeat_at=timezone.now())
    return chunks


# --- loading the window -----------------------------------------------------------


@dataclass
class Window:
    """Campaign × day matrices for one chunk; NaN = no figure that day."""

    campaign_ids: list[int]
    dates: list[dt.date]
    spend: np.ndarray
    value: np.ndarray  # the objective (with its weights)
    platform_revenue: np.ndarray
    outcomes: np.ndarray  # counts for the anomaly test: leads, or platform conversions where leads are unknown
    budget: np.ndarray | None = None  # the daily budget in force each day
    lost_is_budget: np.ndarray | None = None  # search impression share lost to budget (0–1)
    limited_by_budget: np.ndarray | None = None  # the platform's "Limited by budget" status (1/0)
    current_budget: np.ndarray | None = None  # each campaign's daily budget today
    clicks: np.ndarray | None = None  # for telling a broken tag (clicks go on) from a campaign that stopped converting

    def utilization(self, i: int) -> Utilization:
        """How much of its budget campaign i spent over the window, and what limits it."""
        return measure(
            self.spend[i],
            self.budget[i],
            lost_is_budget=self.lost_is_budget[i],
            limited_by_budget=self.limited_by_budget[i],
            current_budget=float(self.current_budget[i]),
        )


def objective_weights(run: GenerationRun) -> dict[str, float]:
    weights = {run.metric: 1.0}
    if run.objective is not None:
        for name, weight in (run.objective.weights or {}).items():
            weights[name] = weights.get(name, 0.0) + float(weight)
    return weights


def load_window(run: GenerationRun, campaign_ids: list[int]) -> Window:
    dates = [run.window_start + dt.timedelta(days=i) for i in range((run.window_end - run.window_start).days + 1)]
    column = {d: j for j, d in enumerate(dates)}
    row = {pk: i for i, pk in enumerate(campaign_ids)}
    shape = (len(campaign_ids), len(dates))
    weights = objective_weights(run)
    fields = sorted(
        {
            "spend",
            "platform_revenue",
            "leads",
            "platform_conversions",
            "clicks",
            "daily_budget",
            "lost_is_budget",
            "limited_by_budget",
            *weights,
        }
    )
    arrays = {name: np.full(shape, np.nan) for name in fields}
    rows = DailyMetric.objects.filter(
        campaign_id__in=campaign_ids, date__gte=run.window_start, date__lte=run.window_end
    ).values_list("campaign_id", "date", *fields)
    for campaign_id, day, *values in rows.iterator(chunk_size=5000):
        i, j = row[campaign_id], column[day]
        for name, value in zip(fields, values, strict=True):
            if value is not None:
                arrays[name][i, j] = float(value)
    _leave_out_failed_days(run, arrays, weights, column)
    current = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "daily_budget"))
    current_budget = np.array([float(current.get(pk) or 0) for pk in campaign_ids])
    # A day imported without its budget (older files, exports without the column) is taken to have run at
    # today's budget: the best guess there is, and the one that keeps such campaigns measurable.
    budget = np.where(np.isfinite(arrays["daily_budget"]), arrays["daily_budget"], current_budget[:, None])
    return Window(
        campaign_ids=campaign_ids,
        dates=dates,
        spend=arrays["spend"],
        value=_weighted(arrays, weights, primary=run.metric),
        platform_revenue=arrays["platform_revenue"],
        outcomes=np.where(np.isfinite(arrays["leads"]), arrays["leads"], arrays["platform_conversions"]),
        budget=budget,
        lost_is_budget=arrays["lost_is_budget"],
        limited_by_budget=arrays["limited_by_budget"],
        current_budget=current_budget,
        clicks=arrays["clicks"],
    )


def _leave_out_failed_days(run: GenerationRun, arrays: dict, weights: dict, column: dict) -> None:
    """A source that read zero for every campaign on its last days (a failed sync) is unknown on those days,
    not zero: the fit and the anomaly test skip them instead of reading them as real outcomes."""
    findings = health.findings_for_run(run)
    for name in {*weights, "leads", "platform_conversions"}:
        since = data_health.excluded_from(findings, name)
        if since is not None and name in arrays:
            arrays[name][:, [j for d, j in column.items() if d >= since]] = np.nan


def _weighted(arrays: dict, weights: dict[str, float], *, primary: str) -> np.ndarray:
    """The objective per day: unknown where the primary metric is unknown; a missing extra counts as 0."""
    total = arrays[primary] * weights[primary]
    for name, weight in weights.items():
        if name != primary:
            total = total + np.nan_to_num(arrays[name]) * weight
    return total


# --- fitting a chunk (runs on a worker) -----------------------------------------------


def fit_chunk(*, run_id: int, campaign_ids: list[int]) -> dict:
    """Fit curves and look for anomalies for one chunk; a campaign that fails is reported, not fatal."""
    started = time.perf_counter()
    run = GenerationRun.objects.select_related("objective").get(pk=run_id)
    window = load_window(run, campaign_ids)
    n_draws = int(setting("WAYPOINT_N_DRAWS", 200))
    # Seeded by the data window, not the run: a forced rerun over the same data draws the same uncertainty.
    seed = int(run.window_end.strftime("%Y%m%d")) if run.window_end else 0
    errors = []
    try:
        fits = fit_curves(window.spend, window.value, n_draws=n_draws, seed=seed)
    except Exception as error:  # noqa: BLE001 - fall back to one campaign at a time to isolate the bad one
        logger.warning("chunk fit failed (%s); fitting campaign by campaign", error)
        fits, errors = _fit_one_by_one(window, n_draws=n_draws, seed=seed)
    anomalies = detect_anomalies(window.spend, window.outcomes)
    GenerationRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1, heartbeat_at=timezone.now())
    recent = slice(-RECENT_DAYS, None)
    return {
        "campaigns": [
            {
                "id": pk,
                "fit": _fit_to_json(fits[i]),
                "recent_spend": _nansum(window.spend[i, recent]),
                "recent_value": _nansum(window.value[i, recent]),
                "recent_platform_revenue": _nansum(window.platform_revenue[i, recent]),
                "recent_value_days": int(np.isfinite(window.value[i, recent]).sum()),
                "utilization": _utilization_to_json(window.utilization(i)),
            }
            for i, pk in enumerate(campaign_ids)
        ],
        "anomalies": [
            {**asdict(a), "campaign_id": campaign_ids[a.index], "belief": _belief(window, a.index)} for a in anomalies
        ],
        "errors": errors,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _belief(window: Window, i: int) -> str:
    """What an anomaly's data point to: "tracking broke" or "stopped converting" ("" where they cannot tell)."""
    clicks = window.clicks[i] if window.clicks is not None else None
    return data_health.drop_diagnosis(window.spend[i], window.outcomes[i], clicks)


def _fit_one_by_one(window: Window, *, n_draws: int, seed: int) -> tuple[list, list]:
    fits, errors = [], []
    for i, pk in enumerate(window.campaign_ids):
        try:
            fits.append(fit_curves(window.spend[i : i + 1], window.value[i : i + 1], n_draws=n_draws, seed=seed)[0])
        except Exception as error:  # noqa: BLE001 - one broken campaign must not sink the run
            fits.append(None)
            errors.append({"campaign_id": pk, "error": f"{type(error).__name__}: {error}"})
    return fits, errors


def _nansum(values: np.ndarray) -> float:
    return float(np.nansum(values))


def _fit_to_json(fit: CurveFit | None) -> dict | None:
    if fit is None:
        return None
    return {"curve": asdict(fit.curve), "draws": np.round(fit.draws, 6).tolist()}


def _utilization_to_json(u: Utilization) -> dict:
    data = asdict(u)
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in data.items()}


def _utilization_from_json(data: dict | None) -> Utilization | None:
    if data is None:  # a chunk fitted before utilization was measured
        return None
    return Utilization(**{**data, "share_spent": float("nan") if data["share_spent"] is None else data["share_spent"]})


def _fit_from_json(data: dict | None) -> CurveFit | None:
    if data is None:
        return None
    return CurveFit(curve=FittedCurve(**data["curve"]), draws=np.asarray(data["draws"], dtype=float))


# --- allocating and writing (runs once, after every chunk) ----------------------------------


@dataclass
class Context:
    run: GenerationRun
    today: dt.date
    campaigns: list[Campaign]  # in the order of the chunk results
    facts: dict[str, guardrails.CampaignFacts]
    rules: list[guardrails.Rule]
    fits: list[CurveFit | None]
    current: np.ndarray
    views: list[proposing.CampaignView]
    recent_value_per_day: np.ndarray
    acceptance: AcceptanceModel | None  # what reviewers accept, learnt from past decisions (None before any)
    # Campaigns this run's pacing corrections move: the other drafters leave them be, so one run never queues
    # two proposals that set the same budget to different values.
    moved: set[str] = field(default_factory=set)
    # What the drafters before a drafter wrote (campaign external ids): a channel's spend test leaves alone what
    # the drafts before it move.
    drafted: set[str] = field(default_factory=set)
    # Campaigns in a spend test (approved, or applied and not yet returned): the allocator leaves them alone.
    testing: set[str] = field(default_factory=set)


def generation_finish(*, run_id: int, chunk_results: list[dict]) -> GenerationRun:
    """Allocate over all fitted campaigns and write the proposals; a second call for a finished run is a no-op."""
    run = GenerationRun.objects.select_related("objective").get(pk=run_id)
    if run.status != GenerationRun.Status.RUNNING:
        return run
    started = time.perf_counter()
    errors = [error for chunk in chunk_results for error in chunk["errors"]]
    try:
        # The run's audit events (created, superseded, finished) go in together at the end (audit.deferred):
        # the chain's lock is held for that insert and the COMMIT, not while every proposal is written.
        with transaction.atomic(), audit.deferred():
            # First: the run's row stays locked while the proposals are written, which tells the stuck-work
            # sweep that this run is alive however long the writing takes.
            sweeping.heartbeat(GenerationRun, run.pk)
            counts, left_alone = _write_proposals(run, chunk_results)
            GenerationRun.objects.filter(pk=run.pk).update(left_alone=left_alone)
            _close_run(run, status=GenerationRun.Status.SUCCEEDED, counts=counts, errors=errors)
    except Exception as error:
        logger.exception("generation run %s failed", run_id)
        errors.append({"error": f"{type(error).__name__}: {error}"})
        with transaction.atomic():
            _close_run(run, status=GenerationRun.Status.FAILED, counts={}, errors=errors)
        return run
    fit_seconds = sum(chunk["seconds"] for chunk in chunk_results)
    GenerationRun.objects.filter(pk=run.pk).update(
        timings={"fit_s_total": round(fit_seconds, 3), "finish_s": round(time.perf_counter() - started, 3)}
    )
    run.refresh_from_db()
    return run


def _close_run(run: GenerationRun, *, status: str, counts: dict, errors: list) -> None:
    GenerationRun.objects.filter(pk=run.pk).update(
        status=status, counts=counts, errors=errors, finished_at=timezone.now(), chunks_done=F("chunks_total")
    )
    audit_events.generation_finished(
        run, succeeded=status == GenerationRun.Status.SUCCEEDED, counts=counts, errors=errors
    )


def _context(run: GenerationRun, chunk_results: list[dict]) -> Context:
    entries = [entry for chunk in chunk_results for entry in chunk["campaigns"]]
    by_pk = Campaign.objects.in_bulk([e["id"] for e in entries])
    # A campaign archived while the run was fitting it is left out, as if archived before the run.
    entries = [e for e in entries if not by_pk[e["id"]].is_archived]
    campaigns = [by_pk[e["id"]] for e in entries]
    today = timezone.localdate()
    views = [
        proposing.CampaignView(
            external_id=c.external_id,
            name=c.name or c.external_id,
            platform_roas=_ratio(e["recent_platform_revenue"], e["recent_spend"]),
            objective_per_spend=_ratio(e["recent_value"], e["recent_spend"]),
            utilization=_utilization_from_json(e.get("utilization")),
        )
        for c, e in zip(campaigns, entries, strict=True)
    ]
    return Context(
        run=run,
        today=today,
        campaigns=campaigns,
        facts=selectors.campaign_facts(today=today),
        rules=objective_selectors.active_rules(),
        fits=[_fit_from_json(e["fit"]) for e in entries],
        current=np.array([float(c.daily_budget) for c in campaigns]),
        views=views,
        recent_value_per_day=np.array([e["recent_value"] / max(e["recent_value_days"], 1) for e in entries]),
        acceptance=learning.active_acceptance(),
        testing=spend_test_drafting.campaigns_running_tests(),
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator > 0 else None


def _write_proposals(run: GenerationRun, chunk_results: list[dict]) -> tuple[dict, dict]:
    """Allocate and write; returns the run's counts and what it left alone (campaigns by reason, the limits)."""
    ctx = _context(run, chunk_results)
    anomalies = {a["campaign_id"]: a for chunk in chunk_results for a in chunk["anomalies"]}
    counts = {"campaigns": len(ctx.campaigns), "fitted": sum(f is not None for f in ctx.fits)}
    findings = health.findings_for_run(run)
    failing = data_health.held_campaigns(findings)
    failing_pks = {c.pk for c in ctx.campaigns if c.external_id in failing}
    anomalies = {pk: a for pk, a in anomalies.items() if pk not in failing_pks}
    held = _hold_ineligible(ctx, anomalies)
    _hold_failing(ctx, held, failing)
    # Pacing corrections first: a monthly budget is money the team has fixed, so the drafters after plan around
    # them (each campaign moved by at most one proposal of a run).
    drafts = pacing_drafts(ctx, anomalies)
    ctx.moved = {change["campaign"] for draft in drafts for change in draft.changes}
    _hold_moved(ctx, held)
    for drafter in DRAFTERS:
        found = drafter(ctx, anomalies)
        ctx.drafted |= {change["campaign"] for draft in found for change in draft.changes if "campaign" in change}
        drafts += found
    # Whatever drafted it, nothing moves a campaign whose data failed a health check.
    drafts = [_with_health_notes(d, findings) for d in drafts if not _touches(d, failing)]
    counts["held_back"] = sum(len(campaigns) for campaigns in held.values())
    counts.update(_store(ctx, drafts))
    left_alone = {"campaigns": _held_by_reason(held), "limits": noise_limits()}
    if excluded := _excluded_days(findings):
        left_alone["excluded_days"] = excluded
    return counts, left_alone


# Why the data-health gate left a campaign alone, by check (decisions/engine/data_health.py).
HEALTH_REASONS = {
    data_health.TRACKING_BROKE: "Data health: its tracking looks broken (outcome near zero while it spends); "
    "not moved until the figures are fixed",
    data_health.UNIT_JUMP: "Data health: a unit jump in its figures (such as spend ×100); not moved until fixed",
}
HEALTH_REASON = "Data health: a failed check on its data; not moved until fixed"


def _hold_failing(ctx: Context, held: dict[str, list[Campaign]], failing: dict) -> None:
    """Leave alone every campaign with a FAIL finding: the allocator sees no curve, the drafters no anomaly."""
    for i, campaign in enumerate(ctx.campaigns):
        finding = failing.get(campaign.external_id)
        if finding is None:
            continue
        # Out of whatever group it was in (paused, unfitted…): the data's health is what the reader must fix.
        for group in held.values():
            if campaign in group:
                group.remove(campaign)
        ctx.fits[i] = None
        held.setdefault(HEALTH_REASONS.get(finding.check, HEALTH_REASON), []).append(campaign)
    for reason in [reason for reason, group in held.items() if not group]:
        del held[reason]


def _touches(draft: proposing.Draft, failing: dict) -> bool:
    return any(change.get("campaign") in failing for change in draft.changes)  # a workflow's change names none


def _with_health_notes(draft: proposing.Draft, findings: list) -> proposing.Draft:
    """A REVIEW finding about a campaign a draft moves travels with the proposal, for the reviewer to weigh."""
    moved = targets.campaign_ids(draft.changes)
    notes = [f.message for f in findings if f.severity == data_health.REVIEW and f.campaign_id in moved]
    return replace(draft, evidence={**(draft.evidence or {}), "data_health": notes}) if notes else draft


def _excluded_days(findings: list) -> list[dict]:
    """The sources whose newest days the fit left out (a failed sync), for the Runs page."""
    return [
        {"source": f.source, "since": f.since.isoformat(), "until": f.until.isoformat() if f.until else None}
        for f in findings
        if f.check == data_health.SOURCE_ZERO and f.since
    ]


# Why a campaign was left out of the allocation; a guardrail that holds one back is named by the guardrail.
PAUSED = "Paused"
ANOMALOUS = "Anomalous: the run proposes a pause or a cut instead"
NOT_FITTED = "No response curve could be fitted (too little data, or the fit failed)"
PACED = "Corrected for its monthly budget by this run's pacing proposal"
IN_SPEND_TEST = "In a spend test: left alone until its budget returns"
# The Runs page lists this many names per reason, then a count.
NAMES_PER_REASON = 50


def _hold_ineligible(ctx: Context, anomalies: dict) -> dict[str, list[Campaign]]:
    """Campaigns the allocator must leave alone, by reason: paused, anomalous, unfitted, or held back by a
    guardrail (thin evidence, a cooldown) of either severity: a warn-level cooldown would otherwise badge
    every proposal on a campaign changed days ago, and bulk and auto-approval take no warned proposal."""
    held: dict[str, list[Campaign]] = {}
    for i, campaign in enumerate(ctx.campaigns):
        reason = _why_left_alone(ctx, i, campaign, anomalies)
        if reason:
            ctx.fits[i] = None
            held.setdefault(reason, []).append(campaign)
    return held


def _hold_moved(ctx: Context, held: dict[str, list[Campaign]]) -> None:
    """Freeze what this run's pacing corrections move, so the allocator plans around them."""
    for i, campaign in enumerate(ctx.campaigns):
        if campaign.external_id in ctx.moved and ctx.fits[i] is not None:
            ctx.fits[i] = None
            held.setdefault(PACED, []).append(campaign)


def _why_left_alone(ctx: Context, i: int, campaign: Campaign, anomalies: dict) -> str:
    if campaign.status != Campaign.Status.ACTIVE:
        return PAUSED
    if campaign.pk in anomalies:
        return ANOMALOUS
    if ctx.fits[i] is None:
        return NOT_FITTED
    if campaign.external_id in ctx.testing:
        return IN_SPEND_TEST
    facts = ctx.facts[campaign.external_id]
    for rule in ctx.rules:
        held, _ = guardrails.may_propose(facts, [rule], today=ctx.today, severity=None)
        if not held:
            kind = guardrails.kind_named(rule.kind)
            return f"Guardrail “{rule.name}” ({kind.label.lower() if kind else rule.kind}, {rule.severity})"
    return ""


def _held_by_reason(held: dict[str, list[Campaign]]) -> list[dict]:
    return [
        {
            "reason": reason,
            "count": len(campaigns),
            "campaigns": [{"id": c.external_id, "name": c.name or c.external_id} for c in campaigns[:NAMES_PER_REASON]],
        }
        for reason, campaigns in sorted(held.items(), key=lambda item: -len(item[1]))
    ]


def _bounds(ctx: Context):
    return proposing.guardrail_bounds(
        ctx.current,
        facts=[ctx.facts[c.external_id] for c in ctx.campaigns],
        rules=ctx.rules,
        fits=ctx.fits,
        max_step_pct=float(setting("WAYPOINT_MAX_STEP_PCT", 50)),
        caps=proposing.spend_caps(ctx.views),
    )


def allocation_of(ctx: Context) -> tuple[Allocation, Bounds]:
    """The allocator's budgets for the run's curves (a None curve is held), and the bounds it kept to."""
    bounds = _bounds(ctx)
    allocation = allocate_detailed(
        ctx.fits,
        ctx.current,
        bounds,
        min_move=float(setting("WAYPOINT_MIN_MOVE", 5.0)),
        min_move_pct=float(setting("WAYPOINT_MIN_MOVE_PCT", 0.03)),
        max_p_loss=float(setting("WAYPOINT_MAX_P_LOSS", 0.35)),
        # A demand-limited campaign's budget is worth what it spends: value(min(budget, cap)).
        spend_caps=proposing.spend_caps(ctx.views),
    )
    return allocation, bounds


def _shift_drafts(ctx: Context, anomalies: dict) -> list[proposing.Draft]:
    if not any(f is not None for f in ctx.fits):
        return []
    min_move = float(setting("WAYPOINT_MIN_MOVE", 5.0))
    caps = proposing.spend_caps(ctx.views)
    allocation, _ = allocation_of(ctx)
    reclaims, shifts = proposing.split_reclaims(ctx.current, allocation.budgets, caps)
    weights = ctx.run.objective.weights if ctx.run.objective else None  # the rationale's unit
    # Reclaims are not scaled by what reviewers accept of shifts: idle money is a different question.
    drafts = [
        proposing.reclaim_draft(
            group,
            current=ctx.current,
            fits=ctx.fits,
            views=ctx.views,
            metric=ctx.run.metric,
            weights=weights,
            marginal_level=allocation.marginal_level,
        )
        for group in proposing.group_moves(ctx.current, reclaims, min_move=min_move)
    ]
    for group in proposing.group_moves(ctx.current, shifts, min_move=min_move):
        # Where reviewers consistently shrink the engine's shifts for a channel, propose what they accept.
        channel = ctx.campaigns[group.receivers()[0]].channel
        factor = learning.step_factor_for("budget_shift", channel, model=ctx.acceptance)
        group = acceptance.scaled_group(group, factor)
        if group.amount < min_move:
            continue
        draft = proposing.shift_draft(
            group,
            current=ctx.current,
            fits=ctx.fits,
            views=ctx.views,
            metric=ctx.run.metric,
            weights=ctx.run.objective.weights if ctx.run.objective else None,  # the rationale's unit
            marginal_level=allocation.marginal_level,
        )
        drafts.append(replace(draft, evidence={**draft.evidence, "step_factor": factor}))
    return drafts


def _anomaly_drafts(ctx: Context, anomalies: dict) -> list[proposing.Draft]:
    index = {c.pk: i for i, c in enumerate(ctx.campaigns)}
    drafts = []
    for campaign_id, data in anomalies.items():
        i = index.get(campaign_id)
        if i is None or ctx.campaigns[i].status != Campaign.Status.ACTIVE:  # None: archived during the run
            continue
        anomaly = proposing.Anomaly(**{k: v for k, v in data.items() if k not in ("campaign_id", "belief")})
        draft = proposing.pause_draft(
            anomaly,
            view=ctx.views[i],
            budget=float(ctx.current[i]),
            metric=ctx.run.metric,
            recent_value_per_day=float(ctx.recent_value_per_day[i]),
        )
        drafts.append(_with_belief(draft, data.get("belief", "")))
    return drafts


BELIEFS = {
    "tracking broke": "The drop was abrupt while clicks went on: we believe its tracking broke rather than its "
    "customers stopping; check the tag before pausing.",
    "stopped converting": "The decline was gradual, or clicks fell with it: we believe it stopped converting, "
    "rather than its tracking breaking.",
}


def _with_belief(draft: proposing.Draft, belief: str) -> proposing.Draft:
    """Say which cause the data point to; the evidence keeps it for the reports."""
    if belief not in BELIEFS:
        return draft
    rationale = f"{draft.rationale} {BELIEFS[belief]}"
    return replace(draft, rationale=rationale, evidence={**draft.evidence, "belief": belief})


# The engine parts that propose: each turns the fitted run into drafts of its kinds. A new kind's
# engine part is appended here (decisions/review/kinds.py says what else a kind needs).
Drafter = Callable[[Context, dict], list[proposing.Draft]]
DRAFTERS: list[Drafter] = [
    # First, on a first allocation: the campaigns it tests are then held, like pacing's, for the allocation.
    spend_test_drafting.spend_test_drafts,
    _shift_drafts,
    _anomaly_drafts,
    workflow_drafting.retire_drafts,
    audience_drafting.audience_drafts,
    # Before the channel shift, which leaves the channels under test where they are (ctx.moved).
    spend_test_drafting.channel_spend_test_drafts,
    mix_drafting.channel_shift_drafts,
]


def _verdicts(ctx: Context, draft: proposing.Draft) -> list[guardrails.Verdict]:
    changes = targets.checked_changes(draft.changes, from_now=False)
    workflows = targets.workflow_facts(draft.changes)
    return guardrails.check(
        changes,
        rules=ctx.rules,
        campaigns=ctx.facts,
        today=ctx.today,
        copy_text="",
        workflows=workflows,
        audiences=audience_facts(draft.changes, rules=ctx.rules),
    )


def idempotency_key(run: GenerationRun, draft: proposing.Draft) -> str:
    body = [run.window_end, run.metric, run.policy_version, run.model_version, draft.kind, draft.changes]
    if draft.source:
        body.append(draft.source)
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def weekly_value(draft: proposing.Draft) -> float:
    """What the value floor compares: the objective value a move is expected to add per week or, for an
    anomaly's pause or cut, the spend it saves per week. Those give up a little value (their expected mean is
    at most 0) to stop spending where outcomes stopped; judged by the objective alone, none would pass."""
    saved = (draft.evidence or {}).get("spend_saved_per_day")
    if saved is not None:
        return float(saved) * proposing.DAYS_PER_WEEK
    return float(draft.expected["mean"])


def _noise(draft: proposing.Draft, limits: dict[str, float]) -> str:
    """The count a draft too small or too risky to propose goes to; "" for one worth a reviewer's time."""
    if kinds.get(draft.kind).target != guardrails.fields.CAMPAIGN:
        return ""  # a retirement moves no objective value: the workflow audit's own rules chose it
    if test := (draft.evidence or {}).get("spend_test"):
        # A test is worth its value of knowing net of its cost; losing a little while it runs is its price, so
        # the P(loss) cap (a cap on moves meant to last) does not apply.
        return "" if float(test["net_value"]) >= limits["min_weekly_value"] else "below_value_floor"
    if weekly_value(draft) < limits["min_weekly_value"]:
        return "below_value_floor"
    if draft.p_loss > limits["max_proposal_p_loss"] + 1e-9:
        return "too_likely_to_lose"
    return ""


def _store(ctx: Context, drafts: list[proposing.Draft]) -> dict:
    from decisions.review.transitions import proposal_supersede

    counts = {
        "proposals": 0,
        "blocked_by_guardrails": 0,
        "below_value_floor": 0,
        "too_likely_to_lose": 0,
        "already_proposed": 0,
        "superseded": 0,
    }
    by_external_id = {c.external_id: c for c in ctx.campaigns}
    ttl = dt.timedelta(hours=float(setting("WAYPOINT_PROPOSAL_TTL_HOURS", 72)))
    limits = noise_limits()
    pending, superseded = _pending_by_lever(before=ctx.run.started_at), set()
    for draft in drafts:
        kinds.get(draft.kind).validate(draft.changes)  # a malformed draft fails the run, loudly
        if noise := _noise(draft, limits):
            counts[noise] += 1
            continue
        verdicts = _verdicts(ctx, draft)
        if any(not v.passed and v.severity == "block" for v in verdicts):
            counts["blocked_by_guardrails"] += 1  # the engine never proposes what a block rule forbids
            continue
        key = idempotency_key(ctx.run, draft)
        if Proposal.objects.filter(idempotency_key=key).exists():
            counts["already_proposed"] += 1
            continue
        campaign = by_external_id.get(draft.campaign)  # none for a workflow's retirement
        proposal = _create(ctx, draft, key=key, verdicts=verdicts, campaign=campaign, ttl=ttl)
        for older in _older_on_same_levers(proposal, pending, superseded):
            proposal_supersede(proposal=older, by=proposal)
            counts["superseded"] += 1
        counts["proposals"] += 1
    return counts


def _create(ctx, draft, *, key, verdicts, campaign, ttl) -> Proposal:
    expected = draft.expected
    p_accept = learning.p_accept_for(
        SimpleNamespace(
            kind=draft.kind,
            changes=draft.changes,
            p_loss=draft.p_loss,
            guardrail_verdicts=[v.to_dict() for v in verdicts],
            campaign=campaign,
        ),
        model=ctx.acceptance,
    )
    proposal = Proposal.objects.create(
        run=ctx.run,
        kind=draft.kind,
        campaign=campaign,
        lever=kinds.lever_of(draft.kind),
        changes=draft.changes,
        rationale=draft.rationale,
        evidence=draft.evidence,
        platform_view=draft.platform_view,
        guardrail_verdicts=[v.to_dict() for v in verdicts],
        expected_metric=expected["metric"],
        expected_per=expected["per"],
        expected_mean=expected["mean"],
        expected_low=expected["low"],
        expected_high=expected["high"],
        p_loss=draft.p_loss,
        p_accept=p_accept,
        priority=proposing.priority(expected, p_accept),
        model_version=ctx.run.model_version,
        idempotency_key=key,
        expires_at=timezone.now() + ttl,
    )
    audit_events.proposal_created(proposal)
    return proposal


def _pending_by_lever(*, before: dt.datetime) -> dict[tuple[str, str], list[Proposal]]:
    """Pending proposals made before this run started, indexed by (lever, campaign external id), for superseding
    in one query: a newer proposal supersedes an older one, never the other way round (the demo replays a run
    of days ago while today's proposals wait)."""
    index: dict[tuple[str, str], list[Proposal]] = {}
    for proposal in Proposal.objects.filter(status=Proposal.Status.PENDING, created_at__lt=before):
        for change in proposal.changes:
            index.setdefault((proposal.lever, targets.ref(change)), []).append(proposal)
    return index


def _older_on_same_levers(proposal: Proposal, index: dict, done: set[int]) -> list[Proposal]:
    found = {}
    for change in proposal.changes:
        for older in index.get((proposal.lever, targets.ref(change)), []):
            if older.pk not in done:
                found[older.pk] = older
    done.update(found)
    return list(found.values())
