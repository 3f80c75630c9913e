"""Response curves per campaign: objective value/day as a Hill function of spend/day, with uncertainty.

How the fit works, for all campaigns at once (numpy arrays of campaigns × days):

1. Each campaign is put on its own scale (spend / its median spend, value /
   its mean value), so one grid of half-saturations and shapes fits all.
2. A coarse least-squares pass over that grid gives a first mean curve. From
   its residuals we learn how the noise grows with the level (additive noise:
   power 0; the multiplicative noise of ad data: power 1) and weight days by
   it. scikit-learn's HuberRegressor then refits the ceiling on the weighted
   data with a jointly estimated robust scale; days it calls outliers (a
   tracking glitch, a one-off deal) are down-weighted with Huber weights, so
   one bad day cannot bend the curve. A plain least-squares residual would be
   pulled toward the outlier and hide it; that is why the robust fit is there.
3. The full grid (half-saturation × shape × carryover rate) is scored with the
   ceiling in closed form (weighted least squares through the origin is one
   ratio of sums), fitted on the first 80% of days and scored on the last
   20%. Carryover is kept only where it beats "none" on those held-out days.
4. Levenberg–Marquardt refines (log ceiling, log half-saturation, log shape)
   from the best grid point, vectorised over campaigns, under weak priors
   (half-saturation near the spend seen, shape near 1).

Uncertainty: a Laplace approximation (the posterior covariance of the log
parameters is the inverse of JᵀWJ/σ² plus the prior precision), inflated
by (1+ρ)/(1-ρ) for the lag-1 autocorrelation ρ of the residuals, and sampled
into `n_draws` parameter draws per campaign. Why not a bootstrap: 100 refits
per campaign cost ~1.6 s each, far beyond the 10 s budget for 1,000
campaigns, while the Laplace step costs one 3×3 inverse per campaign. The
priors matter most when spend barely varied: the data then pin down the value
at one spend only, the half-saturation and shape stay near their priors, and
the marginal return (which depends on them) gets the wide interval it should.
The calibration test checks the resulting 80% impact intervals against the
simulator's known truth.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor
from threadpoolctl import threadpool_limits

from decisions.engine import adstock
from decisions.engine.types import CurveFit, FittedCurve

__all__ = ["CurveFit", "FittedCurve", "fit_curves", "MIN_DAYS"]

MIN_DAYS = 14
MIN_SPEND_DAYS = 3
# Half-saturation as a multiple of the campaign's median spend, and Hill shapes.
K_GRID = np.geomspace(0.1, 10.0, 13)
SHAPE_GRID = np.array([0.6, 0.8, 1.0, 1.25, 1.6, 2.0, 2.6])
# Priors on (log ceiling, log half-saturation, log shape), in the campaign's own scale.
PRIOR_MEAN = np.array([np.log(2.0), 0.0, 0.0])
PRIOR_SD = np.array([2.0, 1.2, 0.5])
THETA_MIN = np.array([-12.0, np.log(0.01), np.log(0.3)])
THETA_MAX = np.array([12.0, np.log(100.0), np.log(4.0)])
# Day-of-week effects on value, log scale, sum-to-zero over the week.
WEEKDAY_PRIOR_SD = 0.5
WEEK = 7
HOLDOUT_SHARE = 0.2
ADSTOCK_MIN_GAIN = 0.02  # carryover must cut held-out error by 2% to be kept
HUBER_EPSILON = 1.35
LOG_FLOOR = -46.0  # log of zero spend; keeps exp() finite
CHUNK = 128  # campaigns per vectorised block: bounds peak memory at ~100 MB
LM_STEPS = 25
# No real campaign's daily value is known to better than 1% of its mean; a floor keeps
# perfectly regular (synthetic) data from making the fit overconfident.
MIN_NOISE = 0.01


def fit_curves(
    spend: np.ndarray,
    value: np.ndarray,
    *,
    n_draws: int = 200,
    seed=0,
    min_days: int = MIN_DAYS,
    weekly: bool = True,
) -> list[CurveFit | None]:
    """Fit one curve per row. NaN value = unknown day (skipped); None where a row cannot be fitted.

    Columns are consecutive calendar days. With `weekly`, each campaign also
    gets day-of-week factors on its value: platforms pace spend lower at
    weekends exactly when B2B demand drops, and without those factors the fit
    would read the weekend dip in value as a steep response to a small dip in
    spend. The curve reports the week-averaged value.

    A row cannot be fitted with fewer than `min_days` known days, fewer than
    three days with spend, or no positive value at all.
    """
    spend = np.atleast_2d(np.asarray(spend, dtype=float))
    value = np.atleast_2d(np.asarray(value, dtype=float))
    if spend.shape != value.shape:
        raise ValueError(f"spend {spend.shape} and value {value.shape} must have the same shape")
    valid = np.isfinite(spend) & np.isfinite(value)
    spend = np.where(np.isfinite(spend), np.maximum(spend, 0.0), 0.0)
    value = np.where(valid, value, 0.0)
    fittable = (
        (valid.sum(axis=1) >= min_days)
        & (((spend > 0) & valid).sum(axis=1) >= MIN_SPEND_DAYS)
        & ((value * valid).sum(axis=1) > 0)
    )
    results: list[CurveFit | None] = [None] * spend.shape[0]
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(fittable)
    season = _weekday_design(spend.shape[1]) if weekly and spend.shape[1] >= 2 * WEEK else np.zeros((spend.shape[1], 0))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        fits = _fit_chunk(spend[chunk], value[chunk], valid[chunk], season, n_draws, rng)
        for row, fit in zip(chunk, fits, strict=True):
            results[row] = fit
    return results


def _weekday_design(days: int) -> np.ndarray:
    """Sum-to-zero coding of the day of the week: (days, 6)."""
    day = np.arange(days) % WEEK
    design = (day[:, None] == np.arange(1, WEEK)[None, :]).astype(float)
    design[day == 0] = -1.0
    return design


def _fit_chunk(spend, value, valid, season, n_draws, rng) -> list[CurveFit]:
    mask = valid.astype(float)
    s_ref = np.array([np.median(row[ok & (row > 0)]) for row, ok in zip(spend, valid, strict=True)])
    y_ref = (value * mask).sum(axis=1) / mask.sum(axis=1)
    s = spend / s_ref[:, None]
    y = value / y_ref[:, None]

    weights = _robust_weights(s, y, mask)
    rate_index, grid_theta, logx = _grid_search(s, y, weights)
    start = np.hstack([grid_theta, np.zeros((len(y), season.shape[1]))])
    theta = _refine(start, logx, season, y, weights)
    draws, sigma, rho = _laplace_draws(theta, logx, season, y, weights, mask, n_draws, rng)
    ceiling, draws = _week_averaged(theta, season), _week_averaged_draws(draws, season)

    fits = []
    for i in range(len(s_ref)):
        seen = spend[i][valid[i]]
        c, k, n = ceiling[i], *np.exp(theta[i, 1:3])
        curve = FittedCurve(
            ceiling=float(c * y_ref[i]),
            half_saturation=float(k * s_ref[i]),
            shape=float(n),
            adstock=float(adstock.RATES[rate_index[i]]),
            n_days=int(valid[i].sum()),
            spend_min=float(seen.min()),
            spend_max=float(seen.max()),
            residual_sd=float(sigma[i] * y_ref[i]),
            spend_mean=float(seen.mean()),
            value_mean=float(y_ref[i]),
            autocorrelation=float(rho[i]),
        )
        scale = np.array([y_ref[i], s_ref[i], 1.0])
        fits.append(CurveFit(curve=curve, draws=draws[i] * scale))
    return fits


def _weekday_factors(delta: np.ndarray) -> np.ndarray:
    """Mean over the 7 weekdays of exp(effect); the effect of day 0 is minus the sum of the others."""
    if delta.shape[-1] == 0:
        return np.ones(delta.shape[:-1])
    first = -delta.sum(axis=-1, keepdims=True)
    return np.exp(np.concatenate([first, delta], axis=-1)).mean(axis=-1)


def _week_averaged(theta: np.ndarray, season: np.ndarray) -> np.ndarray:
    return np.exp(theta[:, 0]) * _weekday_factors(theta[:, 3 : 3 + season.shape[1]])


def _week_averaged_draws(draws: np.ndarray, season: np.ndarray) -> np.ndarray:
    """Draws as (ceiling, half_saturation, shape) with the ceiling week-averaged, natural scale."""
    ceiling = np.exp(draws[..., 0]) * _weekday_factors(draws[..., 3 : 3 + season.shape[1]])
    return np.stack([ceiling, np.exp(draws[..., 1]), np.exp(draws[..., 2])], axis=-1)


# --- grid ------------------------------------------------------------------------


def _log_spend(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), LOG_FLOOR)


def _grid_points(ks: np.ndarray, shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    log_k, n = np.meshgrid(np.log(ks), shapes, indexing="ij")
    return log_k.ravel(), n.ravel()


def _features(logx: np.ndarray, log_k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Saturation fraction h in [0, 1] for every campaign × grid point × day."""
    # float32: the grid only picks a starting point, and it halves the cost of the biggest array.
    gap = log_k.astype(np.float32)[None, :, None] - logx.astype(np.float32)[:, None, :]
    with np.errstate(over="ignore"):
        z = np.exp(n.astype(np.float32)[None, :, None] * gap)
    z += 1.0
    return np.reciprocal(z, out=z)


def _sums(f: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fy = (f @ (w * y)[:, :, None].astype(np.float32))[..., 0].astype(float)
    ff = ((f * f) @ w[:, :, None].astype(np.float32))[..., 0].astype(float)
    yy = (w * y * y).sum(axis=1)
    return fy, ff, yy


def _closed_form(fy, ff, yy):
    """Best ceiling per grid point (weighted least squares through the origin) and its error."""
    # A grid point that sees (almost) no spend on these days explains nothing: ceiling ~0.
    seen = ff > 1e-9
    beta = np.where(seen, np.maximum(fy, 1e-12) / np.where(seen, ff, 1.0), 1e-12)
    sse = yy[:, None] - 2 * beta * fy + beta * beta * ff
    return beta, sse


def _robust_weights(s: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Day weights: inverse noise variance (the noise grows with the level) times Huber's outlier weights."""
    log_k, n = _grid_points(K_GRID[::3], np.array([0.8, 1.0, 1.6]))
    f = _features(_log_spend(s), log_k, n)
    beta, sse = _closed_form(*_sums(f, y, mask))
    best = sse.argmin(axis=1)
    rows = np.arange(len(y))
    f0 = f[rows, best]
    mu = beta[rows, best][:, None] * f0

    level = np.maximum(mu, 0.05 * _masked_mean(mu, mask)[:, None])
    power = _noise_power(np.abs(y - mu), level, mask)
    variance_weight = (level / _masked_mean(level, mask)[:, None]) ** (-2 * power[:, None])
    return mask * variance_weight * _huber_weights(f0, y, variance_weight, mask)


def _masked_mean(a, mask):
    return (a * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def _noise_power(abs_resid, level, mask) -> np.ndarray:
    """Slope of log|residual| on log level per campaign, clipped to [0, 1] (additive .. multiplicative)."""
    ok = mask * (abs_resid > 0)
    lr = np.log(np.where(abs_resid > 0, abs_resid, 1.0))
    ll = np.log(level)
    n = np.maximum(ok.sum(axis=1), 1)
    ll_c = ll - ((ll * ok).sum(axis=1) / n)[:, None]
    lr_c = lr - ((lr * ok).sum(axis=1) / n)[:, None]
    var = (ok * ll_c * ll_c).sum(axis=1)
    cov = (ok * ll_c * lr_c).sum(axis=1)
    # With a tiny spread of levels the slope is noise; the weights barely differ then anyway.
    slope = np.where(var > 1e-6, cov / np.maximum(var, 1e-12), 0.0)
    return np.clip(slope, 0.0, 1.0)


def _huber_weights(f0, y, variance_weight, mask) -> np.ndarray:
    out = np.ones_like(y)
    root = np.sqrt(variance_weight)
    # One BLAS thread: on a 2-parameter problem OpenBLAS's thread start-up made
    # each fit ~60x slower (64 ms instead of 1.1 ms, measured here).
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in range(len(y)):
            ok = mask[i] > 0
            x_i, y_i = f0[i, ok] * root[i, ok], y[i, ok] * root[i, ok]
            huber = HuberRegressor(epsilon=HUBER_EPSILON, alpha=0.0, fit_intercept=False, max_iter=200)
            huber.fit(x_i[:, None], y_i)
            scaled = np.abs(y_i - huber.coef_[0] * x_i) / max(huber.scale_, 1e-12)
            out[i, ok] = np.where(scaled <= HUBER_EPSILON, 1.0, HUBER_EPSILON / np.maximum(scaled, 1e-12))
    return out


def _grid_search(s, y, w):
    """Best (carryover, half-saturation, shape, ceiling) per campaign; carryover chosen on held-out days."""
    days = s.shape[1]
    cut = int(round(days * (1 - HOLDOUT_SHARE)))
    log_k, n = _grid_points(K_GRID, SHAPE_GRID)
    rows = np.arange(len(y))
    held_out_sse, full_best, logxs = [], [], []
    for rate in adstock.RATES:
        logx = _log_spend(adstock.geometric(s, rate))
        f = _features(logx, log_k, n)
        train = _sums(f[..., :cut], y[:, :cut], w[:, :cut])
        hold = _sums(f[..., cut:], y[:, cut:], w[:, cut:])
        beta_t, sse_t = _closed_form(*train)
        g = sse_t.argmin(axis=1)
        b = beta_t[rows, g]
        fy_h, ff_h, yy_h = (hold[0][rows, g], hold[1][rows, g], hold[2])
        held_out_sse.append(yy_h - 2 * b * fy_h + b * b * ff_h)
        beta, sse = _closed_form(*(a + b_ for a, b_ in zip(train, hold, strict=True)))
        g_all = sse.argmin(axis=1)
        full_best.append(np.column_stack([np.log(beta[rows, g_all]), log_k[g_all], np.log(n[g_all])]))
        logxs.append(logx)
    held_out_sse = np.array(held_out_sse)
    choice = held_out_sse.argmin(axis=0)
    # Carryover must earn its place: without a clear held-out gain, assume none.
    choice = np.where(held_out_sse[choice, rows] < (1 - ADSTOCK_MIN_GAIN) * held_out_sse[0], choice, 0)
    theta = np.array(full_best)[choice, rows]
    logx = np.array(logxs)[choice, rows]
    return choice, theta, logx


# --- refinement and uncertainty ------------------------------------------------------


def _prior(n_season: int) -> tuple[np.ndarray, np.ndarray]:
    mean = np.concatenate([PRIOR_MEAN, np.zeros(n_season)])
    sd = np.concatenate([PRIOR_SD, np.full(n_season, WEEKDAY_PRIOR_SD)])
    return mean, sd


def _clip(theta: np.ndarray) -> np.ndarray:
    out = theta.copy()
    out[..., :3] = np.clip(out[..., :3], THETA_MIN, THETA_MAX)
    return out


def _model(theta: np.ndarray, logx: np.ndarray, season: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean value per day and its Jacobian with respect to (log c, log k, log n, weekday effects)."""
    log_c, log_k, log_n = (theta[:, j : j + 1] for j in range(3))
    n = np.exp(log_n)
    gap = log_k - logx
    with np.errstate(over="ignore"):
        h = 1.0 / (1.0 + np.exp(n * gap))
    mu = np.exp(log_c + theta[:, 3:] @ season.T) * h
    slope = -mu * n * (1.0 - h)
    jac = np.concatenate(
        [np.stack([mu, slope, slope * gap], axis=-1), mu[..., None] * season[None, :, :]],
        axis=-1,
    )
    return mu, jac


def _penalised(theta, logx, season, y, w, sigma2):
    mu, _ = _model(theta, logx, season)
    mean, sd = _prior(season.shape[1])
    data = (w * (y - mu) ** 2).sum(axis=1) / sigma2
    return data + (((theta - mean) / sd) ** 2).sum(axis=1)


def _refine(theta, logx, season, y, w) -> np.ndarray:
    """Levenberg–Marquardt on the penalised weighted least squares, every campaign in step."""
    mean, sd = _prior(season.shape[1])
    eye = np.eye(len(mean))
    mu, _ = _model(theta, logx, season)
    dof = np.maximum(w.astype(bool).sum(axis=1) - len(mean), 1)
    sigma2 = np.maximum((w * (y - mu) ** 2).sum(axis=1) / dof, MIN_NOISE**2)
    damping = np.full(len(y), 1e-2)
    objective = _penalised(theta, logx, season, y, w, sigma2)
    for _ in range(LM_STEPS):
        mu, jac = _model(theta, logx, season)
        hess = _gram(jac, w) / sigma2[:, None, None] + np.diag(1.0 / sd**2)
        grad = (jac.transpose(0, 2, 1) @ (w * (y - mu))[..., None])[..., 0] / sigma2[:, None] - (theta - mean) / sd**2
        damped = hess + damping[:, None, None] * hess * eye
        candidate = _clip(theta + np.linalg.solve(damped, grad[..., None])[..., 0])
        new_objective = _penalised(candidate, logx, season, y, w, sigma2)
        better = new_objective < objective
        theta = np.where(better[:, None], candidate, theta)
        objective = np.where(better, new_objective, objective)
        damping = np.where(better, damping / 3, damping * 4)
    return theta


def _laplace_draws(theta, logx, season, y, w, mask, n_draws, rng):
    mean, sd = _prior(season.shape[1])
    mu, jac = _model(theta, logx, season)
    resid = y - mu
    dof = np.maximum(mask.sum(axis=1) - len(mean), 1)
    sigma = np.sqrt(np.maximum((w * resid**2).sum(axis=1) / dof, MIN_NOISE**2))
    rho = _lag1_autocorrelation(resid * np.sqrt(w), mask)
    inflation = (1 + rho) / (1 - rho)
    info = _gram(jac, w) / (sigma**2 * inflation)[:, None, None]
    cov = np.linalg.inv(info + np.diag(1.0 / sd**2))
    cov = (cov + np.swapaxes(cov, 1, 2)) / 2 + 1e-12 * np.eye(len(mean))
    chol = np.linalg.cholesky(cov)
    z = rng.standard_normal((len(theta), n_draws, len(mean)))
    draws = theta[:, None, :] + np.einsum("cij,cdj->cdi", chol, z)
    return _clip(draws), sigma, rho


def _gram(jac: np.ndarray, w: np.ndarray) -> np.ndarray:
    """JᵀWJ per campaign, as a batched matrix product (einsum was the slowest step)."""
    return jac.transpose(0, 2, 1) @ (jac * w[..., None])


def _lag1_autocorrelation(e: np.ndarray, mask: np.ndarray) -> np.ndarray:
    pair = mask[:, 1:] * mask[:, :-1]
    num = (e[:, 1:] * e[:, :-1] * pair).sum(axis=1)
    den = np.maximum((e * e * mask).sum(axis=1), 1e-24)
    return np.clip(num / den, 0.0, 0.9)
