"""Carryover (adstock): today's effect of spend also depends on the last few days' spend.

Geometric and normalised: x_t = rate * x_{t-1} + (1 - rate) * s_t. Normalising
by (1 - rate) keeps a steady spend s at x = s, so a curve fitted on x still
reads as "value per day at a steady budget of s" and the allocator can use it
unchanged. The series starts in steady state (x_0 = s_0) rather than from
zero, so the first days are not mistaken for a ramp-up.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

# The candidates the fit compares on held-out days; 0 (no carryover) wins ties.
RATES = (0.0, 0.3, 0.6)


def geometric(spend: np.ndarray, rate: float) -> np.ndarray:
    """Adstocked spend, same shape as `spend` (campaigns × days, days along the last axis)."""
    spend = np.asarray(spend, dtype=float)
    if rate <= 0.0:
        return spend
    initial = rate * spend[..., :1]
    out, _ = lfilter([1.0 - rate], [1.0, -rate], spend, axis=-1, zi=initial)
    return out
