"""Spend tests: where a curve is too uncertain to act on, what a short raise would teach and whether it pays.

A campaign (or, in the mix model, a channel) whose spend barely varied has a curve the data pin down at one
spend only: its marginal return's interval is wide, and the allocator holds it (the move is too likely to lose)
or moves it little. Raising it by `raise_pct` for `days` days, then returning, shows the value at a second spend.

What the test is worth is a preposterior calculation over the posterior draws the fit already has (no refit):

1. for a hypothetical truth (a draw t), the test's days would show a mean value ȳ = f_t(raised) + noise, the
   noise of a mean of `periods` days (the fit's residual spread, inflated for autocorrelation);
2. having seen ȳ, the posterior is the draws reweighted by the likelihood of ȳ under each (importance weights:
   the draws are the Laplace posterior, so reweighting them is Bayes' rule on the same sample);
3. the engine then picks the budget it would pick on that posterior — the best expected net value
   f(b) − rate·b inside the same limits, held where P(loss) is above the engine's cap, as the allocator does —
   and the gain over today's pick is valued on that posterior.

The mean gain over many (t, ȳ), times the days the better budget then runs (`horizon`), is the value of knowing
(the expected value of sample information). The cost is the test's own: its extra spend at the money's
opportunity rate (what a dollar earns at the margin elsewhere, the allocator's multiplier) minus the value the
raise is expected to bring, with its interval. A test is proposed only where the value of knowing exceeds the
mean cost. The same reweighted posteriors give the marginal return's interval after the test, so a reviewer
sees how much narrower it is expected to get.

What the calculation leaves out: carryover (the first days of a raise reach the steady state only gradually) and
what the test teaches about other campaigns. Both make it a little optimistic about the narrowing and a little
pessimistic about the value; neither changes which campaigns are worth testing first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TEST_DAYS = 14
RAISE_PCT = 25.0
HORIZON_DAYS = 90  # how long the better budget runs after the test: one quarter
MAX_TESTS = 3  # per run: each test is a reviewer's decision and 14 days of a campaign's budget
LEVEL = 0.8
OUTER = 400  # hypothetical test results per candidate
GRID = 41  # budgets the decision after the test chooses among
EPS = 0.02  # relative step for the numerical marginal return

# value(spends) → (draws, len(spends)) value per period at a steady spend per period
ValueDraws = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TestPlan:
    index: int  # the campaign's (or channel's) position in the caller's list
    periods: float  # the test's length in the model's periods (days, or weeks for weekly totals)
    raise_pct: float
    spend_now: float  # per period
    spend_test: float
    extra_spend: float  # over the whole test
    lift: tuple[float, float, float]  # extra value over the test: mean, low, high
    cost: tuple[float, float, float]  # opportunity cost of the extra spend minus the lift: mean, low, high
    p_loss: float  # share of draws in which the raise earns less than the money would elsewhere
    value_of_knowing: float  # over the horizon, in value units
    interval_now: tuple[float, float]  # the marginal return at today's spend
    interval_expected: tuple[float, float]  # the same, expected after the test (centred on today's mean)
    marginal_mean: float

    @property
    def net_value(self) -> float:
        return self.value_of_knowing - self.cost[0]

    @property
    def narrowing(self) -> float:
        """Expected share of the interval's width the test removes (0–1)."""
        now = self.interval_now[1] - self.interval_now[0]
        after = self.interval_expected[1] - self.interval_expected[0]
        return float(np.clip(1.0 - after / now, 0.0, 1.0)) if now > 0 else 0.0


def plan_test(
    value: ValueDraws,
    *,
    index: int,
    spend: float,
    noise_sd: float,
    lower: float,
    upper: float,
    rate: float,
    periods: float = TEST_DAYS,
    horizon: float = HORIZON_DAYS,
    raise_pct: float = RAISE_PCT,
    max_p_loss: float = 0.35,
    outer: int = OUTER,
    seed: int = 0,
) -> TestPlan | None:
    """The plan for raising `spend` by `raise_pct` for `periods` periods; None where nothing can be learnt.

    `lower`/`upper` bound the budget the engine may choose after the test (its guardrails and step limit),
    `rate` is the value a unit of spend earns at the margin elsewhere, `noise_sd` the spread of one period's
    observed value around the curve.
    """
    if spend <= 0 or noise_sd <= 0 or periods <= 0 or not np.isfinite(rate):
        return None
    raised = spend * (1 + raise_pct / 100.0)
    at = value(np.array([spend, raised]))
    draws = at.shape[0]
    if draws < 20:
        return None
    lift_d = periods * (at[:, 1] - at[:, 0])
    extra = periods * (raised - spend)
    cost_d = rate * extra - lift_d
    marginal = _marginal(value, spend)
    interval_now = _quantiles(marginal, np.full(draws, 1.0 / draws))

    lower, upper = min(lower, spend), max(upper, spend)
    grid = np.unique(np.concatenate([np.linspace(lower, upper, GRID), [spend]]))
    here = int(np.flatnonzero(grid == spend)[0])
    net = value(grid) - rate * grid
    net = net - net[:, [here]]  # each budget's gain over today's, per draw

    rng = np.random.default_rng(seed)
    se = noise_sd / np.sqrt(periods)
    truth = rng.integers(draws, size=outer)
    seen = at[truth, 1] + se * rng.standard_normal(outer)
    log_w = -0.5 * ((seen[:, None] - at[None, :, 1]) / se) ** 2
    weights = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)

    prior = np.full((1, draws), 1.0 / draws)
    today = _decide(prior, net, here, max_p_loss)[0]
    after = _decide(weights, net, here, max_p_loss)
    gain_after = (weights * net[:, after].T).sum(axis=1)
    gain_today = weights @ net[:, today]
    evsi = float(np.mean(gain_after - gain_today))

    widths = np.array([np.subtract(*_quantiles(marginal, w)[::-1]) for w in weights[: min(outer, 200)]])
    width = float(widths.mean())
    centre = float(marginal.mean())
    return TestPlan(
        index=index,
        periods=float(periods),
        raise_pct=float(raise_pct),
        spend_now=float(spend),
        spend_test=float(raised),
        extra_spend=float(extra),
        lift=_summary(lift_d),
        cost=_summary(cost_d),
        p_loss=float(np.mean(cost_d > 0)),
        value_of_knowing=max(evsi, 0.0) * horizon,
        interval_now=(float(interval_now[0]), float(interval_now[1])),
        interval_expected=(centre - width / 2, centre + width / 2),
        marginal_mean=centre,
    )


def choose(plans: list[TestPlan | None], *, max_tests: int = MAX_TESTS) -> list[TestPlan]:
    """The tests worth running: knowing is worth something and more than the test's mean cost (a raise expected to
    pay for itself with nothing to learn is a move for the allocator, not a test), best net value first, at most
    `max_tests`."""
    worth = [p for p in plans if p is not None and p.value_of_knowing > max(p.cost[0], 0.0) and p.narrowing > 0]
    return sorted(worth, key=lambda p: -p.net_value)[:max_tests]


def _decide(weights: np.ndarray, net: np.ndarray, here: int, max_p_loss: float) -> np.ndarray:
    """Per posterior (row of weights), the budget index the engine picks: the best expected gain among the
    budgets not too likely to lose against today's; today's budget when none beats it."""
    gain = weights @ net
    p_loss = weights @ (net < 0).astype(float)
    allowed = p_loss <= max_p_loss
    allowed[:, here] = True
    return np.argmax(np.where(allowed, gain, -np.inf), axis=1)


def _marginal(value: ValueDraws, spend: float) -> np.ndarray:
    step = EPS * spend
    around = value(np.array([spend - step, spend + step]))
    return (around[:, 1] - around[:, 0]) / (2 * step)


def _quantiles(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    tail = (1 - LEVEL) / 2
    low = x[order][min(np.searchsorted(cum, tail), len(x) - 1)]
    high = x[order][min(np.searchsorted(cum, 1 - tail), len(x) - 1)]
    return float(low), float(high)


def _summary(draws: np.ndarray) -> tuple[float, float, float]:
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(draws.mean()), float(low), float(high)


# --- campaigns (attribution "campaign") -------------------------------------------------------------

SMALL_MOVE_PCT = 10.0  # a campaign the allocator moved more than this is not "held": its curve told enough


def campaign_plans(
    fits: list,
    current: np.ndarray,
    *,
    allocated: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    may_raise: np.ndarray,
    rate: float,
    max_p_loss: float = 0.35,
    days: int = TEST_DAYS,
    raise_pct: float = RAISE_PCT,
    horizon: float = HORIZON_DAYS,
    seed: int = 0,
) -> list[TestPlan | None]:
    """A plan per campaign (None where it is no candidate): fitted, held or moved little by the allocator, and
    free to be raised by `raise_pct` (`may_raise`: the block-level guardrails allow it and demand would spend it).

    `lower`/`upper` bound the budget the engine may pick after the test; `rate` is the allocator's multiplier.
    """
    rate = rate if np.isfinite(rate) and rate > 0 else _median_marginal(fits, current)
    plans: list[TestPlan | None] = []
    for i, fit in enumerate(fits):
        moved = abs(allocated[i] - current[i]) > SMALL_MOVE_PCT / 100.0 * current[i]
        if fit is None or moved or not may_raise[i] or current[i] <= 0:
            plans.append(None)
            continue
        curve = fit.curve
        rho = min(max(curve.autocorrelation, 0.0), 0.9)
        noise = curve.residual_sd * np.sqrt((1 + rho) / (1 - rho))
        plans.append(
            plan_test(
                fit.value_draws,
                index=i,
                spend=float(current[i]),
                noise_sd=noise,
                lower=float(lower[i]),
                upper=float(upper[i]),
                rate=rate,
                periods=days,
                horizon=horizon,
                raise_pct=raise_pct,
                max_p_loss=max_p_loss,
                seed=seed + i,
            )
        )
    return plans


def _median_marginal(fits: list, current: np.ndarray) -> float:
    found = [float(f.curve.marginal(current[i])) for i, f in enumerate(fits) if f is not None and current[i] > 0]
    return float(np.median(found)) if found else 1.0


# --- channels (attribution "mix") -----------------------------------------------------------------


def channel_plans(
    channels: list,
    *,
    period_days: int,
    noise_sd: float,
    may_raise: list[bool],
    max_change_pct: float = 30.0,
    days: int = TEST_DAYS,
    raise_pct=RAISE_PCT,
    horizon_days: float = HORIZON_DAYS,
    max_p_loss: float = 0.35,
    seed: int = 0,
) -> list[TestPlan | None]:
    """A plan per channel of the mix model (ChannelResult list), read in its periods: spend per period, the
    total outcome's noise per period, the test's days as periods. The money's rate is the spend-weighted mean
    of the channels' marginal returns: where the budget would otherwise go. `raise_pct` may be one per channel:
    a channel whose campaigns cannot all rise moves by the share its movable ones carry."""
    spend = np.array([c.current_spend for c in channels])
    marginal = np.array([c.marginal_roas.mean for c in channels])
    rate = float((spend * marginal).sum() / spend.sum()) if spend.sum() > 0 else 1.0
    raises = np.broadcast_to(np.asarray(raise_pct, dtype=float), (len(channels),))
    plans: list[TestPlan | None] = []
    for i, channel in enumerate(channels):
        if not may_raise[i] or channel.current_spend <= 0 or raises[i] <= 0:
            plans.append(None)
            continue
        cap = max_change_pct / 100.0
        plans.append(
            plan_test(
                channel.draws.value,
                index=i,
                spend=float(channel.current_spend),
                noise_sd=noise_sd,
                lower=channel.current_spend * (1 - cap),
                upper=channel.current_spend * (1 + cap),
                rate=rate,
                periods=days / period_days,
                horizon=horizon_days / period_days,
                raise_pct=float(raises[i]),
                max_p_loss=max_p_loss,
                seed=seed + i,
            )
        )
    return plans
