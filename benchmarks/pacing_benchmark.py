"""Monthly pacing, measured: month-end spend against the monthly budget on simulated months, with and without
the engine's pacing proposals approved as they come.

    .venv/bin/python -m benchmarks.pacing_benchmark [--scopes 400] [--seed 0]

Each simulated scope (1–4 campaigns) has a monthly budget and daily budgets that were set roughly: at 75–130%
of what would spend the amount. Each campaign spends its budget times a delivery share (80–102%, platforms
under- and over-deliver), with day-to-day noise (lognormal, sd 15%); a quarter of them are demand-limited,
able to spend only 55–90% of their budget whatever it is. The engine sees what it would see in production:
the days so far (spend and budget) and 60 days of history before the month, from which
decisions/engine/utilization.py says which campaigns are demand-limited.

Every day from the 2nd, the production pacing code (decisions/engine/pacing.py) reads the month so far; when
the scope is off pace (pace or projection outside the band) it proposes new budgets (moves under the engine's
minimum move, $5 or 3%, are not proposed), approved at once and in force from the next day. A row per policy:
no pacing proposals, the default band (90–110%), a tighter band, and the default band under a 30% largest-move
guardrail. Figures: month-end spend error |spend / amount − 1| (mean, 90th percentile, worst), the share of
scopes within 3% and within the band, and proposals per scope.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass

import numpy as np

from decisions.engine import pacing
from decisions.engine.utilization import measure

MONTH = dt.date(2026, 11, 1)  # 30 days
HISTORY_DAYS = 60
DAILY_NOISE = 0.15
MIN_MOVE, MIN_MOVE_PCT = 5.0, 0.03
GOAL = 0.03


@dataclass
class Campaign:
    budget: float
    delivery: float  # share of its budget it spends when demand does not bind
    ceiling: float | None  # spend/day demand allows; None: the budget binds


@dataclass
class Scope:
    amount: float
    campaigns: list[Campaign]
    may_raise: list[bool]  # the engine's reading of the history: not demand-limited


def day_spend(rng, campaign: Campaign, budget: float) -> float:
    wanted = budget * campaign.delivery * rng.lognormal(-(DAILY_NOISE**2) / 2, DAILY_NOISE)
    if campaign.ceiling is not None:
        wanted = min(wanted, campaign.ceiling * rng.lognormal(-(DAILY_NOISE**2) / 2, DAILY_NOISE))
    return float(min(wanted, 2 * budget))  # platforms cap a day at twice the budget


def make_scope(rng) -> Scope:
    n = int(rng.integers(1, 5))
    campaigns = []
    for _ in range(n):
        budget = float(np.round(np.exp(rng.uniform(np.log(40), np.log(600)))))
        limited = rng.random() < 0.25
        ceiling = budget * rng.uniform(0.55, 0.9) if limited else None
        campaigns.append(Campaign(budget=budget, delivery=float(rng.uniform(0.80, 1.02)), ceiling=ceiling))
    may_raise = []
    for c in campaigns:
        history = np.array([day_spend(rng, c, c.budget) for _ in range(HISTORY_DAYS)])
        u = measure(history, np.full(HISTORY_DAYS, c.budget))
        may_raise.append(not u.is_demand_limited)
    # What the budgets would spend in the month, and an amount they miss by a rough setting's error.
    expected = sum(min(c.budget * c.delivery, c.ceiling or np.inf) for c in campaigns) * 30
    amount = float(np.round(expected / rng.uniform(0.75, 1.30), -1))
    return Scope(amount=amount, campaigns=campaigns, may_raise=may_raise)


@dataclass(frozen=True)
class Policy:
    name: str
    band: pacing.Band | None  # None: no pacing proposals
    max_move: float | None = None  # a largest-move guardrail, share of the budget


def run_month(scope: Scope, policy: Policy, seed: int) -> tuple[float, int]:
    """(month-end spend / amount − 1, pacing proposals approved) for one scope under one policy."""
    rng = np.random.default_rng(seed)  # the same days' noise under every policy
    first, last = pacing.month_bounds(MONTH)
    days = (last - first).days + 1
    budgets = [c.budget for c in scope.campaigns]
    spent_by_day: dict[dt.date, float] = {}
    paired = [[0.0, 0.0] for _ in scope.campaigns]  # spend, budget over the month's days, per campaign
    proposals = 0
    for d in range(days):
        today = first + dt.timedelta(days=d)
        if policy.band is not None and d >= 1:
            budgets, moved = correct(scope, policy, today, budgets, spent_by_day, paired)
            proposals += moved
        total = 0.0
        for i, c in enumerate(scope.campaigns):
            spend = day_spend(rng, c, budgets[i])
            paired[i][0] += spend
            paired[i][1] += budgets[i]
            total += spend
        spent_by_day[today] = total
    return sum(spent_by_day.values()) / scope.amount - 1, proposals


def correct(scope, policy, today, budgets, spent_by_day, paired) -> tuple[list[float], int]:
    shares = [s / b if b > 0 else 1.0 for s, b in paired]
    total_budget = sum(budgets)
    share = sum(b * s for b, s in zip(budgets, shares, strict=True)) / total_budget if total_budget else 1.0
    course = pacing.course(
        amount=scope.amount, today=today, daily_spend=spent_by_day, daily_budget=total_budget, spend_share=share
    )
    if not course.needs_correction(policy.band):
        return budgets, 0
    members = [
        pacing.Member(
            key=str(i),
            budget=b,
            spend_share=shares[i],
            may_raise=scope.may_raise[i],
            low=b * (1 - policy.max_move) if policy.max_move else 0.0,
            high=b * (1 + policy.max_move) if policy.max_move else float("inf"),
        )
        for i, b in enumerate(budgets)
    ]
    targets = pacing.corrections(course, members)
    new, moved = list(budgets), 0
    for key, to in targets.items():
        i = int(key)
        if abs(to - budgets[i]) >= max(MIN_MOVE, MIN_MOVE_PCT * budgets[i]):
            new[i], moved = to, moved + 1
    return new, moved


POLICIES = (
    Policy("no pacing proposals", None),
    Policy("pacing, band 90–110% (default)", pacing.Band(0.90, 1.10)),
    Policy("pacing, band 97–103%", pacing.Band(0.97, 1.03)),
    Policy("pacing, band 90–110%, 30% largest move", pacing.Band(0.90, 1.10), max_move=0.30),
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scopes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    scopes = [make_scope(rng) for _ in range(args.scopes)]
    limited = sum(not ok for s in scopes for ok in s.may_raise)
    campaigns = sum(len(s.campaigns) for s in scopes)
    print(f"{args.scopes} simulated scopes, {campaigns} campaigns ({limited} read as demand-limited), one 30-day month")
    print()
    # Scopes the engine can move both ways: at least one campaign it does not read as demand-limited.
    movable = np.array([any(s.may_raise) for s in scopes])
    header = (
        f"{'policy':<42} {'mean err':>8} {'p90 err':>8} {'worst':>7} {'≤3%':>6} {'≤3% movable':>12} "
        f"{'in band':>8} {'proposals':>10}"
    )
    print(header)
    print("-" * len(header))
    for policy in POLICIES:
        results = [run_month(scope, policy, seed=args.seed * 100_003 + n) for n, scope in enumerate(scopes)]
        errors = np.abs([e for e, _ in results])
        band = policy.band or pacing.Band(0.90, 1.10)
        in_band = np.mean([band.low <= 1 + e <= band.high for e, _ in results])
        print(
            f"{policy.name:<42} {errors.mean():>8.1%} {np.quantile(errors, 0.9):>8.1%} {errors.max():>7.1%} "
            f"{np.mean(errors <= GOAL):>6.0%} {np.mean(errors[movable] <= GOAL):>12.0%} {in_band:>8.0%} "
            f"{np.mean([p for _, p in results]):>10.1f}"
        )
    print()
    print(f"Movable: the {movable.sum()} scopes with at least one campaign not read as demand-limited (a raise can go")
    print("somewhere); in the others an underspent month cannot be made up, and the engine does not try.")
    print(f"Goal: month-end spend within {GOAL:.0%} of the monthly budget when pacing proposals are approved.")


if __name__ == "__main__":
    main()
