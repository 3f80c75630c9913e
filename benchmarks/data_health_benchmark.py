"""Fault injection: plant each kind of data break on the simulator, measure what data health catches and what the
breaks cost the engine, with and without the health gate.

    .venv/bin/python -m benchmarks.data_health_benchmark [--seeds 10] [--campaigns 40] [--broken 3]

For every seed a simulated world (90 days of history, high spend variation, the starter guardrails) is checked
clean, then once per kind of break, each planted in the data the engine sees (the world's truth is unchanged: a
broken tag does not change what the campaigns earn):

- tracking tag broke: `--broken` campaigns' leads and pipeline read 0 for their last 10 days while spend and
  clicks go on;
- CRM sync failed: every campaign's pipeline reads 0 for the last 3 days;
- unit jump: `--broken` campaigns' spend ×100 from 7 days before the end;
- stopped converting (a REVIEW-class break; it is real, so it has no captured share): pipeline and clicks fade to
  a tenth over the last 3 weeks;
- missing days: `--broken` campaigns lose 3 days of rows.

Caught: the planted break found with its check and severity (FAIL-class: FAIL). False FAILs: FAIL findings about
campaigns where nothing was planted, per 100 such campaigns. Captured share: as benchmarks/engine_quality.py —
(true value of the proposed budgets − today's) / (oracle − today's), the oracle under the clean run's guardrail
bounds — for the clean data, the broken data read as real, and the broken data through the health gate (FAIL
campaigns not moved, a failed source's days left out of the fit), as decisions/generation/service.py does. The
last column scores the gated run against the oracle that may not move the held campaigns either: what the engine
captures of what it was allowed to do.

Goals: every planted FAIL-class break caught; ≤ 1 false FAIL per 100 clean campaigns; captured share with a break
within 5 points of the clean run (with the gate).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from benchmarks import engine_quality as eq
from decisions.engine import data_health as dh
from decisions.engine import proposing
from decisions.engine import simulator as sim
from decisions.engine.allocation import allocate_detailed
from decisions.engine.anomalies import detect_anomalies
from decisions.engine.curves import fit_curves
from decisions.engine.types import Bounds
from objectives import guardrails

DAYS = 90
TAG_DAYS, SYNC_DAYS, JUMP_DAYS, FADE_DAYS, MISSING = 10, 3, 7, 21, 3
GOAL_FALSE_FAILS = 1.0  # per 100 clean campaigns
GOAL_POINTS = 0.05


# --- the breaks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    name: str
    check: str
    severity: str
    source_wide: bool
    plant: Callable[[sim.SimHistory, list[int], np.random.Generator], sim.SimHistory]
    real: bool = False  # a real change in the world, not a measurement fault: no captured share


def _tag(history, rows, rng):
    # The tag counted the leads the pipeline came from: both read 0, as the anomaly test would then see them.
    pipeline, leads = history.pipeline_value.copy(), history.leads.copy()
    pipeline[rows, -TAG_DAYS:] = 0.0
    leads[rows, -TAG_DAYS:] = 0.0
    return replace(history, pipeline_value=pipeline, leads=leads)


def _sync(history, rows, rng):
    pipeline = history.pipeline_value.copy()
    pipeline[:, -SYNC_DAYS:] = 0.0
    return replace(history, pipeline_value=pipeline)


def _jump(history, rows, rng):
    spend = history.spend.copy()
    spend[rows, -JUMP_DAYS:] *= 100
    return replace(history, spend=spend)


def _fade(history, rows, rng):
    fade = np.linspace(1.0, 0.1, FADE_DAYS)
    pipeline, clicks = history.pipeline_value.copy(), history.clicks.astype(float).copy()
    pipeline[np.ix_(rows, range(DAYS - FADE_DAYS, DAYS))] *= fade
    clicks[np.ix_(rows, range(DAYS - FADE_DAYS, DAYS))] *= fade
    return replace(history, pipeline_value=pipeline, clicks=clicks)


def _missing(history, rows, rng):
    spend, pipeline = history.spend.astype(float).copy(), history.pipeline_value.copy()
    for i in rows:
        days = rng.choice(np.arange(10, DAYS - 1), size=MISSING, replace=False)
        spend[i, days] = np.nan
        pipeline[i, days] = np.nan
    return replace(history, spend=spend, pipeline_value=pipeline)


BREAKS = (
    Break("tracking tag broke", dh.TRACKING_BROKE, dh.FAIL, False, _tag),
    Break("CRM sync failed", dh.SOURCE_ZERO, dh.FAIL, True, _sync),
    Break("unit jump (spend ×100)", dh.UNIT_JUMP, dh.FAIL, False, _jump),
    Break("stopped converting", dh.STOPPED_CONVERTING, dh.REVIEW, False, _fade, real=True),
    Break("missing days", dh.MISSING_DAYS, dh.REVIEW, False, _missing),
)


# --- checking and the gated engine ----------------------------------------------------------------------------


def health_data(world: sim.World, history: sim.SimHistory) -> dh.HealthData:
    return dh.HealthData(
        campaign_ids=list(world.external_ids),
        names=[c.name for c in world.campaigns],
        dates=list(history.dates),
        spend=history.spend.astype(float),
        outcome=history.pipeline_value.astype(float),
        clicks=history.clicks.astype(float),
        active=np.ones(len(world.campaigns), dtype=bool),
        today=eq.TODAY,
    )


def engine_budgets(world, history, *, seed: int, findings: list[dh.Finding] | None) -> tuple[np.ndarray, Bounds]:
    """Today's budgets with every stored draft approved; `findings` = the health gate, None = no gate. The
    generation path of benchmarks/engine_quality.run_engine, with the gate where the service puts it."""
    rules = eq.starter_rules(world)
    spend = history.spend.astype(float)
    value = history.pipeline_value.astype(float).copy()
    held: set[int] = set()
    if findings is not None:
        since = dh.excluded_from(findings, "pipeline_value")
        if since is not None:
            value[:, [j for j, d in enumerate(history.dates) if d >= since]] = np.nan
        failing = dh.held_campaigns(findings)
        held = {i for i, e in enumerate(world.external_ids) if e in failing}
    fits = fit_curves(spend, value, n_draws=eq.N_DRAWS, seed=seed)
    anomalies = {a.index: a for a in detect_anomalies(spend, history.leads)}
    anomalies = {i: a for i, a in anomalies.items() if i not in held}
    facts = eq.campaign_facts(world, history)
    ids = world.external_ids
    eligible = np.array([guardrails.may_propose(facts[e], rules, today=eq.TODAY, severity=None)[0] for e in ids])
    fits = [f if eligible[i] and i not in anomalies and i not in held else None for i, f in enumerate(fits)]
    current = world.budgets
    recent = slice(-eq.RECENT_DAYS, None)
    views = eq._views(world, np.nan_to_num(spend[:, recent]), np.nan_to_num(value[:, recent]), history.platform_revenue)
    facts_list = [facts[e] for e in ids]
    bounds = proposing.guardrail_bounds(current, facts=facts_list, rules=rules, fits=fits, max_step_pct=eq.MAX_STEP_PCT)
    allocation = allocate_detailed(
        fits, current, bounds, min_move=eq.MIN_MOVE, min_move_pct=eq.MIN_MOVE_PCT, max_p_loss=eq.MAX_P_LOSS
    )
    common = {"current": current, "fits": fits, "views": views, "metric": eq.METRIC}
    drafts = [
        proposing.shift_draft(group, **common, marginal_level=allocation.marginal_level)
        for group in proposing.group_moves(current, allocation.budgets, min_move=eq.MIN_MOVE)
    ]
    drafts += eq._anomaly_drafts(anomalies, world=world, views=views, value=np.nan_to_num(value), eligible=eligible)
    held_ids = {ids[i] for i in held}
    stored = [
        d
        for d in drafts
        if not eq.block_failures(d, rules=rules, facts=facts) and not any(c["campaign"] in held_ids for c in d.changes)
    ]
    pinned = Bounds(lower=np.where(eligible, bounds.lower, current), upper=np.where(eligible, bounds.upper, current))
    return eq.applied(world, stored), pinned


def captured(world, budgets, oracle_value) -> float:
    now = sim.true_value(world, world.budgets)
    return (sim.true_value(world, budgets) - now) / (oracle_value - now) if oracle_value - now > 1e-9 else float("nan")


# --- one seed ----------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    planted: int = 0
    caught: int = 0
    false_fails: int = 0
    clean_campaigns: int = 0
    clean_share: list = None
    broken_share: list = None
    gated_share: list = None
    held_share: list = None  # gated, against the oracle that may not move the held campaigns either

    def __post_init__(self):
        self.clean_share, self.broken_share, self.gated_share, self.held_share = [], [], [], []


def run_seed(seed: int, n_campaigns: int, n_broken: int, tallies: dict[str, Tally], clean: Tally) -> None:
    world = sim.make_world(n_campaigns, seed)
    history = sim.simulate_history(world, days=DAYS, end_date=eq.END_DATE, spend_variation="high")
    clean_findings = dh.check_health(health_data(world, history))
    clean.clean_campaigns += n_campaigns
    clean.false_fails += len({f.campaign_id for f in clean_findings if f.severity == dh.FAIL and f.campaign_id})
    clean.false_fails += sum(1 for f in clean_findings if f.severity == dh.FAIL and not f.campaign_id)
    budgets, bounds = engine_budgets(world, history, seed=seed, findings=None)
    oracle = sim.true_value(
        world, sim.oracle_budgets(world, total=float(world.budgets.sum()), lower=bounds.lower, upper=bounds.upper)
    )
    clean_captured = captured(world, budgets, oracle)
    clean.clean_share.append(clean_captured)
    rng = np.random.default_rng([seed, 99])
    for kind in BREAKS:
        rows = sorted(rng.choice(n_campaigns, size=n_broken, replace=False).tolist())
        broken = kind.plant(history, rows, rng)
        findings = dh.check_health(health_data(world, broken))
        tally = tallies[kind.name]
        _score(tally, kind, findings, rows, world, n_campaigns)
        if kind.real:
            continue
        tally.clean_share.append(clean_captured)
        tally.broken_share.append(captured(world, engine_budgets(world, broken, seed=seed, findings=None)[0], oracle))
        gated = engine_budgets(world, broken, seed=seed, findings=findings)[0]
        tally.gated_share.append(captured(world, gated, oracle))
        held = np.array([e in dh.held_campaigns(findings) for e in world.external_ids])
        lower, upper = np.where(held, world.budgets, bounds.lower), np.where(held, world.budgets, bounds.upper)
        held_oracle = sim.true_value(
            world, sim.oracle_budgets(world, total=float(world.budgets.sum()), lower=lower, upper=upper)
        )
        tally.held_share.append(captured(world, gated, held_oracle))


def _score(tally: Tally, kind: Break, findings, rows, world, n_campaigns) -> None:
    ids = [world.external_ids[i] for i in rows]
    matching = [f for f in findings if f.check == kind.check and f.severity == kind.severity]
    if kind.source_wide:
        tally.planted += 1
        tally.caught += any(f.campaign_id is None for f in matching)
        planted_ids: set[str] = set(world.external_ids)  # every campaign carries the break
    else:
        tally.planted += len(ids)
        tally.caught += len({f.campaign_id for f in matching} & set(ids))
        planted_ids = set(ids)
    fails = {f.campaign_id for f in findings if f.severity == dh.FAIL and f.campaign_id}
    tally.false_fails += len(fails - planted_ids)
    tally.clean_campaigns += n_campaigns - len(planted_ids)


# --- tables ----------------------------------------------------------------------------------------------------


def _pct(values) -> str:
    return f"{np.nanmedian(values):.1%}" if values else "—"


def table(tallies: dict[str, Tally], clean: Tally) -> str:
    lines = [
        "| break | class | caught / planted | false FAILs per 100 clean campaigns | captured clean | with the break, "
        "no gate | with the break, gated | gated − clean (points) | gated, of what may move |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| none (clean data) | — | — | {100 * clean.false_fails / max(clean.clean_campaigns, 1):.2f} | "
        f"{_pct(clean.clean_share)} | — | — | — | — |",
    ]
    for kind in BREAKS:
        t = tallies[kind.name]
        gap = f"{100 * (np.nanmedian(t.gated_share) - np.nanmedian(t.clean_share)):+.1f}" if t.gated_share else "—"
        lines.append(
            f"| {kind.name} | {kind.severity} | {t.caught}/{t.planted} | "
            f"{100 * t.false_fails / max(t.clean_campaigns, 1):.2f} | {_pct(t.clean_share)} | {_pct(t.broken_share)} | "
            f"{_pct(t.gated_share)} | {gap} | {_pct(t.held_share)} |"
        )
    return "\n".join(lines)


def goals(tallies: dict[str, Tally], clean: Tally) -> list[tuple[str, bool]]:
    fail_class = [k for k in BREAKS if k.severity == dh.FAIL]
    caught = all(tallies[k.name].caught == tallies[k.name].planted for k in fail_class)
    false = clean.false_fails + sum(t.false_fails for t in tallies.values())
    campaigns = clean.clean_campaigns + sum(t.clean_campaigns for t in tallies.values())
    rate = 100 * false / max(campaigns, 1)
    gaps = {
        k.name: np.nanmedian(tallies[k.name].gated_share) - np.nanmedian(tallies[k.name].clean_share)
        for k in BREAKS
        if tallies[k.name].gated_share
    }
    worst = min(gaps, key=gaps.get)
    return [
        ("every planted FAIL-class break caught", caught),
        (f"≤ {GOAL_FALSE_FAILS:g} false FAIL per 100 clean campaigns ({rate:.2f})", rate <= GOAL_FALSE_FAILS),
        (
            f"captured share with a break (gated) within {100 * GOAL_POINTS:.0f} points of clean "
            f"(worst: {worst}, {100 * gaps[worst]:+.1f})",
            all(g >= -GOAL_POINTS for g in gaps.values()),
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--campaigns", type=int, default=40)
    parser.add_argument("--broken", type=int, default=3, help="campaigns each campaign-level break is planted on")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tallies, clean = {k.name: Tally() for k in BREAKS}, Tally()
    for seed in range(1, args.seeds + 1):
        run_seed(seed, args.campaigns, args.broken, tallies, clean)
    print(
        f"Data health fault injection: {args.seeds} seeds × {args.campaigns} campaigns, {DAYS} days, "
        f"each campaign-level break on {args.broken} campaigns; captured shares are medians over seeds\n"
    )
    print(table(tallies, clean))
    print()
    for name, met in goals(tallies, clean):
        print(f"{'met' if met else 'NOT met'}: {name}")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
