"""Speed of the proposal engine's math: fit every campaign's curve, then allocate the budget.

    .venv/bin/python benchmarks/engine_speed.py [--campaigns 100 1000 5000] [--days 365] [--baseline 100]

Prints one row per size (fit s, allocate s, peak MB of traced allocations),
the same with the fit split over two worker processes (as the Celery chord
splits it over two workers; peak MB = the larger worker's peak RSS), then a
naive baseline on a small size: scipy's curve_fit per campaign plus SLSQP
over all budgets, the approach the engine's vectorised fit and
bisection replace. The goal: 1,000 campaigns × 365 days in ≤ 10 s on one
worker, cost linear in campaigns.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
import tracemalloc
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit, minimize
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from decisions.engine import simulator as sim  # noqa: E402
from decisions.engine.allocation import allocate, bounds_from_limits  # noqa: E402
from decisions.engine.curves import fit_curves  # noqa: E402
from decisions.engine.types import hill_value  # noqa: E402


def _data(n: int, days: int):
    world = sim.make_world(n, seed=1)
    history = sim.simulate_history(world, days=days, seed=2)
    return world, history


def _run(world, history) -> tuple[np.ndarray, float, float]:
    current = world.budgets
    start = time.perf_counter()
    fits = fit_curves(history.spend, history.pipeline_value)
    fitted = time.perf_counter()
    curves = [f.curve if f else None for f in fits]
    bounds = bounds_from_limits(current, max_change_pct=30, seen_max=history.spend.max(axis=1))
    budgets = allocate(curves, current, bounds)
    return budgets, fitted - start, time.perf_counter() - fitted


def _engine(n: int, days: int) -> dict:
    world, history = _data(n, days)
    budgets, fit_s, allocate_s = _run(world, history)
    # Memory in a second run: tracing every allocation slows the first one down ~2x.
    tracemalloc.start()
    _run(world, history)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    uplift = sim.true_value(world, budgets) / sim.true_value(world, world.budgets) - 1
    return {"fit": fit_s, "allocate": allocate_s, "peak_mb": peak / 2**20, "uplift": uplift}


def _fit_half(args):
    spend, value = args
    # One BLAS thread per worker: two workers on two cores, as a Celery deployment would run them.
    with threadpool_limits(1):
        fits = fit_curves(spend, value)
    return fits, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _two_workers(n: int, days: int) -> dict:
    world, history = _data(n, days)
    half = n // 2
    parts = [
        (history.spend[:half], history.pipeline_value[:half]),
        (history.spend[half:], history.pipeline_value[half:]),
    ]
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("fork")) as pool:
        pool.submit(int, 0).result()  # start both workers before the clock does
        start = time.perf_counter()
        results = list(pool.map(_fit_half, parts))
        fitted = time.perf_counter()
    fits = results[0][0] + results[1][0]
    curves = [f.curve if f else None for f in fits]
    bounds = bounds_from_limits(world.budgets, max_change_pct=30, seen_max=history.spend.max(axis=1))
    allocate(curves, world.budgets, bounds)
    return {"fit": fitted - start, "allocate": time.perf_counter() - fitted, "peak_mb": max(r[1] for r in results)}


def _hill(s, c, k, n):
    return hill_value(s, c, k, n)


def _baseline(n: int, days: int) -> dict:
    world, history = _data(n, days)
    current = world.budgets
    start = time.perf_counter()
    params = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s, y in zip(history.spend, history.pipeline_value, strict=True):
            p0 = (2 * y.mean(), np.median(s), 1.0)
            try:
                p, _ = curve_fit(_hill, s, y, p0=p0, bounds=([0, 1e-6, 0.3], [np.inf, np.inf, 4]), maxfev=5000)
            except RuntimeError:
                p = p0
            params.append(p)
    fitted = time.perf_counter()
    c, k, shape = (np.array(col) for col in zip(*params, strict=True))
    bounds = bounds_from_limits(current, max_change_pct=30, seen_max=history.spend.max(axis=1))
    minimize(
        lambda x: -hill_value(x, c, k, shape).sum(),
        current,
        method="SLSQP",
        bounds=list(zip(bounds.lower, bounds.upper, strict=True)),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - current.sum()}],
        options={"maxiter": 500},
    )
    allocated = time.perf_counter()
    return {"fit": fitted - start, "allocate": allocated - fitted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--baseline", type=int, default=100, help="campaigns for the naive baseline (0 = skip)")
    args = parser.parse_args()

    print(f"{'method':<22}{'campaigns':>10}{'days':>6}{'fit s':>9}{'alloc s':>9}{'total s':>9}{'peak MB':>9}")
    ours = {}
    for n in args.campaigns:
        row = _engine(n, args.days)
        ours[n] = row
        total = row["fit"] + row["allocate"]
        print(
            f"{'engine':<22}{n:>10}{args.days:>6}{row['fit']:>9.2f}{row['allocate']:>9.3f}{total:>9.2f}"
            f"{row['peak_mb']:>9.0f}"
        )
    for n in args.campaigns:
        row = _two_workers(n, args.days)
        total = row["fit"] + row["allocate"]
        print(
            f"{'engine, 2 workers':<22}{n:>10}{args.days:>6}{row['fit']:>9.2f}{row['allocate']:>9.3f}{total:>9.2f}"
            f"{row['peak_mb']:>9.0f}"
        )
    if args.baseline:
        n = args.baseline
        base = _baseline(n, args.days)
        total = base["fit"] + base["allocate"]
        print(f"{'curve_fit + SLSQP':<22}{n:>10}{args.days:>6}{base['fit']:>9.2f}{base['allocate']:>9.3f}{total:>9.2f}")
        mine = ours.get(n) or _engine(n, args.days)
        print(f"\nspeed-up over the naive baseline at {n} campaigns: {total / (mine['fit'] + mine['allocate']):.1f}x")
    largest = max(ours)
    per_campaign = {n: (r["fit"] + r["allocate"]) / n * 1000 for n, r in ours.items()}
    print("ms per campaign: " + ", ".join(f"{n}: {v:.2f}" for n, v in per_campaign.items()))
    print(f"true uplift of the allocation at {largest} campaigns: {ours[largest]['uplift']:+.1%}")


if __name__ == "__main__":
    main()
