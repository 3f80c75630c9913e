"""Customer lifetime value from transactions: how many more purchases each customer will make, what they will
spend, and whether they are still a customer at all. Pure: arrays in, arrays out, no database.

"Buy till you die" models, fitted by maximum likelihood (scipy, log parameters, vectorised over customers):

- BG/NBD (Fader, Hardie & Lee 2005) for the purchase count: while alive a customer buys at a Poisson rate λ
  (gamma-distributed over customers: shape r, rate α); after each purchase they may drop out for good with
  probability p (beta-distributed: a, b). A customer is summarised by x (repeat purchases: purchase days after
  the first), t_x (days from the first purchase to the last) and T (days from the first purchase to as-of).
- Pareto/NBD (Schmittlein, Morrison & Colombo 1987), the same purchase process with dropout at any moment
  (exponential lifetimes, gamma-distributed rates). `choose_purchase_model` picks one of the two per data set by
  how well each predicts the last quarter of the history from the rest.
- Gamma-Gamma for the spend per purchase: each customer's purchases vary around their own mean, which varies
  over customers (p, q, γ); a customer's expected spend shrinks their own average toward the population's,
  more so the fewer purchases it rests on. Fitted on every purchase day, the first included: a one-time buyer's
  one purchase says something about what they would spend again, and most customers are one-time buyers.

Time is counted in days; purchases on the same day are one purchase (an order split in two is one visit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Summary:
    """Per customer, from the transactions up to the as-of day (all arrays of one length, in one order)."""

    customer_ids: np.ndarray  # as given
    first_day: np.ndarray  # day number of the first purchase
    x: np.ndarray  # repeat purchases: purchase days after the first
    t_x: np.ndarray  # days from the first purchase to the last
    T: np.ndarray  # days from the first purchase to the as-of day
    mean_spend: np.ndarray  # mean spend per purchase day, the first included
    first_spend: np.ndarray  # the first purchase day's spend
    total_spend: np.ndarray  # everything spent up to as-of

    def __len__(self) -> int:
        return len(self.x)

    @property
    def purchases(self) -> np.ndarray:
        """Purchase days, the first included."""
        return self.x + 1


def summarise(customer_ids, days, amounts, *, as_of: int) -> Summary:
    """Summarise transactions (customer, day number, amount) up to and including day `as_of`.

    Later transactions are left out; customers whose first purchase is after `as_of` do not appear.
    """
    customer_ids = np.asarray(customer_ids)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=float)
    kept = days <= as_of
    customer_ids, days, amounts = customer_ids[kept], days[kept], amounts[kept]
    if len(days) == 0:
        empty = np.zeros(0)
        return Summary(customer_ids[:0], empty.astype(np.int64), empty, empty, empty, empty, empty, empty)
    customers, customer_index = np.unique(customer_ids, return_inverse=True)
    # One purchase per customer and day: sum the day's amounts.
    day_keys, day_index = np.unique(np.stack([customer_index, days]), axis=1, return_inverse=True)
    day_spend = np.bincount(day_index.ravel(), weights=amounts, minlength=day_keys.shape[1])
    per_customer, day_of = day_keys[0], day_keys[1]  # sorted by customer, then day
    n = len(customers)
    count = np.bincount(per_customer, minlength=n)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    first = day_of[starts]
    last = day_of[starts + count - 1]
    total = np.bincount(per_customer, weights=day_spend, minlength=n)
    return Summary(
        customer_ids=customers,
        first_day=first,
        x=(count - 1).astype(float),
        t_x=(last - first).astype(float),
        T=(as_of - first).astype(float),
        mean_spend=total / count,
        first_spend=day_spend[starts],
        total_spend=total,
    )


# --- BG/NBD: the purchase count ------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseParams:
    r: float
    alpha: float  # in days
    a: float
    b: float


def bgnbd_log_likelihood(params: PurchaseParams, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood of (x, t_x, T)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    shared = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    still_alive = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            x > 0,
            special.betaln(a + 1, b + np.maximum(x, 1) - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return shared + np.logaddexp(still_alive, dropped)


def p_alive(params: PurchaseParams | ParetoParams, x, t_x, T) -> np.ndarray:
    """P(still a customer at as-of | x, t_x, T). Under BG/NBD 1 for a customer who bought once (its dropout
    follows a purchase, so nobody drops out before their first repeat); under Pareto/NBD dropout is continuous."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if isinstance(params, ParetoParams):
        return 1.0 / (1.0 + np.exp(np.minimum(_pareto_dead_vs_alive(params, x, t_x, T), 700.0)))
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, T))


def _dropout_odds(params: PurchaseParams, x, t_x, T) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def expected_purchases(params: PurchaseParams | ParetoParams, x, t_x, T, horizon) -> np.ndarray:
    """E[purchases in the next `horizon` days | x, t_x, T] (BG/NBD: Fader, Hardie & Lee 2005, eq. 10)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    horizon = np.broadcast_to(np.asarray(horizon, dtype=float), x.shape)
    if isinstance(params, ParetoParams):
        return _pareto_expected_purchases(params, x, t_x, T, horizon)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = horizon / (alpha + T + horizon)
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + horizon))
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    body = (a + b + x - 1) / (a - 1) * (1 - np.exp(log_ratio) * hyper)
    return np.maximum(body / (1.0 + _dropout_odds(params, x, t_x, T)), 0.0)


def fit_bgnbd(summary: Summary) -> PurchaseParams:
    return _fit_counts(summary, PurchaseParams, bgnbd_log_likelihood)


def _fit_counts(summary: Summary, kind, log_likelihood):
    """Maximum likelihood over log parameters; customers with the same (x, t_x, T) are counted once, weighted."""
    keys, weights = np.unique(np.stack([summary.x, summary.t_x, summary.T]), axis=1, return_counts=True)
    x, t_x, T = keys
    n = weights.sum()

    def loss(log_params):
        return -np.dot(weights, log_likelihood(kind(*np.exp(log_params)), x, t_x, T)) / n

    # Rates in days: start the rate parameters (α, β) at the customers' mean age, the shapes at 1.
    age = max(float(np.mean(summary.T)), 1.0)
    start = np.log([1.0, age, 1.0, 1.0] if kind is PurchaseParams else [1.0, age, 1.0, age])
    return kind(*map(float, np.exp(_minimise(loss, start))))


VALIDATION_SHARE = 0.25  # the last quarter of the days before as-of judges the two purchase models
MIN_VALIDATION_DAYS = 14


def choose_purchase_model(customer_ids, days, *, as_of: int) -> type[PurchaseParams] | type[ParetoParams]:
    """BG/NBD or Pareto/NBD, whichever predicts these customers better: both are fitted on the transactions up to
    three quarters of the way to as-of and judged by their per-customer error (mean absolute) on the purchases of
    the last quarter. They differ in when customers stop buying: BG/NBD only right after a purchase, Pareto/NBD at
    any moment. Too short a history to hold a quarter back, or a fit that fails, leaves BG/NBD."""
    customer_ids = np.asarray(customer_ids)
    days = np.asarray(days, dtype=np.int64)
    kept = days <= as_of
    customer_ids, days = customer_ids[kept], days[kept]
    if not len(days):
        return PurchaseParams
    cut = as_of - round(VALIDATION_SHARE * (as_of - days.min()))
    if as_of - cut < MIN_VALIDATION_DAYS:
        return PurchaseParams
    early = summarise(customer_ids, days, np.ones(len(days)), as_of=cut)
    later = (days > cut) & np.isin(customer_ids, early.customer_ids)
    index = np.searchsorted(early.customer_ids, customer_ids[later])
    pairs = np.unique(np.stack([index, days[later]]), axis=1)
    actual = np.bincount(pairs[0], minlength=len(early)).astype(float)
    errors = {}
    for kind, fit_kind in ((PurchaseParams, fit_bgnbd), (ParetoParams, fit_pareto_nbd)):
        try:
            params = fit_kind(early)
        except ValueError:
            continue
        predicted = expected_purchases(params, early.x, early.t_x, early.T, as_of - cut)
        errors[kind] = float(np.mean((predicted - actual) ** 2))
    return min(errors, key=errors.get, default=PurchaseParams)


# --- Pareto/NBD: the purchase count with dropout at any time --------------------------------------------------


@dataclass(frozen=True)
class ParetoParams:
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchase rate λ ~ Gamma(r, α) while alive, lifetime
    ~ Exponential(μ) with μ ~ Gamma(s, β); α and β in days."""

    r: float
    alpha: float
    s: float
    beta: float


def _log_hyp2f1_c_is_a_plus_1(a, b, z):
    """log ₂F₁(a, b; a + 1; z) for 0 ≤ z < 1, through Pfaff's transformation (1 − z)^−b ₂F₁(1, b; a + 1; z/(z − 1)):
    the transformed series has a bounded, alternating argument, so large purchase counts cannot overflow it."""
    w = z / (z - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # an optimiser's wild trial: NaN, then rejected
        return -b * np.log1p(-z) + np.log(special.hyp2f1(1.0, b, a + 1.0, w))


def _pareto_terms(params: ParetoParams, x, t_x, T):
    """The log of the still-alive term and of the two terms whose difference is the died-since term (Fader &
    Hardie's note on the Pareto/NBD, eq. 22), shared by the likelihood and P(alive)."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    a = r + s + x
    if alpha >= beta:
        b, big, gap = s + 1.0, alpha, alpha - beta
    else:
        b, big, gap = r + x, beta, beta - alpha
    at_last = _log_hyp2f1_c_is_a_plus_1(a, b, gap / (big + t_x)) - a * np.log(big + t_x)
    at_end = _log_hyp2f1_c_is_a_plus_1(a, b, gap / (big + T)) - a * np.log(big + T)
    with np.errstate(divide="ignore", invalid="ignore"):  # NaN only at an optimiser's wild trial, then rejected
        died = np.log(s) - np.log(a) + at_last + np.log(-np.expm1(np.minimum(at_end - at_last, 0.0)))
    return alive, died


def pareto_nbd_log_likelihood(params: ParetoParams, x, t_x, T) -> np.ndarray:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    alive, died = _pareto_terms(params, x, t_x, T)
    shared = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    with np.errstate(invalid="ignore"):
        return shared + np.logaddexp(alive, died)


def _pareto_dead_vs_alive(params: ParetoParams, x, t_x, T) -> np.ndarray:
    alive, died = _pareto_terms(params, x, t_x, T)
    return died - alive


def fit_pareto_nbd(summary: Summary) -> ParetoParams:
    return _fit_counts(summary, ParetoParams, pareto_nbd_log_likelihood)


def _pareto_expected_purchases(params: ParetoParams, x, t_x, T, horizon) -> np.ndarray:
    """E[purchases in the next `horizon` days | alive] × P(alive) (Schmittlein et al. 1987, eq. 22)."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_shrink = np.log(beta + T) - np.log(beta + T + horizon)  # ≤ 0
    # (1 − ((β+T)/(β+T+t))^(s−1)) / (s − 1), which tends to log((β+T+t)/(β+T)) as s → 1.
    span = -log_shrink if abs(s - 1.0) < 1e-9 else -np.expm1((s - 1.0) * log_shrink) / (s - 1.0)
    while_alive = (r + x) * (beta + T) / (alpha + T) * span
    return while_alive * p_alive(params, x, t_x, T)


# --- Gamma-Gamma: the spend per purchase ---------------------------------------------------------------


@dataclass(frozen=True)
class SpendParams:
    p: float
    q: float
    gamma: float

    @property
    def mean_spend(self) -> float:
        """The population's mean spend per purchase (finite when q > 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("nan")


def gamma_gamma_log_likelihood(params: SpendParams, purchases, mean_spend) -> np.ndarray:
    """Each customer's log-likelihood of their mean spend over `purchases` purchases."""
    p, q, g = params.p, params.q, params.gamma
    n = np.asarray(purchases, dtype=float)
    m = np.asarray(mean_spend, dtype=float)
    return (
        special.gammaln(p * n + q)
        - special.gammaln(p * n)
        - special.gammaln(q)
        + q * np.log(g)
        + (p * n - 1) * np.log(m)
        + p * n * np.log(n)
        - (p * n + q) * np.log(g + n * m)
    )


def fit_spend(purchases, mean_spend) -> SpendParams:
    purchases = np.asarray(purchases, dtype=float)
    mean_spend = np.asarray(mean_spend, dtype=float)
    usable = (purchases > 0) & (mean_spend > 0)
    n, m = purchases[usable], mean_spend[usable]
    if len(n) < 2:
        raise ValueError("at least two customers with a positive spend are needed")

    def loss(log_params):
        return -np.mean(gamma_gamma_log_likelihood(SpendParams(*np.exp(log_params)), n, m))

    # Start from the moments: a gamma mean spend with shape p per purchase; q > 1 keeps the mean finite.
    start = np.log([2.0, 3.0, 2.0 * float(np.mean(m))])
    best = _minimise(loss, start)
    return SpendParams(*map(float, np.exp(best)))


def expected_spend(params: SpendParams, purchases, mean_spend) -> np.ndarray:
    """E[spend per future purchase | the customer's purchases and mean spend]: their mean, shrunk toward the
    population's in proportion to how little it rests on."""
    p, q, g = params.p, params.q, params.gamma
    n = np.asarray(purchases, dtype=float)
    m = np.asarray(mean_spend, dtype=float)
    return p * (g + n * m) / (p * n + q - 1)


# --- the two together -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClvModel:
    purchases: PurchaseParams | ParetoParams
    spend: SpendParams
    customers: int


@dataclass(frozen=True)
class Prediction:
    customer_ids: np.ndarray
    expected_purchases: np.ndarray  # over the horizon
    expected_value: np.ndarray  # money over the horizon
    p_alive: np.ndarray


def fit(summary: Summary, *, purchases: type = PurchaseParams) -> ClvModel:
    """The purchase model of kind `purchases` (BG/NBD by default; see `choose_purchase_model`) and Gamma-Gamma."""
    if len(summary) < 2:
        raise ValueError("at least two customers are needed to fit a lifetime value model")
    if not np.any(summary.x > 0):
        raise ValueError("no customer has bought twice: repeat purchases are what the model learns from")
    fit_kind = fit_pareto_nbd if purchases is ParetoParams else fit_bgnbd
    return ClvModel(
        purchases=fit_kind(summary),
        spend=fit_spend(summary.purchases, summary.mean_spend),
        customers=len(summary),
    )


def fit_transactions(customer_ids, days, amounts, *, as_of: int) -> tuple[ClvModel, Summary]:
    """Summarise the transactions up to `as_of`, choose the purchase model on them and fit it."""
    summary = summarise(customer_ids, days, amounts, as_of=as_of)
    if len(summary) >= 2 and np.any(summary.x > 0):
        kind = choose_purchase_model(customer_ids, days, as_of=as_of)
    else:
        kind = PurchaseParams  # fit() says why nothing can be fitted
    return fit(summary, purchases=kind), summary


def model_name(model: ClvModel) -> str:
    return "Pareto/NBD" if isinstance(model.purchases, ParetoParams) else "BG/NBD"


def predict(model: ClvModel, summary: Summary, *, horizon_days) -> Prediction:
    """Each customer's expected purchases and spend over the next `horizon_days` (a number, or one per
    customer) after the as-of day, and P(alive) on it."""
    purchases = expected_purchases(model.purchases, summary.x, summary.t_x, summary.T, horizon_days)
    spend = expected_spend(model.spend, summary.purchases, summary.mean_spend)
    return Prediction(
        customer_ids=summary.customer_ids,
        expected_purchases=purchases,
        expected_value=purchases * spend,
        p_alive=p_alive(model.purchases, summary.x, summary.t_x, summary.T),
    )


def lifetime_values_from_transactions(
    model: ClvModel, summary: Summary, customer_ids, days, amounts, *, lifetime_days: int = DAYS_PER_YEAR
) -> np.ndarray:
    """Each customer's value over their first `lifetime_days` from their first purchase: what they spent in that
    span up to as-of plus what they are expected to spend in what is left of it. A fixed span from acquisition
    makes customers acquired on different days comparable: a customer of two years ago is not worth more than last
    week's just for having had longer to buy."""
    customer_ids = np.asarray(customer_ids)
    days = np.asarray(days, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=float)
    index = np.searchsorted(summary.customer_ids, customer_ids)
    index = np.clip(index, 0, max(len(summary) - 1, 0))
    known = (len(summary) > 0) & (summary.customer_ids[index] == customer_ids)
    as_of = summary.first_day + summary.T
    inside = known & (days <= as_of[index]) & (days < summary.first_day[index] + lifetime_days)
    spent = np.bincount(index[inside], weights=amounts[inside], minlength=len(summary))
    remaining = np.maximum(lifetime_days - summary.T, 0.0)
    return spent + predict(model, summary, horizon_days=remaining).expected_value


def _minimise(loss, start: np.ndarray) -> np.ndarray:
    """L-BFGS from `start`, then Nelder-Mead from its answer when L-BFGS stops on a non-finite or flat patch."""
    bounded = [(-12.0, 12.0)] * len(start)  # e^±12: wide enough for any plausible rate or shape
    # Tight tolerances: the likelihood is flat along some directions (BG/NBD's a and b), and a loose stop there
    # leaves predictions a percent off the optimum.
    result = optimize.minimize(
        loss, start, method="L-BFGS-B", bounds=bounded, options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000}
    )
    if not result.success or not np.isfinite(result.fun):
        with np.errstate(invalid="ignore", over="ignore"):  # its simplex may hold NaN trials; they lose
            polished = optimize.minimize(
                loss, result.x, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-9}
            )
        if np.isfinite(polished.fun) and (not np.isfinite(result.fun) or polished.fun <= result.fun):
            result = polished
    if not np.isfinite(result.fun):
        raise ValueError("the lifetime value model did not converge on these transactions")
    return result.x
