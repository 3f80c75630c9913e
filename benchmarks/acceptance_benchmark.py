"""Learning from overrides, measured: simulated reviewers with known habits decide simulated proposals.

    .venv/bin/python -m benchmarks.acceptance_benchmark [--decisions 2000] [--seed 0]

Four reviewers (one strict, one lenient) decide proposals on five channels.
Their habits, which the learning has to find:

- moves over 25% on brand search are rejected (90% of the time);
- budget shifts into display are approved with the step cut to about half (85%);
- budget cuts on search are approved at about 70% of the cut (80%);
- small (< 10%), low-risk (P(loss) < 0.2) moves are nearly always approved;
- otherwise acceptance falls with P(loss), guardrail warnings and step size;
- and 5% of decisions are flipped at random (noise).

The acceptance model (decisions/engine/acceptance.py, the production code)
trains on the oldest 75% of decisions and is measured on the newest 25%,
scored as proposals are scored (reviewer unknown). Beside it: a baseline
that ranks by 1 − P(loss) alone, and the oracle, the simulation's own true
probabilities (the best any model could do with this much noise).

Four tables: held-out AUC and Brier; reliability (predicted vs observed
acceptance per band); recovered step factors against the true habits; and
adaptation: how often display shifts are edited before and after the engine
proposes with the recovered factor, for reviewers whose comfortable step is
half the engine's.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from decisions.engine import acceptance

CHANNELS = ("brand_search", "search", "display", "social", "video")
KINDS = (("budget_shift", 0.6), ("budget_change", 0.3), ("pause", 0.1))
REVIEWERS = {"ana": 0.0, "ben": -0.8, "cy": 0.6, "dee": 0.0}  # logit bias: ben is strict, cy lenient
NOISE = 0.05
EDIT_JITTER = 0.05
# Habit: (kind, channel) → (share of the step kept when editing, chance of editing).
SHRINK_HABITS = {("budget_shift", "display"): (0.5, 0.85), ("budget_change", "search"): (0.7, 0.8)}
# Occasional small trims nobody does consistently: no step factor should come of them.
TRIM = (0.85, 0.1)
ADAPTATION_TOLERANCE = 0.2  # reviewers leave a step alone within 20% of their comfortable size


@dataclass(frozen=True)
class Simulated:
    decision: acceptance.Decision
    true_p: float  # the simulation's own probability of acceptance


@dataclass
class Result:
    n_train: int
    n_test: int
    auc: float | None
    brier: float | None
    auc_with_reviewer: float | None
    baseline_auc: float
    baseline_brier: float
    oracle_auc: float
    oracle_brier: float
    base_rate: float
    reliability: list[acceptance.ReliabilityBin]
    steps: list[tuple[str, float, float | None, int]]  # key, true factor, recovered factor, edits
    adaptation: tuple[float, float, float]  # factor used, edit share before, edit share after


def _proposal(rng: np.random.Generator) -> tuple[str, str, float, float, int]:
    kind = rng.choice([k for k, _ in KINDS], p=[p for _, p in KINDS])
    channel = str(rng.choice(CHANNELS))
    if kind == "budget_shift":
        pct = float(rng.uniform(4, 60))
    elif kind == "budget_change":
        pct = -float(rng.uniform(10, 50))
    else:
        pct = -100.0
    p_loss = float(rng.beta(2, 6))
    warnings = int(rng.poisson(0.3))
    return str(kind), channel, pct, p_loss, warnings


def _true_accept(kind: str, channel: str, pct: float, p_loss: float, warnings: int, bias: float) -> float:
    size = abs(pct)
    if channel == "brand_search" and size > 25:
        p = 0.1
    elif size < 10 and p_loss < 0.2:
        p = 0.95
    else:
        z = 2.2 + bias - 7.0 * p_loss - 1.0 * warnings - 2.0 * size / 100 - (0.8 if kind == "pause" else 0.0)
        p = 1 / (1 + math.exp(-z))
    return NOISE + (1 - 2 * NOISE) * p  # a random flip turns p into this


def _kept(kind: str, channel: str, rng: np.random.Generator) -> tuple[bool, float]:
    share, chance = SHRINK_HABITS.get((kind, channel), TRIM)
    if rng.random() < chance:
        return True, float(np.clip(share + rng.normal(0, EDIT_JITTER), 0.05, 1.0))
    return False, 1.0


def simulate(n: int, *, seed: int = 0) -> list[Simulated]:
    rng = np.random.default_rng(seed)
    names = list(REVIEWERS)
    rows = []
    for step in range(n):
        kind, channel, pct, p_loss, warnings = _proposal(rng)
        reviewer = names[int(rng.integers(len(names)))]
        p = _true_accept(kind, channel, pct, p_loss, warnings, REVIEWERS[reviewer])
        accepted = bool(rng.random() < p)
        edited, kept = _kept(kind, channel, rng) if accepted else (False, 1.0)
        has_step = kind != "pause"
        decision = acceptance.Decision(
            features=acceptance.features(kind, channel, pct, p_loss, warnings, 0, reviewer=reviewer),
            accepted=accepted,
            at=step,
            kind=kind,
            channel=channel,
            edited=edited and has_step,
            ratio=kept if accepted and has_step else None,
        )
        rows.append(Simulated(decision, p))
    return rows


def _true_factor(key: str) -> float:
    kind, channel = key.split("|")
    share, chance = SHRINK_HABITS.get((kind, channel), (1.0, 0.0))
    return share if chance > 0.5 else 1.0


def adaptation(factor: float, *, n: int = 400, seed: int = 1) -> tuple[float, float]:
    """Share of display shifts edited when the engine proposes its full step, and when it proposes `factor` of it.

    The simulated reviewers' comfortable step is half the engine's; they edit
    whenever the proposal is off by more than ADAPTATION_TOLERANCE of it.
    """
    rng = np.random.default_rng(seed)
    comfortable = np.clip(0.5 + rng.normal(0, EDIT_JITTER, n), 0.05, 1.0)

    def edited(proposed: float) -> float:
        return float(np.mean(np.abs(proposed - comfortable) > ADAPTATION_TOLERANCE * comfortable))

    return edited(1.0), edited(factor)


def run(n: int = 2000, *, seed: int = 0) -> Result:
    rows = simulate(n, seed=seed)
    decisions = [r.decision for r in rows]
    fitted = acceptance.fit(decisions)
    evaluation = fitted.evaluation
    test = rows[evaluation.n_train :]
    labels = np.array([int(r.decision.accepted) for r in test])
    baseline = np.array([1 - r.decision.features["p_loss"] for r in test])
    oracle = np.array([r.true_p for r in test])
    cells = {c.key: c for c in acceptance.step_cells(decisions)}
    steps = [(key, _true_factor(key), cells[key].factor, cells[key].n_edits) for key in sorted(cells)]
    display = cells.get(acceptance.step_key("budget_shift", "display"))
    factor = display.factor if display and display.factor else 1.0
    before, after = adaptation(factor, seed=seed + 1)
    return Result(
        n_train=evaluation.n_train,
        n_test=evaluation.n_test,
        auc=evaluation.auc,
        brier=evaluation.brier,
        auc_with_reviewer=evaluation.auc_with_reviewer,
        baseline_auc=float(roc_auc_score(labels, baseline)),
        baseline_brier=float(brier_score_loss(labels, baseline)),
        oracle_auc=float(roc_auc_score(labels, oracle)),
        oracle_brier=float(brier_score_loss(labels, oracle)),
        base_rate=evaluation.base_rate,
        reliability=evaluation.reliability,
        steps=steps,
        adaptation=(factor, before, after),
    )


def _f(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def report(result: Result) -> str:
    lines = [
        f"Held-out decisions: trained on the oldest {result.n_train}, measured on the newest {result.n_test} "
        f"(accepted: {result.base_rate:.0%})",
        "",
        f"{'ranking':<34} {'AUC':>6} {'Brier':>7}",
        f"{'acceptance model (as shown)':<34} {_f(result.auc):>6} {_f(result.brier):>7}",
        f"{'acceptance model, reviewer known':<34} {_f(result.auc_with_reviewer):>6} {'':>7}",
        f"{'baseline: 1 − P(loss)':<34} {_f(result.baseline_auc):>6} {_f(result.baseline_brier):>7}",
        f"{'oracle: true probabilities':<34} {_f(result.oracle_auc):>6} {_f(result.oracle_brier):>7}",
        "",
        "Reliability (held out)",
        f"{'P(accept) band':<16} {'n':>5} {'predicted':>10} {'observed':>9}",
    ]
    for b in result.reliability:
        lines.append(f"{f'{b.low:.1f}–{b.high:.1f}':<16} {b.n:>5} {_f(b.predicted, 2):>10} {_f(b.observed, 2):>9}")
    lines += ["", "Step factors (kind|channel)", f"{'cell':<28} {'true':>5} {'learned':>8} {'edits':>6}"]
    for key, true, learned, edits in result.steps:
        lines.append(f"{key:<28} {true:>5.2f} {_f(learned, 2) if learned else '1.00':>8} {edits:>6}")
    factor, before, after = result.adaptation
    lines += [
        "",
        "Adaptation: display budget shifts edited by reviewers",
        f"{'engine proposes':<34} {'edited':>7}",
        f"{'its full step':<34} {before:>7.0%}",
        f"{f'{factor:.2f} × its step (learned)':<34} {after:>7.0%}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(report(run(args.decisions, seed=args.seed)))


if __name__ == "__main__":
    main()
