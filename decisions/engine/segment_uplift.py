"""What one action adds over the control inside one audience, straight from a test's customers: the difference of
the two arms' mean outcomes, with a bootstrap interval and P(loss). Pure numpy, no database.

Used twice: to re-estimate a reviewer's edited audience from the test that proposed it (in-sample: the same
customers the audience was chosen on, so it flatters a little), and to measure what an applied action realised
in a follow-up test (out of sample: new customers, the honest check of the first test's interval).

The bootstrap resamples each arm on its own (the arms are independent random groups), `replicates` times, and
reads the interval off the percentiles of the replicated differences; P(loss) is the share of replicates below
zero. A fixed seed keeps a page's figure still between two identical requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_CUSTOMERS = 30  # per arm: fewer and the difference says more about who happened to be there than the action
REPLICATES = 1000
CHUNK = 100  # replicates drawn at once: memory stays at CHUNK × arm size


@dataclass(frozen=True)
class Difference:
    """Per customer: the action's arm mean minus the control's, its interval, P(loss), and the arms' sizes."""

    mean: float
    low: float
    high: float
    p_loss: float
    treated: int
    control: int

    def to_dict(self) -> dict:
        return {
            "mean": self.mean,
            "low": self.low,
            "high": self.high,
            "p_loss": self.p_loss,
            "treated": self.treated,
            "control": self.control,
        }


def _replicated_means(values: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    draws = []
    for start in range(0, replicates, CHUNK):
        size = min(CHUNK, replicates - start)
        picks = rng.integers(0, len(values), size=(size, len(values)))
        draws.append(values[picks].mean(axis=1))
    return np.concatenate(draws)


def difference(
    treated: np.ndarray,
    control: np.ndarray,
    *,
    interval: float = 0.80,
    replicates: int = REPLICATES,
    seed: int = 0,
    min_customers: int = MIN_CUSTOMERS,
) -> Difference | None:
    """The action's uplift per customer over the control; None when either arm has fewer than `min_customers`."""
    treated, control = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    treated, control = treated[np.isfinite(treated)], control[np.isfinite(control)]
    if len(treated) < min_customers or len(control) < min_customers:
        return None
    rng = np.random.default_rng(seed)
    draws = _replicated_means(treated, replicates, rng) - _replicated_means(control, replicates, rng)
    tail = (1 - interval) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    mean = float(treated.mean() - control.mean())
    return Difference(
        mean=round(mean, 4),
        low=round(float(min(low, mean)), 4),
        high=round(float(max(high, mean)), 4),
        p_loss=round(float((draws < 0).mean()), 4),
        treated=len(treated),
        control=len(control),
    )


def verdict(realised: Difference | None, *, low: float, high: float) -> str:
    """Where a realised uplift falls against a predicted interval: inside, above, below, or too_few."""
    if realised is None:
        return "too_few"
    if realised.mean < low:
        return "below"
    if realised.mean > high:
        return "above"
    return "inside"
