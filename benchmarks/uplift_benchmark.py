"""Next-best action, measured: the value of the engine's audience policy on simulated e-mail tests whose
per-customer effects are known, against sending everyone the best single action and against the oracle.

    .venv/bin/python -m benchmarks.uplift_benchmark [--sizes 40000 120000] [--seeds 3] [--shuffled-seeds 10]

The simulator (decisions/engine/uplift_simulator.py): four arms (no e-mail = control, a men's e-mail, a women's
e-mail, a 20% discount), purchase chances by attributes, effects that differ by audience and some that hurt.
Each test is analysed by decisions/engine/uplift.py as production does; the policy it implies is then valued on
a fresh population of 200,000 customers with the simulator's true expected revenue per customer.

Policies, as incremental revenue per customer over sending nothing, and as a share of the oracle's:

- oracle: each customer gets their truly best action (or nothing);
- best rules, knowing the truth: the best depth-2 audience rules grown on the true effects (what rules this
  shallow can reach at all);
- engine, confident audiences: the proposals Waypoint would make: an audience gets its action only when the gain
  is confident, else nothing changes;
- engine, every audience: each audience its best-looking action, confident or not;
- best single action: everyone gets the one action that is best on average;
- baseline: a per-customer policy from causalml's X-learner when causalml is installed (it is not in
  requirements.txt), else a plain T-learner (the engine's outcome models on all customers, each customer the
  action with the highest predicted uplift when positive).

Negative control: the arms are shuffled among customers (no action does anything); a run counts the confident
claims it makes (gains and "stop sending" losses). Goal: 0.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from decisions.engine import uplift
from decisions.engine import uplift_simulator as sim

POPULATION = 200_000


def _value(assigned: np.ndarray, truth: np.ndarray) -> float:
    """Mean true uplift of giving each customer `assigned` (index into sim.ACTIONS, −1 = nothing)."""
    chosen = np.where(assigned >= 0, truth[np.arange(len(truth)), np.maximum(assigned, 0)], 0.0)
    return float(chosen.mean())


def engine_assignment(analysis: uplift.Analysis, customers: sim.Customers, *, confident_only: bool) -> np.ndarray:
    by_name = {a.name: a for a in customers.attributes()}
    size = len(customers.age)
    assigned = np.full(size, -1)
    for audience in analysis.audiences:
        action = uplift.policy_action(analysis, audience) if confident_only else audience.best_action
        if action != analysis.control:
            assigned[uplift.segment_mask(audience.segment, by_name, size)] = sim.ACTIONS.index(action)
    return assigned


def truth_rules_assignment(customers: sim.Customers, truth: np.ndarray) -> np.ndarray:
    attributes = customers.attributes()
    scores = np.column_stack([np.zeros(len(truth)), truth])
    grower = uplift._TreeGrower(
        [np.asarray(a.values, dtype=float if a.numeric else str) for a in attributes],
        [a.numeric for a in attributes],
        scores,
        min_leaf=len(truth) // 20,
    )
    root = uplift._merge_same_action(grower.grow(np.arange(len(truth)), 2))
    universes = [sorted(set(np.asarray(a.values, dtype=str).tolist())) for a in attributes]
    assigned = np.full(len(truth), -1)
    by_name = {a.name: a for a in attributes}
    for segment, action in uplift._leaf_segments(root, list(attributes), universes, {}):
        assigned[uplift.segment_mask(segment, by_name, len(truth))] = action - 1
    return assigned


def _features(customers: sim.Customers) -> tuple[np.ndarray, np.ndarray]:
    return uplift.feature_matrix(customers.attributes())


def t_learner_assignment(simulated: sim.SimulatedTrial, population: sim.Customers) -> np.ndarray:
    trial = simulated.trial
    arm_names = [trial.control, *sim.ACTIONS]
    arm_index = np.array([arm_names.index(a) for a in trial.arms])
    features, categorical = _features(simulated.customers)
    target, _ = _features(population)
    predicted = uplift.fit_and_predict(features, categorical, arm_index, trial.outcome, len(arm_names), target, seed=0)
    gains = predicted[:, 1:] - predicted[:, [0]]
    return np.where(gains.max(axis=1) > 0, gains.argmax(axis=1), -1)


def causalml_assignment(simulated: sim.SimulatedTrial, population: sim.Customers) -> np.ndarray | None:
    try:
        from causalml.inference.meta import BaseXRegressor
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:
        return None
    trial = simulated.trial
    features, _ = _features(simulated.customers)
    target, _ = _features(population)
    learner = BaseXRegressor(
        learner=HistGradientBoostingRegressor(max_iter=150, learning_rate=0.05), control_name=trial.control
    )
    learner.fit(X=features, treatment=trial.arms, y=trial.outcome)
    effects = learner.predict(X=target)  # customers × actions, in the learner's order of treatment groups
    order = [sim.ACTIONS.index(name) for name in learner.t_groups]
    gains = np.full((len(target), len(sim.ACTIONS)), -np.inf)
    gains[:, order] = effects
    return np.where(gains.max(axis=1) > 0, gains.argmax(axis=1), -1)


def claims(analysis: uplift.Analysis) -> tuple[int, int]:
    """(confident gains, confident losses) the analysis claims."""
    uplifts = [u for a in analysis.audiences for u in a.uplifts]
    return sum(u.confident_gain for u in uplifts), sum(u.confident_loss for u in uplifts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40_000, 120_000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shuffled-seeds", type=int, default=10)
    parser.add_argument("--negative-control-only", action="store_true")
    args = parser.parse_args()
    if not args.negative_control_only:
        policy_values(args)
    negative_control(args)


def policy_values(args) -> None:
    population = sim.make_customers(POPULATION, np.random.default_rng(10_000))
    truth = sim.true_uplift(population)
    oracle = float(np.maximum(truth.max(axis=1), 0).mean())
    rules = _value(truth_rules_assignment(population, truth), truth)
    single = max(float(truth.mean(axis=0).max()), 0.0)
    print(f"population {POPULATION:,}: oracle ${oracle:.2f} per customer\n")
    print("| customers | policy | $ per customer | share of oracle | seconds |")
    print("|---:|---|---:|---:|---:|")
    print(f"| — | oracle | {oracle:.2f} | 100.0% | — |")
    print(f"| — | best depth-2 rules, knowing the truth | {rules:.2f} | {rules / oracle:.1%} | — |")
    print(f"| — | best single action | {single:.2f} | {single / oracle:.1%} | — |")
    for size in args.sizes:
        rows: dict[str, list[float]] = {}
        seconds = []
        baseline_name = ""
        for seed in range(args.seeds):
            simulated = sim.make_trial(size, seed=seed)
            started = time.perf_counter()
            analysis = uplift.analyse(simulated.trial, uplift.Settings(seed=seed, max_customers=size))
            seconds.append(time.perf_counter() - started)
            rows.setdefault("engine, confident audiences", []).append(
                _value(engine_assignment(analysis, population, confident_only=True), truth)
            )
            rows.setdefault("engine, every audience", []).append(
                _value(engine_assignment(analysis, population, confident_only=False), truth)
            )
            baseline = causalml_assignment(simulated, population)
            baseline_name = "baseline: causalml X-learner, per customer"
            if baseline is None:
                baseline = t_learner_assignment(simulated, population)
                baseline_name = "baseline: plain T-learner, per customer"
            rows.setdefault(baseline_name, []).append(_value(baseline, truth))
        for name, values in rows.items():
            mean = float(np.mean(values))
            took = f"{np.mean(seconds):.1f}" if name.startswith("engine, confident") else "—"
            print(f"| {size:,} | {name} (mean of {args.seeds} seeds) | {mean:.2f} | {mean / oracle:.1%} | {took} |")


def negative_control(args) -> None:
    print("\nNegative control: arms shuffled (no action does anything)\n")
    print("| customers | runs | confident gains | confident losses | runs with any | intervals straddling zero |")
    print("|---:|---:|---:|---:|---:|---:|")
    size = args.sizes[0]
    gains, losses, runs_with, straddling, intervals = 0, 0, 0, 0, 0
    for seed in range(args.shuffled_seeds):
        simulated = sim.make_trial(size, seed=100 + seed, shuffle_arms=True)
        analysis = uplift.analyse(simulated.trial, uplift.Settings(seed=seed, max_customers=size))
        gained, lost = claims(analysis)
        gains, losses = gains + gained, losses + lost
        runs_with += (gained + lost) > 0
        for audience in analysis.audiences:
            for u in audience.uplifts:
                intervals += 1
                straddling += u.low < 0 < u.high
    print(
        f"| {size:,} | {args.shuffled_seeds} | {gains} | {losses} | {runs_with} | "
        f"{straddling}/{intervals} ({straddling / max(intervals, 1):.0%}) |"
    )


if __name__ == "__main__":
    main()
