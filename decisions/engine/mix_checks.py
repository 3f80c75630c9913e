"""Checks on the data before the mix model is trusted, in the manner of Meridian's pre-model checks.

Each check says FAIL (the model cannot answer: fix the data first), REVIEW (it
answers, but read the warning) or INFO (fine, for the record), and the fix in
plain words. Pure: arrays in, findings out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAIL, REVIEW, INFO = "FAIL", "REVIEW", "INFO"
# A channel whose weekly spend varies by less than this (coefficient of variation) cannot show its curve.
SPEND_CV_FAIL = 0.02
SPEND_CV_REVIEW = 0.10
CORRELATION_FAIL = 0.95
CORRELATION_REVIEW = 0.80
OUTCOME_CV_FAIL = 0.005
MIN_PERIODS_FAIL = 26
PERIODS_PER_YEAR = {7: 52, 1: 365}


@dataclass(frozen=True)
class Check:
    status: str
    title: str
    detail: str
    fix: str

    def as_dict(self) -> dict:
        return {"status": self.status, "title": self.title, "detail": self.detail, "fix": self.fix}


def run_checks(spend: np.ndarray, outcome: np.ndarray, channels: list[str], *, period_days: int = 7) -> list[Check]:
    spend = np.asarray(spend, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    checks = [_periods(len(outcome), period_days, len(channels)), _outcome_varies(outcome)]
    checks += [_spend_varies(spend[:, c], name) for c, name in enumerate(channels)]
    checks += _moves_together(spend, channels)
    order = {FAIL: 0, REVIEW: 1, INFO: 2}
    return sorted(checks, key=lambda check: order[check.status])


def worst(checks: list[Check]) -> str:
    for status in (FAIL, REVIEW):
        if any(check.status == status for check in checks):
            return status
    return INFO


def _unit(period_days: int, n: int) -> str:
    word = "week" if period_days == 7 else "day"
    return f"{n} {word}{'' if n == 1 else 's'}"


def _periods(periods: int, period_days: int, n_channels: int) -> Check:
    year = PERIODS_PER_YEAR.get(period_days, 52)
    have = _unit(period_days, periods)
    if periods < MIN_PERIODS_FAIL or periods < 4 * n_channels:
        return Check(
            FAIL,
            "Too few periods",
            f"{have} of totals for {n_channels} channels: fewer periods than the model has things to learn.",
            "Import at least half a year of weekly totals (a year or more is better).",
        )
    if periods < year:
        return Check(
            REVIEW,
            "Less than a year of data",
            f"{have} of totals: the yearly season cannot be told from the channels' effects.",
            "Import a full year or more, or add a control column that describes the season (demand, bookings).",
        )
    return Check(INFO, "Enough periods", f"{have} of totals for {n_channels} channels.", "Nothing to do.")


def _outcome_varies(outcome: np.ndarray) -> Check:
    mean = float(np.mean(outcome))
    cv = float(np.std(outcome) / mean) if mean > 0 else 0.0
    if mean <= 0 or cv < OUTCOME_CV_FAIL:
        return Check(
            FAIL,
            "The outcome never varies",
            "The total outcome is the same in every period (or zero), so nothing can be credited to any channel.",
            "Check the totals file: the metric column may be empty, constant or a placeholder.",
        )
    return Check(INFO, "The outcome varies", f"The outcome varies by {cv:.0%} from period to period.", "Nothing to do.")


def _spend_varies(spend: np.ndarray, name: str) -> Check:
    mean = float(spend.mean())
    cv = float(spend.std() / mean) if mean > 0 else 0.0
    if mean <= 0:
        return Check(
            FAIL,
            f"{name} spent nothing",
            f"{name} has no spend in this window, so its return cannot be estimated.",
            f"Leave {name} out of the mix, or import its spend.",
        )
    if cv < SPEND_CV_FAIL:
        status = FAIL
    elif cv < SPEND_CV_REVIEW:
        status = REVIEW
    else:
        return Check(
            INFO, f"{name}'s spend varies", f"{name}'s spend varies by {cv:.0%} between periods.", "Nothing to do."
        )
    return Check(
        status,
        f"{name}'s spend barely varies",
        f"{name}'s spend varies by only {cv:.1%} between periods: the data cannot show what more or less would "
        "bring, so its curve comes mostly from the prior.",
        f"Vary {name}'s budget for a few weeks (a spend test: ±25% for two to four weeks), then refit.",
    )


def _moves_together(spend: np.ndarray, channels: list[str]) -> list[Check]:
    active = [c for c in range(spend.shape[1]) if spend[:, c].std() > 0]
    checks = []
    for i, a in enumerate(active):
        for b in active[i + 1 :]:
            r = float(np.corrcoef(spend[:, a], spend[:, b])[0, 1])
            if r < CORRELATION_REVIEW:
                continue
            pair = f"{channels[a]} and {channels[b]}"
            checks.append(
                Check(
                    FAIL if r >= CORRELATION_FAIL else REVIEW,
                    f"{pair} move together",
                    f"The spend of {pair} rose and fell together (correlation {r:.2f}): the model cannot tell "
                    "which of the two brought the outcome.",
                    f"Change one of them without the other for a few weeks, or read {pair} as one channel.",
                )
            )
    if not checks and len(active) > 1:
        checks.append(
            Check(INFO, "No channels move together", "No two channels' spend moved in lockstep.", "Nothing to do.")
        )
    return checks
