"""The channel mix model against a simulator's known truth, beside a naive baseline and (optionally) PyMC-Marketing.

    .venv/bin/python -m benchmarks.mix_benchmark [--seeds 20] [--pymc /tmp/wp/pymc-venv/bin/python --pymc-seeds 5]

Worlds (decisions/engine/mix_simulator.py): 6 channels, spend that follows demand
(confounded), a noisy demand index and two irrelevant controls as controls, one or
two weak channels, 6% noise; rows for 104 weeks, 104 weeks with two channels
whose spend moves together, 52 weeks, and 365 days. Per row, over the seeds:

- rank: Spearman correlation of the estimated ROAS with the true ROAS (mean);
- coverage: share of channels whose true ROAS lies in the 80% interval (and the
  same for the marginal ROAS at the recent spend);
- captured: the true gain of the proposed budget-neutral moves (each channel
  within ±30%) as a share of the oracle's gain under the same caps (median);
- fit: seconds per fit (median), for Waypoint's model;
- naive: the platform-reported ROAS (biased towards demand-harvesting channels)
  ranked, and budgets moved towards it under the same caps.

With --pymc, the interpreter of a virtualenv holding pymc-marketing fits the
same worlds (saved to .npz files) with benchmarks/mix_pymc.py, first seeds of
the 104-week row only (each fit takes a minute).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from decisions.engine.mix import fit_mix
from decisions.engine.mix_allocation import allocate, plan_shifts
from decisions.engine.mix_simulator import simulate_mix

CAP = 30.0
ROWS = [
    ("104 weeks", {"periods": 104, "period_days": 7}),
    ("104 weeks, two channels together", {"periods": 104, "period_days": 7, "collinear_pair": True}),
    ("52 weeks", {"periods": 52, "period_days": 7}),
    ("365 days", {"periods": 365, "period_days": 1}),
]


def score_world(world) -> dict:
    started = time.perf_counter()
    fit = fit_mix(
        world.spend,
        world.outcome,
        world.channels,
        controls=world.controls,
        control_names=world.control_names,
        period_days=world.period_days,
    )
    seconds = time.perf_counter() - started
    est = np.array([c.roas.mean for c in fit.channels])
    low = np.array([c.roas.low for c in fit.channels])
    high = np.array([c.roas.high for c in fit.channels])
    current = np.array([c.current_spend for c in fit.channels])
    true_marginal = world.true_marginal(current)
    m_low = np.array([c.marginal_roas.low for c in fit.channels])
    m_high = np.array([c.marginal_roas.high for c in fit.channels])

    plan = plan_shifts(fit.channels, current, max_change_pct=CAP)
    oracle = allocate(
        lambda c, s: world.true_beta[c] * s / (s + world.true_half_saturation[c]), current, max_change_pct=CAP
    )
    naive = allocate(lambda c, s: world.platform_roas[c] * s, current, max_change_pct=CAP)
    today = world.true_value(current).sum()
    oracle_gain = world.true_value(oracle).sum() - today
    return {
        "rank": spearmanr(est, world.true_roas)[0],
        "coverage": list((world.true_roas >= low) & (world.true_roas <= high)),
        "marginal_coverage": list((true_marginal >= m_low) & (true_marginal <= m_high)),
        "captured": (world.true_value(plan.proposed).sum() - today) / oracle_gain,
        "naive_rank": spearmanr(world.platform_roas, world.true_roas)[0],
        "naive_captured": (world.true_value(naive).sum() - today) / oracle_gain,
        "seconds": seconds,
        "warned": sum(bool(c.warnings) for c in fit.channels),
    }


def pymc_world(python: str, world, workdir: Path, seed: int) -> dict:
    data = workdir / f"world-{seed}.npz"
    out = workdir / f"pymc-{seed}.json"
    np.savez(
        data,
        spend=world.spend,
        outcome=world.outcome,
        controls=world.controls,
        channels=np.array(world.channels),
        period_days=world.period_days,
    )
    script = Path(__file__).with_name("mix_pymc.py")
    subprocess.run([python, str(script), str(data), str(out)], check=True, capture_output=True)
    result = json.loads(out.read_text())
    est = np.array([r["mean"] for r in result["roas"]])
    low = np.array([r["low"] for r in result["roas"]])
    high = np.array([r["high"] for r in result["roas"]])
    return {
        "rank": spearmanr(est, world.true_roas)[0],
        "coverage": list((world.true_roas >= low) & (world.true_roas <= high)),
        "seconds": result["seconds"],
        "sampler": result["sampler"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--pymc", help="python of a virtualenv with pymc-marketing installed")
    parser.add_argument("--pymc-seeds", type=int, default=5)
    args = parser.parse_args()

    print(
        "| data | method | ROAS rank corr. | ROAS 80% coverage | marginal ROAS 80% coverage | median captured "
        "| worst decile captured | fit s (median) | channels warned |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, kwargs in ROWS:
        scores = [score_world(simulate_mix(seed=seed, **kwargs)) for seed in range(args.seeds)]
        captured = np.array([s["captured"] for s in scores])
        naive = np.array([s["naive_captured"] for s in scores])
        cov = np.mean([x for s in scores for x in s["coverage"]])
        mcov = np.mean([x for s in scores for x in s["marginal_coverage"]])
        warned = sum(s["warned"] for s in scores)
        print(
            f"| {label} | Waypoint | {np.mean([s['rank'] for s in scores]):.2f} | {cov:.1%} | {mcov:.1%} "
            f"| {np.median(captured):.1%} | {np.quantile(captured, 0.1):.1%} "
            f"| {np.median([s['seconds'] for s in scores]):.2f} | {warned}/{len(scores) * 6} |"
        )
        print(
            f"| {label} | naive: platform ROAS | {np.mean([s['naive_rank'] for s in scores]):.2f} | — | — "
            f"| {np.median(naive):.1%} | {np.quantile(naive, 0.1):.1%} | — | — |"
        )
        if args.pymc and label == "104 weeks":
            with tempfile.TemporaryDirectory() as tmp:
                runs = [
                    pymc_world(args.pymc, simulate_mix(seed=seed, **kwargs), Path(tmp), seed)
                    for seed in range(args.pymc_seeds)
                ]
            ours = scores[: args.pymc_seeds]
            cov = np.mean([x for r in runs for x in r["coverage"]])
            our_cov = np.mean([x for s in ours for x in s["coverage"]])
            print(
                f"| {label}, seeds 0–{args.pymc_seeds - 1} | PyMC-Marketing ({runs[0]['sampler']}) "
                f"| {np.mean([r['rank'] for r in runs]):.2f} | {cov:.1%} | — | — | — "
                f"| {np.median([r['seconds'] for r in runs]):.1f} | — |"
            )
            print(
                f"| {label}, seeds 0–{args.pymc_seeds - 1} | Waypoint, same seeds "
                f"| {np.mean([s['rank'] for s in ours]):.2f} | {our_cov:.1%} | — "
                f"| {np.median([s['captured'] for s in ours]):.1%} | — "
                f"| {np.median([s['seconds'] for s in ours]):.2f} | — |"
            )


if __name__ == "__main__":
    main()
