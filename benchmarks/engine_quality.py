"""Quality of the proposal engine on simulated worlds whose true response curves are known.

    .venv/bin/python -m benchmarks.engine_quality [--seeds 20] [--campaigns 40] [--window-days 90]

For every seed, history length (30, 90, 180 days) and historical spend
variation (low: budgets wandered ±3%, high: 0.5×–1.5×), the engine runs the
production path of decisions/generating.py without the database: fit curves
on the data window → hold campaigns the guardrails or the anomaly test keep
out → guardrail_bounds → allocate_detailed → group_moves → one budget-shift
draft per group (plus pause/cut drafts for anomalies). Drafts a block rule
fails are dropped, as the generation service drops them; the rest are all
approved.

Two tables:

- quality grid: the share of the achievable uplift captured,
  (true value of the proposed budgets − today's) / (oracle under the same
  bounds and total − today's), median and worst decile over seeds; the share
  of budget shifts whose true weekly impact falls inside their 80% interval;
  the block-rule failures among the drafts; the number of proposals (and
  how many of them are anomaly pauses/cuts); and the median share the
  allocator's own budgets capture before they are paired into proposals, so
  a gap between the two columns is what pairing gives up.
- vanity trap: true pipeline gained per week by the engine against a
  ROAS-greedy baseline that moves budget from the lowest platform-reported
  ROAS to the highest (what ad platforms' own recommendations do), inside
  the same bounds.

Goals: median captured ≥ 85% at 90 days, worst decile never below today's
value, no guardrail violation, and ≥ 2× the baseline's true gain.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta

import numpy as np

from decisions.engine import proposing, spend_tests
from decisions.engine import simulator as sim
from decisions.engine.allocation import allocate_detailed
from decisions.engine.anomalies import detect_anomalies
from decisions.engine.curves import fit_curves
from decisions.engine.types import Bounds
from decisions.engine.utilization import Utilization, measure
from objectives import guardrails
from objectives.guardrails import CampaignFacts, Rule

HISTORY_DAYS = (30, 90, 180)
VARIATIONS = ("low", "high")
METRIC = "pipeline_value"

# The generation service's defaults (decisions/generating.py reads them from
# settings; config/settings.py sets none of them), so the benchmark measures
# what a fresh install proposes.
WINDOW_DAYS = 90  # WAYPOINT_WINDOW_DAYS
MAX_STEP_PCT = 50.0  # WAYPOINT_MAX_STEP_PCT
MIN_MOVE = 5.0  # WAYPOINT_MIN_MOVE
MIN_MOVE_PCT = 0.03  # WAYPOINT_MIN_MOVE_PCT
MAX_P_LOSS = 0.35  # WAYPOINT_MAX_P_LOSS
N_DRAWS = 200  # WAYPOINT_N_DRAWS
RECENT_DAYS = 28  # generating.RECENT_DAYS: the platform view's window
EVIDENCE_WINDOW_DAYS = 90  # decisions.selectors.EVIDENCE_WINDOW_DAYS

# A fixed calendar, so a seed gives the same numbers on any day it is run.
END_DATE = date(2026, 11, 20)
TODAY = END_DATE + timedelta(days=1)

MOVES = ("budget_shift", "reclaim")  # the kinds that move money between campaigns

GOAL_MEDIAN = 0.85
GOAL_DAYS = 90
GOAL_RATIO = 2.0


# --- the team's rules -----------------------------------------------------------------


def starter_rules(world: sim.World) -> list[Rule]:
    """The demo's starter guardrails (decisions/demo.py), one of each kind, as the checker's Rules."""
    total = sum(c.daily_budget for c in world.campaigns)
    return [
        Rule("Move a budget by at most 30% at a time", "max_budget_change_pct", params={"pct": 30}),
        Rule("Daily budget between 10 and 2,000", "budget_bounds", params={"min": 10, "max": 2000}),
        # Room to grow by a tenth, rounded up to the next hundred.
        Rule("Total daily budget cap", "total_budget_cap", params={"amount": int(-(-total * 1.1 // 100) * 100)}),
        Rule("Never pause or cut brand campaigns", "protected_campaigns", params={"tag": "brand"}),
        Rule(
            "No spend increase on sensitive audiences",
            "forbidden_audiences",
            params={"segments": ["under_18", "lookalike_sensitive"]},
        ),
        Rule(
            "Brand voice in proposal copy",
            "brand_voice",
            severity="warn",
            params={"banned_phrases": ["guaranteed", "risk-free", "cheapest"], "required_phrases": []},
        ),
        Rule("One applied change per campaign per week", "cooldown", severity="warn", params={"days": 7}),
        Rule("At least 28 days and 5 conversions of evidence", "min_evidence", params={"days": 28, "conversions": 5}),
    ]


def campaign_facts(world: sim.World, history: sim.SimHistory) -> dict[str, CampaignFacts]:
    """What decisions.selectors.campaign_facts would read from the database after importing `history`."""
    since = TODAY - timedelta(days=EVIDENCE_WINDOW_DAYS)
    recent = np.array([since < d <= TODAY for d in history.dates])
    facts = {}
    for i, c in enumerate(world.campaigns):
        facts[c.external_id] = CampaignFacts(
            external_id=c.external_id,
            channel=c.channel,
            tags=c.tags,
            audience=c.audience,
            daily_budget=c.daily_budget,
            status="active",
            evidence_days=int((history.spend[i, recent] > 0).sum()),
            evidence_conversions=float(history.leads[i, recent].sum()),
        )
    return facts


# --- one run of the engine ------------------------------------------------------------------


@dataclass(frozen=True)
class EngineRun:
    bounds: Bounds  # guardrail bounds, with the campaigns no rule lets the engine touch pinned
    eligible: np.ndarray  # False: a block rule (evidence, cooldown) keeps the engine away
    allocated: np.ndarray  # the allocator's budgets, before pairing into proposals
    drafts: list[proposing.Draft]  # everything the engine drafted
    stored: list[proposing.Draft]  # the drafts the generation service would store (no block failure)
    violations: int  # failing block verdicts over all drafts
    fits: list = ()  # the curves the allocator saw (None where held)
    engine_bounds: Bounds | None = None  # the allocator's own bounds (step limit, data seen, caps)
    marginal_level: float = float("nan")  # the allocator's multiplier
    caps: np.ndarray | None = None


def run_engine(
    world: sim.World,
    history: sim.SimHistory,
    *,
    rules: list[Rule],
    window_days: int,
    seed: int,
    utilization: bool = True,
) -> EngineRun:
    """The generation path; `utilization=False` is the engine as it was before it measured utilization
    (every budget taken to be spent), for the before/after table."""
    window = slice(-min(window_days, len(history.dates)), None)
    spend, value = history.spend[:, window], history.pipeline_value[:, window]
    fits = fit_curves(spend, value, n_draws=N_DRAWS, seed=seed)
    anomalies = {a.index: a for a in detect_anomalies(spend, history.leads[:, window])}
    facts = campaign_facts(world, history)
    ids = world.external_ids
    eligible = np.array([guardrails.may_propose(facts[e], rules, today=TODAY, severity=None)[0] for e in ids])
    # As generating._hold_ineligible: the allocator sees no curve where any guardrail, of either severity, holds
    # the campaign back.
    fits = [f if eligible[i] and i not in anomalies else None for i, f in enumerate(fits)]
    current = world.budgets
    views = _views(world, spend[:, -RECENT_DAYS:], value[:, -RECENT_DAYS:], history.platform_revenue[:, window])
    if utilization:
        views = [replace(v, utilization=measured(world, history, i, window)) for i, v in enumerate(views)]
    caps = proposing.spend_caps(views)
    campaign_facts_ = [facts[e] for e in ids]
    bounds = proposing.guardrail_bounds(
        current, facts=campaign_facts_, rules=rules, fits=fits, max_step_pct=MAX_STEP_PCT, caps=caps
    )
    # The oracle's box: the guardrails' and the data's limits, not the engine's own estimate of the ceilings.
    plain = proposing.guardrail_bounds(
        current, facts=campaign_facts_, rules=rules, fits=fits, max_step_pct=MAX_STEP_PCT
    )
    allocation = allocate_detailed(
        fits, current, bounds, min_move=MIN_MOVE, min_move_pct=MIN_MOVE_PCT, max_p_loss=MAX_P_LOSS, spend_caps=caps
    )
    reclaims, shifts = proposing.split_reclaims(current, allocation.budgets, caps)
    common = {"current": current, "fits": fits, "views": views, "metric": METRIC}
    drafts = [
        proposing.reclaim_draft(group, **common, marginal_level=allocation.marginal_level)
        for group in proposing.group_moves(current, reclaims, min_move=MIN_MOVE)
    ]
    drafts += [
        proposing.shift_draft(group, **common, marginal_level=allocation.marginal_level)
        for group in proposing.group_moves(current, shifts, min_move=MIN_MOVE)
    ]
    drafts += _anomaly_drafts(anomalies, world=world, views=views, value=value, eligible=eligible)
    stored, violations = [], 0
    for draft in drafts:
        failures = block_failures(draft, rules=rules, facts=facts)
        violations += failures
        if not failures:
            stored.append(draft)
    pinned = Bounds(lower=np.where(eligible, plain.lower, current), upper=np.where(eligible, plain.upper, current))
    return EngineRun(
        bounds=pinned,
        eligible=eligible,
        allocated=allocation.budgets,
        drafts=drafts,
        stored=stored,
        violations=violations,
        fits=fits,
        engine_bounds=bounds,
        marginal_level=allocation.marginal_level,
        caps=caps,
    )


def measured(world: sim.World, history: sim.SimHistory, i: int, window: slice) -> Utilization:
    """What generation's fit_chunk measures from the imported rows: spend against each day's budget, and
    for search campaigns the share of impressions lost to budget."""
    lost = None if history.lost_is_budget is None else history.lost_is_budget[i, window]
    return measure(
        history.spend[i, window],
        history.budgets[i, window],
        lost_is_budget=lost,
        current_budget=world.campaigns[i].daily_budget,
    )


def _views(world, recent_spend, recent_value, platform_revenue) -> list[proposing.CampaignView]:
    recent_platform = platform_revenue[:, -RECENT_DAYS:].sum(axis=1)
    spent = recent_spend.sum(axis=1)
    return [
        proposing.CampaignView(
            external_id=c.external_id,
            name=c.name,
            platform_roas=float(recent_platform[i] / spent[i]) if spent[i] > 0 else None,
            objective_per_spend=float(recent_value[i].sum() / spent[i]) if spent[i] > 0 else None,
        )
        for i, c in enumerate(world.campaigns)
    ]


def _anomaly_drafts(anomalies, *, world, views, value, eligible) -> list[proposing.Draft]:
    recent = value[:, -RECENT_DAYS:]
    return [
        proposing.pause_draft(
            anomaly,
            view=views[i],
            budget=float(world.budgets[i]),
            metric=METRIC,
            recent_value_per_day=float(np.nanmean(recent[i])),
        )
        for i, anomaly in anomalies.items()
    ]


def block_failures(draft: proposing.Draft, *, rules: list[Rule], facts: dict[str, CampaignFacts]) -> int:
    changes = [guardrails.Change(c["campaign"], c["field"], c["from"], c["to"]) for c in draft.changes]
    verdicts = guardrails.check(changes, rules=rules, campaigns=facts, today=TODAY)
    return sum(1 for v in verdicts if v.severity == "block" and not v.passed)


# --- judging it against the truth -------------------------------------------------------------


def applied(world: sim.World, drafts: list[proposing.Draft]) -> np.ndarray:
    """Today's budgets with every draft approved; a paused campaign spends nothing."""
    budgets = world.budgets.copy()
    index = {e: i for i, e in enumerate(world.external_ids)}
    for draft in drafts:
        for change in draft.changes:
            i = index[change["campaign"]]
            if change["field"] == guardrails.BUDGET:
                budgets[i] = float(change["to"])
            elif change["field"] == guardrails.STATUS and change["to"] == guardrails.PAUSED:
                budgets[i] = 0.0
    return budgets


def true_weekly_impact(world: sim.World, draft: proposing.Draft) -> float:
    before = world.budgets.copy()
    after = applied(world, [draft])
    return proposing.DAYS_PER_WEEK * (sim.true_value(world, after) - sim.true_value(world, before))


def roas_greedy(current: np.ndarray, bounds: Bounds, roas: np.ndarray) -> np.ndarray:
    """Fill the highest platform ROAS to its upper bound from the lowest's cuts, same total, same bounds."""
    budgets = current.astype(float).copy()
    order = np.argsort(-np.nan_to_num(roas, nan=-np.inf), kind="stable")
    top, bottom = 0, len(order) - 1
    while top < bottom:
        receiver, donor = order[top], order[bottom]
        room = bounds.upper[receiver] - budgets[receiver]
        spare = budgets[donor] - bounds.lower[donor]
        if room <= 1e-9:
            top += 1
        elif spare <= 1e-9:
            bottom -= 1
        else:
            amount = min(room, spare)
            budgets[receiver] += amount
            budgets[donor] -= amount
    return budgets


@dataclass(frozen=True)
class SeedResult:
    days: int
    variation: str
    seed: int
    current: float  # true pipeline value per day at today's budgets
    proposed: float
    allocated: float  # what the allocator's budgets would earn, had pairing kept every move
    oracle: float
    baseline: float  # ROAS-greedy
    shifts: int
    covered: int
    anomaly_drafts: int
    violations: int
    seconds: float

    @property
    def captured(self) -> float:
        return self._share(self.proposed)

    @property
    def captured_by_allocator(self) -> float:
        return self._share(self.allocated)

    def _share(self, value: float) -> float:
        achievable = self.oracle - self.current
        return (value - self.current) / achievable if achievable > 1e-9 else float("nan")


def evaluate(
    *, seed: int, days: int, variation: str, n_campaigns: int = 40, window_days: int = WINDOW_DAYS
) -> SeedResult:
    started = time.perf_counter()
    world = sim.make_world(n_campaigns, seed)
    history = sim.simulate_history(world, days=days, end_date=END_DATE, spend_variation=variation)
    rules = starter_rules(world)
    run = run_engine(world, history, rules=rules, window_days=window_days, seed=seed)
    current = world.budgets
    oracle = sim.oracle_budgets(world, total=float(current.sum()), lower=run.bounds.lower, upper=run.bounds.upper)
    recent = slice(-min(RECENT_DAYS, days), None)
    spent = history.spend[:, recent].sum(axis=1)
    roas = np.where(spent > 0, history.platform_revenue[:, recent].sum(axis=1) / np.maximum(spent, 1e-12), np.nan)
    shifts = [d for d in run.stored if d.kind in MOVES]
    covered = sum(d.expected["low"] <= true_weekly_impact(world, d) <= d.expected["high"] for d in shifts)
    return SeedResult(
        days=days,
        variation=variation,
        seed=seed,
        current=sim.true_value(world, current),
        proposed=sim.true_value(world, applied(world, run.stored)),
        allocated=sim.true_value(world, run.allocated),
        oracle=sim.true_value(world, oracle),
        baseline=sim.true_value(world, roas_greedy(current, run.bounds, roas)),
        shifts=len(shifts),
        covered=int(covered),
        anomaly_drafts=len(run.stored) - len(shifts),
        violations=run.violations,
        seconds=time.perf_counter() - started,
    )


# --- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    days: int
    variation: str
    median: float
    worst_decile: float
    allocator_median: float  # the same median before pairing: what pairing gives up
    below_current: int  # seeds whose proposals lose true value
    coverage: float
    violations: int
    proposals: int
    anomaly_drafts: int
    gain: float  # mean true pipeline gained per week, engine
    baseline_gain: float  # same, ROAS-greedy
    seeds: int


def summarise(results: list[SeedResult]) -> list[Cell]:
    cells = []
    for days in sorted({r.days for r in results}):
        for variation in [v for v in VARIATIONS if any(r.variation == v for r in results)]:
            rs = [r for r in results if r.days == days and r.variation == variation]
            if not rs:
                continue
            captured = np.array([r.captured for r in rs])
            shifts = sum(r.shifts for r in rs)
            cells.append(
                Cell(
                    days=days,
                    variation=variation,
                    median=float(np.nanmedian(captured)),
                    worst_decile=float(np.nanquantile(captured, 0.1)),
                    allocator_median=float(np.nanmedian([r.captured_by_allocator for r in rs])),
                    below_current=sum(r.proposed < r.current - 1e-9 for r in rs),
                    coverage=sum(r.covered for r in rs) / shifts if shifts else float("nan"),
                    violations=sum(r.violations for r in rs),
                    proposals=shifts + sum(r.anomaly_drafts for r in rs),
                    anomaly_drafts=sum(r.anomaly_drafts for r in rs),
                    gain=7 * float(np.mean([r.proposed - r.current for r in rs])),
                    baseline_gain=7 * float(np.mean([r.baseline - r.current for r in rs])),
                    seeds=len(rs),
                )
            )
    return cells


def ratio(cell: Cell) -> float:
    return cell.gain / cell.baseline_gain if cell.baseline_gain > 0 else float("inf")


def quality_table(cells: list[Cell]) -> str:
    head = f"{'history':>8} {'variation':>9} {'median':>8} {'worst 10%':>10} {'< today':>8} {'coverage':>9}"
    head += f" {'violations':>11} {'proposals':>10} {'anomaly':>8} {'allocator':>10}"
    lines = [head]
    for c in cells:
        lines.append(
            f"{c.days:>7}d {c.variation:>9} {c.median:>8.1%} {c.worst_decile:>10.1%} {c.below_current:>5}/{c.seeds:<2}"
            f" {c.coverage:>9.1%} {c.violations:>11} {c.proposals:>10} {c.anomaly_drafts:>8}"
            f" {c.allocator_median:>10.1%}"
        )
    return "\n".join(lines)


def vanity_table(cells: list[Cell]) -> str:
    lines = [f"{'history':>8} {'variation':>9} {'Waypoint $/wk':>14} {'ROAS-greedy $/wk':>17} {'ratio':>16}"]
    for c in cells:
        shown = f"{ratio(c):.1f}x" if c.baseline_gain > 0 else "baseline loses"
        lines.append(f"{c.days:>7}d {c.variation:>9} {c.gain:>14,.0f} {c.baseline_gain:>17,.0f} {shown:>16}")
    return "\n".join(lines)


def goals(cells: list[Cell]) -> list[tuple[str, bool]]:
    """(what, met) per goal; the 90-day goal is judged per spend variation, since they differ most."""
    at_goal = [c for c in cells if c.days == GOAL_DAYS]
    verdicts = [
        (
            f"median captured ≥ {GOAL_MEDIAN:.0%} at {GOAL_DAYS} days, {c.variation} variation ({c.median:.1%})",
            c.median >= GOAL_MEDIAN,
        )
        for c in at_goal
    ]
    worst = min(c.worst_decile for c in cells)
    verdicts.append((f"worst decile never below today's value (lowest {worst:.1%})", worst >= 0))
    violations = sum(c.violations for c in cells)
    verdicts.append((f"0 guardrail violations ({violations})", violations == 0))
    trap_met = all(c.gain > 0 and c.gain >= GOAL_RATIO * c.baseline_gain for c in cells)
    verdicts.append((f"vanity trap: true pipeline gain ≥ {GOAL_RATIO:.0f}× the ROAS-greedy baseline's", trap_met))
    return verdicts


# --- demand-limited campaigns ---------------------------------------------------------------

LIMITED_SHARE = 0.2  # of all campaigns, drawn from the healthy ones
LIMITED_DAYS = 90
ISSUE_SEEDS = (1, 2, 3)
ISSUE_BEST = 5  # the issue's measurement: the five best campaigns …
ISSUE_CAP = 0.8  # … can spend at most 80% of today's budget, flat, every day
ISSUE_VARIATION = "high"
GOAL_LIMITED_CAPTURED = 0.80
ENGINES = (("landed", False), ("now", True))  # before and after the engine measured utilization


def issue_world(seed: int, n_campaigns: int) -> sim.World:
    """The world of the issue's measurement: the five campaigns with the best true marginal return at today's
    budget (traps aside) spend at most 80% of today's budget, flat."""
    world = sim.make_world(n_campaigns, seed)
    marginal = sim.true_marginals(world, world.budgets)
    healthy = [i for i, c in enumerate(world.campaigns) if not c.is_trap]
    best = sorted(healthy, key=lambda i: -marginal[i])[:ISSUE_BEST]
    ceilings = {world.campaigns[i].external_id: ISSUE_CAP * world.campaigns[i].daily_budget for i in best}
    return sim.with_ceilings(world, ceilings, demand_noise=0.0)


@dataclass(frozen=True)
class LimitedResult:
    case: str  # "issue" (five best at 80%) or "share" (LIMITED_SHARE of campaigns, ceilings 55–90%)
    variation: str
    seed: int
    engine: str  # "landed" | "now"
    captured: float  # against the oracle that knows the ceilings, under the same guardrail bounds
    limited: int  # demand-limited campaigns in the world
    raised: int  # of them, how many the approved proposals raise
    above_ceiling: int  # raises that end above the campaign's true ceiling
    worst_above: float  # the largest such raise, (new budget − ceiling) / ceiling; 0 when none
    reclaims: int
    moves: int  # shifts and reclaims stored
    covered: int  # of them, true weekly impact inside the 80% interval
    violations: int


def evaluate_limited(
    world: sim.World, *, case: str, seed: int, variation: str, utilization: bool, engine: str
) -> LimitedResult:
    history = sim.simulate_history(world, days=LIMITED_DAYS, end_date=END_DATE, spend_variation=variation)
    run = run_engine(
        world, history, rules=starter_rules(world), window_days=WINDOW_DAYS, seed=seed, utilization=utilization
    )
    current = world.budgets
    oracle = sim.oracle_budgets(world, total=float(current.sum()), lower=run.bounds.lower, upper=run.bounds.upper)
    proposed = applied(world, run.stored)
    ceilings = sim.spend_ceilings(world)
    limited = np.isfinite(ceilings)
    raised = limited & (proposed > current + 0.005)
    above = raised & (proposed > ceilings + 0.005)
    worst = float(((proposed[above] - ceilings[above]) / ceilings[above]).max()) if above.any() else 0.0
    now, best = sim.true_value(world, current), sim.true_value(world, oracle)
    moves = [d for d in run.stored if d.kind in MOVES]
    return LimitedResult(
        case=case,
        variation=variation,
        seed=seed,
        engine=engine,
        captured=(sim.true_value(world, proposed) - now) / (best - now) if best - now > 1e-9 else float("nan"),
        limited=int(limited.sum()),
        raised=int(raised.sum()),
        above_ceiling=int(above.sum()),
        worst_above=worst,
        reclaims=sum(d.kind == "reclaim" for d in run.stored),
        moves=len(moves),
        covered=sum(d.expected["low"] <= true_weekly_impact(world, d) <= d.expected["high"] for d in moves),
        violations=run.violations,
    )


def run_limited(*, seeds: int, n_campaigns: int) -> tuple[list[LimitedResult], dict[int, float]]:
    """Both cases under both engines; and, for the issue's seeds, the landed engine's share on the same worlds
    without the limit (the issue's reference)."""
    results = []
    issue_seeds = ISSUE_SEEDS[: max(1, min(seeds, len(ISSUE_SEEDS)))]
    for engine, utilization in ENGINES:
        for seed in issue_seeds:
            world = issue_world(seed, n_campaigns)
            results.append(
                evaluate_limited(
                    world, case="issue", seed=seed, variation=ISSUE_VARIATION, utilization=utilization, engine=engine
                )
            )
        for variation in VARIATIONS:
            for seed in range(1, seeds + 1):
                world = sim.make_world(n_campaigns, seed, limited_share=LIMITED_SHARE)
                results.append(
                    evaluate_limited(
                        world, case="share", seed=seed, variation=variation, utilization=utilization, engine=engine
                    )
                )
    unlimited = {
        seed: evaluate(seed=seed, days=LIMITED_DAYS, variation=ISSUE_VARIATION, n_campaigns=n_campaigns).captured
        for seed in issue_seeds
    }
    return results, unlimited


def limited_cells(results: list[LimitedResult]) -> list[dict]:
    cells = []
    for case, variation in dict.fromkeys((r.case, r.variation) for r in results):
        for engine, _ in ENGINES:
            rs = [r for r in results if (r.case, r.variation, r.engine) == (case, variation, engine)]
            captured = np.array([r.captured for r in rs])
            moves = sum(r.moves for r in rs)
            cells.append(
                {
                    "case": case,
                    "variation": variation,
                    "engine": engine,
                    "seeds": len(rs),
                    "median": float(np.nanmedian(captured)),
                    "worst_decile": float(np.nanquantile(captured, 0.1)),
                    "limited": sum(r.limited for r in rs),
                    "raised": sum(r.raised for r in rs),
                    "above": sum(r.above_ceiling for r in rs),
                    "worst_above": max(r.worst_above for r in rs),
                    "reclaims": sum(r.reclaims for r in rs),
                    "coverage": sum(r.covered for r in rs) / moves if moves else float("nan"),
                    "violations": sum(r.violations for r in rs),
                }
            )
    return cells


def limited_table(cells: list[dict]) -> str:
    head = f"{'case':>6} {'variation':>9} {'engine':>7} {'median':>8} {'worst 10%':>10} {'limited raised':>15}"
    head += f" {'above ceiling':>14} {'max above':>10} {'reclaims':>9} {'coverage':>9} {'violations':>11}"
    lines = [head]
    for c in cells:
        lines.append(
            f"{c['case']:>6} {c['variation']:>9} {c['engine']:>7} {c['median']:>8.1%} {c['worst_decile']:>10.1%}"
            f" {c['raised']:>7}/{c['limited']:<7} {c['above']:>14} {c['worst_above']:>10.0%} {c['reclaims']:>9}"
            f" {c['coverage']:>9.1%} {c['violations']:>11}"
        )
    return "\n".join(lines)


def issue_line(results: list[LimitedResult], unlimited: dict[int, float]) -> str:
    def shares(engine: str) -> str:
        found = [r for r in results if r.case == "issue" and r.engine == engine]
        return "/".join(f"{r.captured:.2f}" for r in found)

    seeds = "/".join(f"{v:.2f}" for v in unlimited.values())
    return (
        f"The issue's worlds (seeds {', '.join(map(str, unlimited))}): captured {shares('landed')} by the landed "
        f"engine, {shares('now')} now; {seeds} on the same worlds without the limit"
    )


def limited_goals(cells: list[dict]) -> list[tuple[str, bool]]:
    now = [c for c in cells if c["engine"] == "now"]
    above = sum(c["above"] for c in now)
    lowest = min(c["median"] for c in now)
    return [
        (f"no raise above a demand-limited campaign's ceiling ({above})", above == 0),
        (
            f"median captured ≥ {GOAL_LIMITED_CAPTURED:.0%} of the ceiling-aware oracle with demand-limited campaigns"
            f" (lowest {lowest:.1%})",
            lowest >= GOAL_LIMITED_CAPTURED,
        ),
    ]


# --- one round of spend tests ----------------------------------------------------------------

TEST_DAYS_HISTORY = 90
TEST_VARIATION = "low"
# The service's cap per run, a wider round, and every fitted campaign (None) for comparison.
TEST_CAPS = (spend_tests.MAX_TESTS, 10, None)


@dataclass(frozen=True)
class TestedResult:
    seed: int
    captured_before: float
    captured_after: float
    captured_waited: float  # 14 more days without tests: what the tests are measured against
    tests: int
    test_cost: float  # true value the tests' extra spend gave up against the money's rate, summed over the tests
    predicted_cost: float  # what the plans said they would cost (mean)
    value_of_knowing: float  # what the plans said knowing was worth


def campaign_may_raise(world: sim.World, run: EngineRun, rules: list[Rule], facts: dict, raise_pct: float):
    """As the generation service asks it: eligible, no anomaly, the block-level limits allow the raise and demand
    would spend it."""
    raised = world.budgets * (1 + raise_pct / 100.0)
    highs = np.array([guardrails.budget_limits(facts[e], rules)[1] for e in world.external_ids])
    caps = run.caps if run.caps is not None else np.full(len(raised), np.inf)
    fitted = np.array([f is not None for f in run.fits])
    return fitted & run.eligible & (highs >= raised - 1e-9) & (caps >= raised - 1e-9)


def _joined(first: sim.SimHistory, second: sim.SimHistory) -> sim.SimHistory:
    """The history with the test's days after it."""
    arrays = {}
    for name in (f.name for f in fields(sim.SimHistory) if f.name != "dates"):
        a, b = getattr(first, name), getattr(second, name)
        arrays[name] = None if a is None or b is None else np.concatenate([a, b], axis=1)
    return sim.SimHistory(dates=first.dates + second.dates, **arrays)


def evaluate_tested(*, seed: int, n_campaigns: int = 40, max_tests: int | None = spend_tests.MAX_TESTS) -> TestedResult:
    """90 days of low variation; the engine's spend tests (at most `max_tests`) run for their days at the
    raised budgets and return; the engine then runs again on the last 90 days, test days included. Both runs
    are judged against the same oracle (the first run's bounds and total). `max_tests=None` tests every fitted
    campaign the guardrails let rise, worth it or not: the most one round of +25% tests could teach."""
    world = sim.make_world(n_campaigns, seed)
    history = sim.simulate_history(world, days=TEST_DAYS_HISTORY, end_date=END_DATE, spend_variation=TEST_VARIATION)
    rules = starter_rules(world)
    run = run_engine(world, history, rules=rules, window_days=WINDOW_DAYS, seed=seed)
    current = world.budgets
    oracle = sim.true_value(
        world, sim.oracle_budgets(world, total=float(current.sum()), lower=run.bounds.lower, upper=run.bounds.upper)
    )
    facts = campaign_facts(world, history)
    plans = spend_tests.campaign_plans(
        list(run.fits),
        current,
        allocated=run.allocated if max_tests is not None else current,
        lower=run.engine_bounds.lower,
        upper=run.engine_bounds.upper,
        may_raise=campaign_may_raise(world, run, rules, facts, spend_tests.RAISE_PCT),
        rate=run.marginal_level,
        max_p_loss=MAX_P_LOSS,
        seed=seed,
    )
    if max_tests is None:
        chosen = [p for p in plans if p is not None]
    else:
        chosen = spend_tests.choose(plans, max_tests=max_tests)
    raised = {world.external_ids[p.index]: p.spend_test for p in chosen}
    test_days = sim.simulate_days(
        world, budgets=raised, start_date=END_DATE + timedelta(days=1), days=spend_tests.TEST_DAYS, seed=seed
    )
    after = run_engine(world, _joined(history, test_days), rules=rules, window_days=WINDOW_DAYS, seed=seed)
    # The same days at today's budgets (the same noise): without tests the engine would also have waited.
    same_days = sim.simulate_days(
        world, budgets={}, start_date=END_DATE + timedelta(days=1), days=spend_tests.TEST_DAYS, seed=seed
    )
    waited = run_engine(world, _joined(history, same_days), rules=rules, window_days=WINDOW_DAYS, seed=seed)
    base = sim.true_value(world, current)
    share = lambda value: (value - base) / (oracle - base) if oracle - base > 1e-9 else float("nan")  # noqa: E731
    rate = run.marginal_level if np.isfinite(run.marginal_level) else 1.0
    tested = current.copy()
    for p in chosen:
        tested[p.index] = p.spend_test
    true_cost = spend_tests.TEST_DAYS * (rate * (tested - current).sum() - (sim.true_value(world, tested) - base))
    return TestedResult(
        seed=seed,
        captured_before=share(sim.true_value(world, applied(world, run.stored))),
        captured_after=share(sim.true_value(world, applied(world, after.stored))),
        captured_waited=share(sim.true_value(world, applied(world, waited.stored))),
        tests=len(chosen),
        test_cost=float(true_cost),
        predicted_cost=float(sum(p.cost[0] for p in chosen)),
        value_of_knowing=float(sum(p.value_of_knowing for p in chosen)),
    )


def _cap_words(cap: int | None) -> str:
    return "every fitted" if cap is None else f"≤ {cap} a run"


def tested_table(rows: dict) -> str:
    head = f"{'history':>8} {'variation':>9} {'tests':>12} {'median':>8} {'worst 10%':>10} {'tests/seed':>11}"
    head += f" {'cost $ (true)':>14} {'cost $ (plan)':>14} {'value of knowing $':>19}"
    lines = [head]
    first = next(iter(rows.values()))
    before = np.array([r.captured_before for r in first])
    lines.append(
        f"{TEST_DAYS_HISTORY:>7}d {TEST_VARIATION:>9} {'none':>12} {np.nanmedian(before):>8.1%}"
        f" {np.nanquantile(before, 0.1):>10.1%} {0:>11.1f} {'—':>14} {'—':>14} {'—':>19}"
    )
    waited = np.array([r.captured_waited for r in first])
    lines.append(
        f"{TEST_DAYS_HISTORY:>7}d {TEST_VARIATION:>9} {'none, waited':>12} {np.nanmedian(waited):>8.1%}"
        f" {np.nanquantile(waited, 0.1):>10.1%} {0:>11.1f} {'—':>14} {'—':>14} {'—':>19}"
    )
    for cap, results in rows.items():
        after = np.array([r.captured_after for r in results])
        lines.append(
            f"{TEST_DAYS_HISTORY:>7}d {TEST_VARIATION:>9} {_cap_words(cap):>12} {np.nanmedian(after):>8.1%}"
            f" {np.nanquantile(after, 0.1):>10.1%} {np.mean([r.tests for r in results]):>11.1f}"
            f" {np.mean([r.test_cost for r in results]):>14,.0f} {np.mean([r.predicted_cost for r in results]):>14,.0f}"
            f" {np.mean([r.value_of_knowing for r in results]):>19,.0f}"
        )
    return "\n".join(lines)


def run_tested(*, seeds: int, n_campaigns: int, caps: tuple) -> dict:
    return {
        cap: [evaluate_tested(seed=seed, n_campaigns=n_campaigns, max_tests=cap) for seed in range(1, seeds + 1)]
        for cap in caps
    }


def run_grid(
    *, seeds: int, n_campaigns: int, days: tuple[int, ...] = HISTORY_DAYS, window_days: int = WINDOW_DAYS
) -> list[SeedResult]:
    return [
        evaluate(seed=seed, days=d, variation=v, n_campaigns=n_campaigns, window_days=window_days)
        for d in days
        for v in VARIATIONS
        for seed in range(1, seeds + 1)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--campaigns", type=int, default=40)
    parser.add_argument("--window-days", type=int, default=WINDOW_DAYS, help="days the engine fits on (production: 90)")
    parser.add_argument("--spend-tests-only", action="store_true", help="print only the spend-test table")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tested = run_tested(seeds=args.seeds, n_campaigns=args.campaigns, caps=TEST_CAPS)
    tested_text = (
        f"\nOne round of spend tests ({TEST_DAYS_HISTORY} days, {TEST_VARIATION} variation): the tests the engine "
        f"proposes (+{spend_tests.RAISE_PCT:.0f}% for {spend_tests.TEST_DAYS} days, then back) run, and the engine "
        "runs again on the last 90 days;\n'waited' = the same 14 days at today's budgets instead (the fair "
        "comparison); captured against the first run's oracle; costs and values summed per seed, in $ of pipeline\n"
        + tested_table(tested)
    )
    if args.spend_tests_only:
        print(tested_text)
        print(f"\n{time.perf_counter() - started:.0f} s")
        return
    cells = summarise(run_grid(seeds=args.seeds, n_campaigns=args.campaigns, window_days=args.window_days))
    print(
        f"Engine quality: {args.seeds} seeds × {args.campaigns} campaigns, fitted on the last "
        f"{args.window_days} days at most, starter guardrails\n"
    )
    print("Share of the achievable uplift captured (oracle under the same bounds and total);")
    print("'allocator' is the median share the allocator's budgets capture before pairing into proposals")
    print(quality_table(cells))
    print("\nVanity trap: objective pipeline, mean true pipeline gained per week against today's budgets")
    print(vanity_table(cells))
    limited, unlimited = run_limited(seeds=args.seeds, n_campaigns=args.campaigns)
    lcells = limited_cells(limited)
    print(
        f"\nDemand-limited campaigns ({LIMITED_DAYS} days of history): 'issue' = the five best campaigns spend at most"
        f" {ISSUE_CAP:.0%} of their budget; 'share' = {LIMITED_SHARE:.0%} of campaigns have a ceiling at 55–90% of"
        " their budget.\nCaptured against the oracle that knows the ceilings; 'landed' = the engine before it"
        " measured utilization, 'now' = with it"
    )
    print(limited_table(lcells))
    print(issue_line(limited, unlimited))
    print(tested_text)
    print()
    for name, met in goals(cells) + limited_goals(lcells):
        print(f"{'met' if met else 'NOT met'}: {name}")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
