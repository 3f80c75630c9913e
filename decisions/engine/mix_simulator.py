"""A world with known truth for the channel mix model: spend per channel, a total outcome, controls.

What makes it hard, as real data are: spend follows demand (marketers spend more
in the busy season, so a naive fit credits media with the season), a demand
index is observed only with noise, some controls are irrelevant, some channels
return little, two channels can be set to move together, and the platform's own
ROAS report is biased (search harvests demand that was coming anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from decisions.engine import adstock

IRRELEVANT_NAMES = ("weather_index", "price_index")
CHANNEL_NAMES = ("Search", "Social", "Video", "Display", "Shopping", "Email", "Affiliate", "Audio")


@dataclass(frozen=True)
class MixWorld:
    period_days: int
    channels: list[str]
    spend: np.ndarray  # periods × channels
    outcome: np.ndarray
    controls: np.ndarray  # periods × controls
    control_names: list[str]
    true_roas: np.ndarray  # over the window: contribution / spend
    true_rate: np.ndarray
    true_half_saturation: np.ndarray  # per period, in spend units
    true_beta: np.ndarray  # steady-state response per period = beta · S / (S + k)
    platform_roas: np.ndarray  # what the ad platforms report (biased)
    contributions: np.ndarray = field(repr=False)

    def true_value(self, spend_per_period: np.ndarray) -> np.ndarray:
        """Steady-state outcome per period from media at the given spend per channel (truth)."""
        s = np.asarray(spend_per_period, dtype=float)
        return self.true_beta * s / (s + self.true_half_saturation)

    def true_marginal(self, spend_per_period: np.ndarray) -> np.ndarray:
        s = np.asarray(spend_per_period, dtype=float)
        return self.true_beta * self.true_half_saturation / (s + self.true_half_saturation) ** 2


def simulate_mix(
    *,
    seed: int = 0,
    periods: int = 104,
    period_days: int = 7,
    n_channels: int = 6,
    collinear_pair: bool = False,
    confounding: float = 0.6,
    n_irrelevant: int = 2,
    noise: float = 0.06,
    media_share: float = 0.4,
) -> MixWorld:
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    year = 365.25 / period_days
    season = 0.15 * np.sin(2 * np.pi * t / year + rng.uniform(0, 2 * np.pi))
    shocks = _ar1(rng, periods, 0.7 if period_days == 7 else 0.95, 0.08)
    demand = season + shocks
    weekday = _weekday(rng, periods) if period_days == 1 else np.zeros(periods)

    base = rng.uniform(2_000, 20_000, n_channels) * period_days / 7
    lean = rng.uniform(0.0, 1.0, n_channels) * confounding  # how strongly each channel's budget follows demand
    spend = np.empty((periods, n_channels))
    for c in range(n_channels):
        wiggle = _ar1(rng, periods, 0.6, rng.uniform(0.15, 0.45))
        flights = np.where(rng.uniform(size=periods) < 0.1, rng.uniform(0.2, 0.6), 1.0)  # weeks dark or low
        spend[:, c] = base[c] * np.exp(lean[c] * demand * 3 + wiggle) * flights
    if collinear_pair and n_channels >= 2:
        spend[:, 1] = spend[:, 0] * base[1] / base[0] * np.exp(rng.normal(0, 0.03, periods))

    rates = rng.uniform(0.1, 0.7, n_channels) ** (1 if period_days == 7 else 1 / 7)
    k_mult = rng.uniform(0.5, 2.5, n_channels)
    shares = rng.dirichlet(np.ones(n_channels) * 1.2)
    weak = rng.choice(n_channels, size=max(1, n_channels // 4), replace=False)
    shares[weak] *= 0.1
    shares /= shares.sum()

    base_level = 100_000.0 * period_days / 7
    media_total = media_share * base_level
    contributions = np.empty((periods, n_channels))
    beta = np.empty(n_channels)
    half = np.empty(n_channels)
    for c in range(n_channels):
        x = adstock.geometric(spend[:, c], rates[c])
        half[c] = k_mult[c] * x.mean()
        h = x / (x + half[c])
        beta[c] = shares[c] * media_total / h.mean()
        contributions[:, c] = beta[c] * h
    trend = 0.1 * (t / periods)
    baseline = base_level * (1 + trend + demand + weekday)
    outcome = (baseline + contributions.sum(axis=1)) * np.exp(rng.normal(0, noise, periods))

    demand_index = demand + rng.normal(0, 0.03, periods)
    irrelevant = rng.normal(0, 1, (periods, n_irrelevant))
    controls = np.column_stack([demand_index, irrelevant])
    true_roas = contributions.sum(axis=0) / spend.sum(axis=0)
    # Platforms credit every sale that followed a click (last touch), including sales that were coming
    # anyway: each channel also "harvests" a share of the baseline, more so the more it follows demand.
    harvest = rng.dirichlet(np.ones(n_channels) * 0.7) * (0.5 + lean)
    harvest = 0.6 * harvest / harvest.sum()
    platform_roas = (contributions.sum(axis=0) + harvest * baseline.sum()) / spend.sum(axis=0)
    return MixWorld(
        period_days=period_days,
        channels=list(CHANNEL_NAMES[:n_channels]),
        spend=spend,
        outcome=outcome,
        controls=controls,
        # The irrelevant ones get plausible names: nothing in a name tells the model it does not matter.
        control_names=["demand_index"]
        + [IRRELEVANT_NAMES[j] if j < 2 else f"other_{j + 1}" for j in range(n_irrelevant)],
        true_roas=true_roas,
        true_rate=rates,
        true_half_saturation=half,
        true_beta=beta,
        platform_roas=platform_roas,
        contributions=contributions,
    )


def _ar1(rng, n, phi, sd) -> np.ndarray:
    e = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


def _weekday(rng, n) -> np.ndarray:
    effect = np.array([0.05, 0.08, 0.08, 0.06, 0.02, -0.15, -0.14])
    return effect[np.arange(n) % 7]
