"""Channel mix model: what each channel adds to a total outcome known only per period (day or week).

    outcome_t = baseline_t (level, trend, yearly season, weekday) + Σ_c ROAS_c · z_c,t + Σ_j γ_j · control_j,t + ε_t

where z_c,t is channel c's spend carried over (normalised geometric adstock,
decisions/engine/adstock.py) and saturated (x / (x + k)), rescaled so that its
sum over the window equals the channel's spend: the coefficient of a channel IS
its return on ad spend over the window, and its prior is a prior on ROAS.

How it is fitted, and why this way:

1. Given each channel's carryover rate and half-saturation, the model is linear.
   Its coefficients get Gaussian priors (ROAS half-normal ≥ 0, controls and
   season shrunk gently, the level free), so the posterior is Gaussian
   (truncated at ROAS ≥ 0) and exact in closed form: one 20×20 solve.
2. The nonlinear parameters live on a small grid per channel (5 carryover rates
   × 5 half-saturations). Coordinate ascent picks each channel's grid point
   by its marginal likelihood (evidence) with the others held; the evidence of
   every grid point then weights it, so uncertainty about the shape of a curve
   reaches the marginal ROAS (a Laplace approximation over the linear part,
   Bayesian model averaging over the grid).
3. Draws: a grid point per channel from those weights, then the coefficients
   from their truncated Gaussian (rejection sampling from the untruncated one,
   a short Gibbs pass where too few survive). Residual autocorrelation inflates
   the noise, (1+ρ)/(1−ρ), as the campaign curves do.

Why not MCMC (PyMC-Marketing, Meridian): the same model class, but tens of
seconds per fit; this runs in well under a second and the benchmark
(benchmarks/mix_benchmark.py) checks its interval coverage against a simulator's
truth. Collinear channels: the truncated Gaussian keeps their joint posterior,
so each one's interval widens honestly, and the warning names the pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from decisions.engine import adstock

RATES_WEEKLY = (0.0, 0.2, 0.4, 0.6, 0.8)
RATES_DAILY = (0.0, 0.5, 0.75, 0.88, 0.94)
K_MULTIPLES = (0.5, 1.0, 2.0, 4.0, 8.0)  # half-saturation as a multiple of the channel's mean adstocked spend
SWEEPS = 3
LEVEL = 0.8
# Prior scales, in units of the mean outcome per period (the outcome is divided by its mean).
TREND_SD = 0.5
SEASON_SD = 0.3
WEEKDAY_SD = 0.5
CONTROL_SD = 0.3  # a one-standard-deviation move of a control moves the outcome by 30% of its mean
ROAS_PRIOR_FACTOR = 1.0  # ROAS prior scale: the return if media made the whole outcome
MAX_INFLATION = 4.0
RECENT_WEEKS = 13
TEMPER = 0.3  # power on the grid evidence: residuals are autocorrelated and the model is never exact, so the data
# hold fewer independent periods than rows; 1.0 gave 75% coverage, 0.3 gives 81% (benchmarks/mix_benchmark.py)
TAU_MULTIPLES = (0.25, 0.5, 1.0, 2.0)
TOGETHER = 0.9  # spend correlation above which two channels are named as inseparable


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, draws: np.ndarray, level: float = LEVEL) -> Interval:
        """Mean and the shortest interval holding `level` of the draws (highest density). A return whose draws
        pile up against zero gets [0, …], where equal tails would cut off the values nearest zero, the likeliest."""
        ordered = np.sort(np.asarray(draws, dtype=float))
        n = len(ordered)
        width = max(1, int(np.ceil(level * n)) - 1)
        if n <= width:
            return cls(float(ordered.mean()), float(ordered[0]), float(ordered[-1]))
        start = int(np.argmin(ordered[width:] - ordered[: n - width]))
        return cls(float(ordered.mean()), float(ordered[start]), float(ordered[start + width]))

    def as_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class ChannelDraws:
    """Per draw: the steady-state response per period f(S) = roas · scale · S / (S + k)."""

    roas: np.ndarray
    scale: np.ndarray
    half_saturation: np.ndarray
    rate: np.ndarray

    def value(self, spend) -> np.ndarray:
        s = np.asarray(spend, dtype=float)
        shape = (-1,) + (1,) * s.ndim
        k = self.half_saturation.reshape(shape)
        return (self.roas * self.scale).reshape(shape) * s / (s + k)

    def marginal(self, spend) -> np.ndarray:
        s = np.asarray(spend, dtype=float)
        shape = (-1,) + (1,) * s.ndim
        k = self.half_saturation.reshape(shape)
        return (self.roas * self.scale).reshape(shape) * k / (s + k) ** 2


@dataclass(frozen=True)
class ChannelResult:
    channel: str
    spend: float  # over the window
    current_spend: float  # per period, the recent level the marginal return is read at
    contribution: Interval  # over the window, outcome units
    roas: Interval
    marginal_roas: Interval
    adstock_half_life_days: float
    curve_spend: np.ndarray = field(repr=False)
    curve: tuple = field(repr=False)  # (mean, low, high) outcome per period at curve_spend
    draws: ChannelDraws = field(repr=False)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MixFit:
    period_days: int
    periods: int
    channels: list[ChannelResult]
    baseline: np.ndarray = field(repr=False)  # outcome per period not due to media (level, season, controls)
    contributions: np.ndarray = field(repr=False)  # periods × channels, posterior mean
    fitted: np.ndarray = field(repr=False)
    outcome: np.ndarray = field(repr=False)
    holdout_mape: float
    in_sample_r2: float
    holdout_periods: int
    noise_sd: float
    control_effects: dict = field(default_factory=dict)  # name → mean effect of one standard deviation

    def channel(self, name: str) -> ChannelResult:
        return next(c for c in self.channels if c.channel == name)


def fit_mix(
    spend: np.ndarray,
    outcome: np.ndarray,
    channels: list[str],
    *,
    controls: np.ndarray | None = None,
    control_names: list[str] | None = None,
    period_days: int = 7,
    n_draws: int = 400,
    seed: int = 0,
    holdout_share: float = 0.125,
) -> MixFit:
    """Fit the model. spend: periods × channels (consecutive periods), outcome: periods; no NaN."""
    spend = np.maximum(np.asarray(spend, dtype=float), 0.0)
    outcome = np.asarray(outcome, dtype=float)
    periods, n_channels = spend.shape
    if len(channels) != n_channels or len(outcome) != periods:
        raise ValueError("spend, outcome and channels disagree in shape")
    if not (np.all(np.isfinite(spend)) and np.all(np.isfinite(outcome))):
        raise ValueError("spend and outcome must be finite")
    if outcome.mean() <= 0:
        raise ValueError("the outcome must be positive on average")
    rng = np.random.default_rng(seed)
    y_mean = float(outcome.mean())
    y = outcome / y_mean
    base, base_prior_sd = _baseline_design(periods, period_days)
    ctrl, ctrl_names, _ = _control_design(controls, control_names, periods)
    grid = _channel_grid(spend, period_days, y_mean)
    tau = ROAS_PRIOR_FACTOR * outcome.sum() / max(spend.sum(), 1e-9)

    fixed = np.hstack([base, ctrl])
    prior_sd = np.concatenate([base_prior_sd, np.full(ctrl.shape[1], CONTROL_SD), np.full(n_channels, tau)])
    model = _Model(fixed, y, 1.0 / prior_sd**2, n_channels)

    choice = np.full(n_channels, len(grid.rates) * len(K_MULTIPLES) // 2)
    sigma2 = model.noise(grid.columns(choice))
    for _ in range(SWEEPS):
        choice, weights = _sweep(model, grid, choice, sigma2)
        sigma2 = model.noise(grid.columns(choice))
        tau = _roas_scale(model, grid.columns(choice), sigma2, tau)
    inflation = min(MAX_INFLATION, _autocorrelation_inflation(model, grid.columns(choice), sigma2))
    sigma2_draws = sigma2 * inflation

    picks = np.stack([rng.choice(len(w), size=n_draws, p=w) for w in weights], axis=1)
    roas = np.empty((n_draws, n_channels))
    for combo in np.unique(picks, axis=0):
        rows = np.flatnonzero((picks == combo).all(axis=1))
        roas[rows] = model.sample_roas(grid.columns(combo), sigma2_draws, len(rows), rng)

    mean_roas = roas.mean(axis=0)
    z = grid.columns(choice)
    other = model.conditional_other(z, sigma2_draws, mean_roas)
    contributions = z * mean_roas * y_mean
    fixed_part = fixed @ other * y_mean
    fitted = fixed_part + contributions.sum(axis=1)
    holdout_periods, mape = _holdout(model, z, outcome, holdout_share)
    results = _channel_results(channels, spend, grid, picks, roas, period_days)
    results = _with_warnings(results, roas, tau, spend)
    n_base = base.shape[1]
    control_effects = {name: float(other[n_base + j] * y_mean) for j, name in enumerate(ctrl_names)}
    ss_total = ((outcome - outcome.mean()) ** 2).sum()
    return MixFit(
        period_days=period_days,
        periods=periods,
        channels=results,
        baseline=fixed_part,
        contributions=contributions,
        fitted=fitted,
        outcome=outcome,
        holdout_mape=mape,
        in_sample_r2=float(1.0 - ((outcome - fitted) ** 2).sum() / ss_total) if ss_total > 0 else 0.0,
        holdout_periods=holdout_periods,
        noise_sd=float(np.sqrt(sigma2_draws) * y_mean),
        control_effects=control_effects,
    )


# --- design -------------------------------------------------------------------------------------------


def _baseline_design(periods: int, period_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Level, linear trend, two yearly harmonics, and weekday effects for daily data; with prior sds."""
    t = np.arange(periods, dtype=float)
    columns = [np.ones(periods), t / max(periods - 1, 1) - 0.5]
    sds = [1e3, TREND_SD]
    year = 365.25 / period_days
    for harmonic in (1, 2):
        angle = 2 * np.pi * harmonic * t / year
        columns += [np.sin(angle), np.cos(angle)]
        sds += [SEASON_SD, SEASON_SD]
    if period_days == 1 and periods >= 14:
        day = np.arange(periods) % 7
        for d in range(1, 7):
            columns.append((day == d).astype(float) - (day == 0))
            sds.append(WEEKDAY_SD)
    return np.column_stack(columns), np.array(sds)


def _control_design(controls, names, periods) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Standardised controls; a control that never varies says nothing and is left out."""
    if controls is None or np.size(controls) == 0:
        return np.zeros((periods, 0)), [], np.zeros(0)
    controls = np.asarray(controls, dtype=float).reshape(periods, -1)
    names = list(names or [f"control {j + 1}" for j in range(controls.shape[1])])
    sd = controls.std(axis=0)
    keep = sd > 1e-12 * (1 + np.abs(controls).max(axis=0))
    standard = (controls[:, keep] - controls[:, keep].mean(axis=0)) / sd[keep]
    return standard, [n for n, k in zip(names, keep, strict=True) if k], sd[keep]


@dataclass
class _Grid:
    """Every channel's candidate columns: features[c][g] is z (periods,) for grid point g."""

    rates: tuple
    features: np.ndarray  # channels × grid × periods, in outcome-mean units per ROAS
    scale: np.ndarray  # channels × grid: steady-state f(S) = roas · scale · S/(S+k)
    half_saturation: np.ndarray  # channels × grid, spend per period
    rate: np.ndarray  # channels × grid

    def columns(self, choice) -> np.ndarray:
        return self.features[np.arange(len(choice)), choice].T


def _channel_grid(spend: np.ndarray, period_days: int, y_mean: float) -> _Grid:
    rates = RATES_DAILY if period_days == 1 else RATES_WEEKLY
    periods, n_channels = spend.shape
    n_grid = len(rates) * len(K_MULTIPLES)
    features = np.zeros((n_channels, n_grid, periods))
    scale = np.zeros((n_channels, n_grid))
    half = np.zeros((n_channels, n_grid))
    rate_of = np.zeros((n_channels, n_grid))
    for c in range(n_channels):
        s = spend[:, c]
        mean_spend = s.mean()
        if mean_spend <= 0:
            continue
        for i, rate in enumerate(rates):
            x = adstock.geometric(s, rate)
            for j, multiple in enumerate(K_MULTIPLES):
                g = i * len(K_MULTIPLES) + j
                k = multiple * x.mean()
                h = x / (x + k)
                # Σ_t z = Σ_t spend / y_mean, so the coefficient is ROAS.
                factor = mean_spend / max(h.mean(), 1e-12)
                features[c, g] = h * factor / y_mean
                scale[c, g] = factor
                half[c, g] = k
                rate_of[c, g] = rate
    return _Grid(rates, features, scale, half, rate_of)


# --- the linear-Gaussian core ----------------------------------------------------------------------


class _Model:
    """y = fixed · a + z · roas + ε with Gaussian priors; channels come last and are truncated at 0."""

    def __init__(self, fixed, y, precision, n_channels):
        self.fixed, self.y, self.precision, self.n_channels = fixed, y, precision, n_channels

    def design(self, z):
        return np.hstack([self.fixed, z])

    def posterior(self, z, sigma2):
        X = self.design(z)
        A = X.T @ X / sigma2 + np.diag(self.precision)
        L = np.linalg.cholesky(A)
        mean = _cho_solve(L, X.T @ self.y / sigma2)
        return X, A, L, mean

    def evidence(self, z, sigma2) -> float:
        """Log marginal likelihood (up to a constant shared by every grid point)."""
        X, _, L, mean = self.posterior(z, sigma2)
        resid = self.y - X @ mean
        fit = resid @ resid / sigma2 + mean @ (self.precision * mean)
        return float(-0.5 * fit - np.log(np.diag(L)).sum())

    def log_evidence(self, z, sigma2) -> float:
        """As `evidence`, plus the prior's own normalising term: comparable across prior scales."""
        return self.evidence(z, sigma2) + 0.5 * float(np.log(self.precision).sum())

    def with_roas_scale(self, tau: float) -> None:
        self.precision = self.precision.copy()
        self.precision[len(self.precision) - self.n_channels :] = 1.0 / tau**2

    def noise(self, z) -> float:
        """Residual variance at the posterior mean, with the effective number of parameters taken off."""
        sigma2 = np.var(self.y) * 0.1 + 1e-6
        for _ in range(3):
            X, A, L, mean = self.posterior(z, sigma2)
            resid = self.y - X @ mean
            hat = np.trace(_cho_solve(L, X.T @ X)) / sigma2
            sigma2 = max(resid @ resid / max(len(self.y) - hat, 1.0), 1e-8)
        return sigma2

    def sample_roas(self, z, sigma2, n, rng) -> np.ndarray:
        """n draws of the channels' ROAS from their posterior truncated at 0 (marginal over the rest)."""
        _, A, L, mean = self.posterior(z, sigma2)
        c = self.n_channels
        cov = _cho_solve(L, np.eye(len(mean)))[-c:, -c:]
        m = mean[-c:]
        chol = np.linalg.cholesky(cov + 1e-12 * np.eye(c))
        kept = np.zeros((0, c))
        for batch in (8 * n, 64 * n):
            draws = m + rng.standard_normal((batch, c)) @ chol.T
            kept = np.vstack([kept, draws[(draws >= 0).all(axis=1)]])
            if len(kept) >= n:
                return kept[:n]
        return np.vstack([kept, _gibbs_truncated(m, cov, n - len(kept), rng)])[:n]

    def conditional_other(self, z, sigma2, roas) -> np.ndarray:
        """Posterior mean of the non-media coefficients given the channels' ROAS."""
        n_fixed = self.fixed.shape[1]
        A = self.fixed.T @ self.fixed / sigma2 + np.diag(self.precision[:n_fixed])
        return np.linalg.solve(A, self.fixed.T @ (self.y - z @ roas) / sigma2)

    def map_truncated(self, X, y, prior_precision) -> np.ndarray:
        """Bounded ridge solution (channels ≥ 0) for the held-out fit."""
        from scipy.optimize import lsq_linear

        aug = np.vstack([X, np.diag(np.sqrt(prior_precision))])
        rhs = np.concatenate([y, np.zeros(X.shape[1])])
        lower = np.concatenate([np.full(X.shape[1] - self.n_channels, -np.inf), np.zeros(self.n_channels)])
        return lsq_linear(aug, rhs, bounds=(lower, np.inf)).x


def _cho_solve(L, b):
    from scipy.linalg import cho_solve

    return cho_solve((L, True), b)


def _gibbs_truncated(mean, cov, n, rng, sweeps=60) -> np.ndarray:
    """Draws from N(mean, cov) restricted to the positive orthant, n chains in parallel."""
    c = len(mean)
    Q = np.linalg.inv(cov)
    x = np.tile(np.maximum(mean, 1e-9), (n, 1))
    for _ in range(sweeps):
        for j in range(c):
            others = np.delete(np.arange(c), j)
            cond_mean = mean[j] - (x[:, others] - mean[others]) @ Q[j, others] / Q[j, j]
            cond_sd = 1.0 / np.sqrt(Q[j, j])
            x[:, j] = _truncated_normal(cond_mean, cond_sd, rng)
    return x


def _truncated_normal(mean, sd, rng):
    """N(mean, sd) restricted to ≥ 0, by the inverse of the upper tail (accurate far into either tail)."""
    # X = mean + sd·Z with Z ≥ -mean/sd; draw u' in (0, P(Z ≥ -mean/sd)] and solve P(Z ≥ z) = u'.
    u = (1.0 - rng.uniform(size=np.shape(mean))) * special.ndtr(mean / sd)
    return np.maximum(mean - sd * special.ndtri(u), 0.0)


def _roas_scale(model: _Model, z, sigma2, tau: float) -> float:
    """The ROAS prior's scale that the data find most likely (empirical Bayes over a few multiples).

    The channels share it, so a world where media add little pulls every weakly identified channel towards a
    small return instead of towards a wide default prior's mean."""
    candidates = [tau * m for m in TAU_MULTIPLES]
    scores = []
    for candidate in candidates:
        model.with_roas_scale(candidate)
        scores.append(model.log_evidence(z, sigma2))
    best = candidates[int(np.argmax(scores))]
    model.with_roas_scale(best)
    return best


def _sweep(model: _Model, grid: _Grid, choice, sigma2):
    """One round of coordinate ascent over each channel's grid; returns the choice and each channel's weights."""
    choice = choice.copy()
    weights = []
    n_grid = grid.features.shape[1]
    for c in range(len(choice)):
        scores = np.full(n_grid, -np.inf)
        for g in range(n_grid):
            if grid.scale[c, g] == 0:
                continue
            trial = choice.copy()
            trial[c] = g
            scores[g] = model.evidence(grid.columns(trial), sigma2)
        if np.all(np.isinf(scores)):
            weights.append(np.full(n_grid, 1.0 / n_grid))
            continue
        choice[c] = int(np.argmax(scores))
        w = np.exp(TEMPER * (scores - scores.max()))
        weights.append(w / w.sum())
    return choice, weights


def _autocorrelation_inflation(model, z, sigma2) -> float:
    X, _, _, mean = model.posterior(z, sigma2)
    resid = model.y - X @ mean
    if len(resid) < 3 or resid.std() == 0:
        return 1.0
    rho = float(np.clip(np.corrcoef(resid[:-1], resid[1:])[0, 1], 0.0, 0.9))
    return (1.0 + rho) / (1.0 - rho)


def _holdout(model: _Model, z, outcome, share) -> tuple[int, float]:
    """Fit on the earlier periods, predict the last `share` of them: mean absolute percentage error."""
    periods = len(outcome)
    n_test = max(int(round(periods * share)), 1)
    train = np.arange(periods - n_test)
    X = model.design(z)
    coef = model.map_truncated(X[train], model.y[train], model.precision)
    predicted = X[-n_test:] @ coef
    actual = model.y[-n_test:]
    ok = actual != 0
    return n_test, float(np.mean(np.abs(predicted[ok] - actual[ok]) / np.abs(actual[ok]))) if ok.any() else 0.0


# --- per-channel answers ----------------------------------------------------------------------------


def _channel_results(channels, spend, grid: _Grid, picks, roas, period_days) -> list[ChannelResult]:
    recent = max(1, min(len(spend), RECENT_WEEKS * 7 // period_days))
    results = []
    for c, name in enumerate(channels):
        draws = ChannelDraws(
            roas=roas[:, c],
            scale=grid.scale[c, picks[:, c]],
            half_saturation=grid.half_saturation[c, picks[:, c]],
            rate=grid.rate[c, picks[:, c]],
        )
        current = float(spend[-recent:, c].mean())
        curve_spend = np.linspace(0.0, max(2.0 * current, spend[:, c].max(), 1e-9), 41)
        curve_draws = draws.value(curve_spend)
        low, high = np.quantile(curve_draws, [0.1, 0.9], axis=0)
        half_lives = np.where(draws.rate > 0, np.log(0.5) / np.log(np.maximum(draws.rate, 1e-9)), 0.0)
        results.append(
            ChannelResult(
                channel=name,
                spend=float(spend[:, c].sum()),
                current_spend=current,
                contribution=Interval.of(roas[:, c] * spend[:, c].sum()),
                roas=Interval.of(roas[:, c]),
                marginal_roas=Interval.of(draws.marginal(current)),
                adstock_half_life_days=float(np.median(half_lives) * period_days),
                curve_spend=curve_spend,
                curve=(curve_draws.mean(axis=0), low, high),
                draws=draws,
            )
        )
    return results


def _with_warnings(results, roas, tau, spend) -> list[ChannelResult]:
    """Plain-words warnings where the data cannot tell a channel's return."""
    out = []
    corr = np.corrcoef(roas.T) if roas.shape[1] > 1 else np.ones((1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        spend_corr = np.corrcoef(spend.T) if spend.shape[1] > 1 else np.ones((1, 1))
    prior_sd = tau * np.sqrt(1 - 2 / np.pi)  # sd of a half-normal prior
    for c, result in enumerate(results):
        warnings = []
        r = result.roas
        if spend[:, c].sum() <= 0:
            warnings.append(f"{result.channel} spent nothing in this window, so its return is unknown.")
        partners = [
            results[d].channel
            for d in range(len(results))
            if d != c and ((np.isfinite(corr[c, d]) and corr[c, d] < -0.5) or spend_corr[c, d] >= TOGETHER)
        ]
        if partners:
            warnings.append(
                f"{result.channel} cannot be told apart from {', '.join(partners)}: their spend moved together, "
                "so the model knows their combined return better than each one's. Vary one of them on its own "
                "for a few weeks to separate them."
            )
        if roas[:, c].std() > 0.6 * prior_sd:
            warnings.append(
                f"The data say little about {result.channel}'s return (80% interval {r.low:.2f} to {r.high:.2f} "
                "per dollar): the estimate is mostly the prior."
            )
        elif r.high - r.low > 2.0 * max(r.mean, 1e-9):
            warnings.append(
                f"{result.channel}'s return is uncertain: the model is 80% sure it lies between {r.low:.2f} and "
                f"{r.high:.2f} per dollar."
            )
        out.append(_replace_warnings(result, tuple(warnings)))
    return out


def _replace_warnings(result: ChannelResult, warnings: tuple) -> ChannelResult:
    from dataclasses import replace

    return replace(result, warnings=warnings)
