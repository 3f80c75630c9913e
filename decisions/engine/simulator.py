"""A simulated advertising world with known truth, for the demo, the tests and the benchmarks.

Every campaign has a hidden response curve (spend/day → pipeline value/day)
and a second curve for what its ad platform *reports* (platform revenue).
On "trap" campaigns the two disagree: the platform claims a high ROAS while
the business sees little pipeline, and what little it sees is saturated.
An engine that optimises the platform's numbers loses money here, which is
exactly the lesson the demo must be able to teach.

Some campaigns can be *demand-limited* (`make_world(limited_share=…)`): a
hidden spend ceiling (a search campaign runs out of queries) caps what they
spend whatever the budget, spend = min(budget, ceiling × day's demand). Search
campaigns report Google's impression-share figures consistent with that: a
demand-limited one loses impressions to rank, not budget; one its budget holds
back loses the rest to budget.

Pure numpy: no Django, no database, deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

# Closed revenue arrives from the CRM about a month after the pipeline it
# came from; younger days have no closed figure yet (NULL, not zero).
CLOSE_LAG_DAYS = 30

# B2B demand is a weekday thing (Monday = index 0). Both are scaled to mean 1
# so the weekly average of a day equals the curve's value.
_VALUE_WEEKDAY = np.array([1.10, 1.14, 1.12, 1.06, 0.96, 0.78, 0.84])
VALUE_SEASONALITY = _VALUE_WEEKDAY / _VALUE_WEEKDAY.mean()
# Platforms pace spend a little lower at weekends, when auctions are thinner.
_SPEND_WEEKDAY = np.array([1.02, 1.02, 1.02, 1.01, 1.00, 0.96, 0.97])
SPEND_SEASONALITY = _SPEND_WEEKDAY / _SPEND_WEEKDAY.mean()

# How far historical budgets wandered around today's budget, per mode.
_VARIATION = {"high": (0.50, 1.50), "low": (0.97, 1.03)}

# Seeds for independent random streams, so adding a draw to one stream does
# not change the numbers of another.
_STREAM_WORLD, _STREAM_HISTORY, _STREAM_DAYS = 11, 23, 37
# Demand limits and search delivery figures draw from their own streams, so a
# world without limits simulates exactly the numbers it did before they existed.
_STREAM_LIMITS, _STREAM_DELIVERY = 41, 43

# A demand-limited campaign's daily demand wobbles this much (lognormal sd)
# around its ceiling; platforms' own pacing keeps it steadier than outcomes.
DEMAND_NOISE = 0.08
# Search campaigns that are not demand-limited could spend this multiple of
# today's budget: above the highest historical budget (1.5×, with delivery
# 1.05×), so their budget binds every day and impressions are lost to it.
BUDGET_LIMITED_DEMAND = 1.8
# Google shows "Limited by budget" when the budget costs more than this share of impressions.
LIMITED_STATUS_LOST_IS = 0.05


@dataclass(frozen=True)
class ResponseCurve:
    """Hill curve: value/day = ceiling * s**shape / (s**shape + half_saturation**shape)."""

    ceiling: float
    half_saturation: float
    shape: float = 1.0

    def value(self, spend):
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        s_k = s**self.shape
        return self.ceiling * s_k / (s_k + self.half_saturation**self.shape)

    def marginal(self, spend):
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        k, h = self.shape, self.half_saturation
        r = (s / h) ** k
        # d/ds C r / (1 + r) with r = (s/h)^k is C k r / (s (1 + r)^2); at s = 0
        # that limit is C/h for k = 1, 0 for k > 1 and unbounded for k < 1.
        at_zero = self.ceiling / h if k == 1 else (0.0 if k > 1 else np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = self.ceiling * k * r / (s * (1 + r) ** 2)
        return np.where(s > 0, slope, at_zero)

    def inflection(self) -> float:
        """Spend where the marginal return peaks (0 unless the curve is S-shaped)."""
        k = self.shape
        return 0.0 if k <= 1 else self.half_saturation * ((k - 1) / (k + 1)) ** (1 / k)


@dataclass(frozen=True)
class SimCampaign:
    external_id: str
    name: str
    channel: str
    platform: str
    audience: str
    tags: tuple[str, ...]
    daily_budget: float
    pipeline_curve: ResponseCurve
    platform_curve: ResponseCurve
    value_per_conversion: float
    cpc: float
    ctr: float
    pipeline_per_lead: float
    close_rate: float
    noise: float
    # Hidden truth, like the curves: never written to the database.
    is_trap: bool = False
    spend_ceiling: float | None = None  # spend/day demand allows (None: the budget always binds)
    demand_noise: float = DEMAND_NOISE  # lognormal sd of the day's demand around the ceiling
    lost_to_rank: float = 0.0  # search only: share of impressions lost to ad rank

    @property
    def reports_impression_share(self) -> bool:
        return self.channel == "search"


@dataclass(frozen=True)
class World:
    campaigns: tuple[SimCampaign, ...]
    seed: int

    @property
    def budgets(self) -> np.ndarray:
        return np.array([c.daily_budget for c in self.campaigns])

    @property
    def external_ids(self) -> tuple[str, ...]:
        return tuple(c.external_id for c in self.campaigns)


@dataclass(frozen=True)
class SimHistory:
    """Column arrays of shape (n_campaigns, days); row i belongs to world.campaigns[i]."""

    dates: tuple[date, ...]
    spend: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    platform_conversions: np.ndarray
    platform_revenue: np.ndarray
    leads: np.ndarray
    pipeline_value: np.ndarray
    closed_revenue: np.ndarray  # np.nan where the CRM has not closed the day yet
    budgets: np.ndarray | None = None  # the daily budget in force each day
    # Search campaigns' delivery figures (0–1 shares, NaN for other channels) and the platform's
    # "Limited by budget" status (1/0, NaN where not reported).
    impression_share: np.ndarray | None = None
    lost_is_budget: np.ndarray | None = None
    lost_is_rank: np.ndarray | None = None
    limited_by_budget: np.ndarray | None = None

    def delivery_rows(self, world: World) -> Iterator[dict]:
        """Per campaign-day: the budget in force and, for search, impression share and what was lost to what."""
        for i, campaign in enumerate(world.campaigns):
            for j, day in enumerate(self.dates):
                yield {
                    "date": day,
                    "campaign_id": campaign.external_id,
                    "daily_budget": None if self.budgets is None else round(float(self.budgets[i, j]), 2),
                    "impression_share": _share_or_none(self.impression_share, i, j),
                    "lost_is_budget": _share_or_none(self.lost_is_budget, i, j),
                    "lost_is_rank": _share_or_none(self.lost_is_rank, i, j),
                    "limited_by_budget": (
                        None
                        if self.limited_by_budget is None or np.isnan(self.limited_by_budget[i, j])
                        else bool(self.limited_by_budget[i, j])
                    ),
                }

    def rows(self, world: World) -> Iterator[dict]:
        for i, campaign in enumerate(world.campaigns):
            for j, day in enumerate(self.dates):
                closed = self.closed_revenue[i, j]
                yield {
                    "date": day,
                    "campaign_id": campaign.external_id,
                    "spend": round(float(self.spend[i, j]), 2),
                    "impressions": int(self.impressions[i, j]),
                    "clicks": int(self.clicks[i, j]),
                    "platform_conversions": float(self.platform_conversions[i, j]),
                    "platform_revenue": round(float(self.platform_revenue[i, j]), 2),
                    "leads": round(float(self.leads[i, j]), 2),
                    "pipeline_value": round(float(self.pipeline_value[i, j]), 2),
                    "closed_revenue": None if np.isnan(closed) else round(float(closed), 2),
                }


def _share_or_none(values: np.ndarray | None, i: int, j: int) -> float | None:
    return None if values is None or np.isnan(values[i, j]) else round(float(values[i, j]), 4)


# --- building a world ---------------------------------------------------------

# (channel, platform, audience, name stem, tags). Trap templates are the
# retargeting placements whose platforms take credit for conversions that
# would have happened anyway.
_HEALTHY = (
    ("search", "google_ads", "in_market", "Search – Non-brand", ()),
    ("search", "google_ads", "brand_searchers", "Search – Brand", ("brand",)),
    ("social", "meta", "prospects", "Social – Prospecting", ()),
    ("linkedin", "linkedin", "b2b_decision_makers", "LinkedIn – Decision makers", ()),
    ("search", "microsoft_ads", "in_market", "Bing – Non-brand", ()),
    ("linkedin", "linkedin", "account_list", "LinkedIn – ABM accounts", ()),
    ("video", "youtube", "prospects", "YouTube – Awareness", ()),
    ("social", "meta", "lookalike_sensitive", "Social – Lookalikes", ()),
)
_TRAP = (
    ("display", "dv360", "retargeting", "Display – Retargeting", ("retargeting",)),
    ("video", "dv360", "retargeting", "Video – Retargeting", ("retargeting",)),
    ("social", "meta", "retargeting", "Social – Retargeting", ("retargeting",)),
)


def make_world(
    n_campaigns: int = 40,
    seed: int = 1,
    *,
    trap_share: float = 0.25,
    limited_share: float = 0.0,
    limited_ceiling: tuple[float, float] = (0.55, 0.9),
) -> World:
    """A world; `limited_share` of its healthy campaigns are demand-limited, each able to spend a random
    share in `limited_ceiling` of today's budget."""
    rng = np.random.default_rng([seed, _STREAM_WORLD])
    n_trap = int(round(n_campaigns * trap_share))
    templates = [(_TRAP[i % len(_TRAP)], True) for i in range(n_trap)]
    templates += [(_HEALTHY[i % len(_HEALTHY)], False) for i in range(n_campaigns - n_trap)]
    # Shuffle so the traps do not all sit at the start of every list.
    order = rng.permutation(n_campaigns)
    campaigns = [_make_campaign(rng, number, *templates[index]) for number, index in enumerate(order, start=1)]
    limits = np.random.default_rng([seed, _STREAM_LIMITS])
    rank = limits.uniform(0.1, 0.5, n_campaigns)
    campaigns = [
        replace(c, lost_to_rank=float(rank[i]) if c.reports_impression_share else 0.0) for i, c in enumerate(campaigns)
    ]
    healthy = [i for i, c in enumerate(campaigns) if not c.is_trap]
    # Search campaigns run out of queries most often: three times as likely to be the limited ones.
    weight = np.array([3.0 if campaigns[i].reports_impression_share else 1.0 for i in healthy])
    count = min(int(round(n_campaigns * limited_share)), len(healthy))
    chosen = limits.choice(healthy, size=count, replace=False, p=weight / weight.sum()) if count else []
    shares = limits.uniform(*limited_ceiling, len(chosen))
    ceilings = {
        campaigns[i].external_id: campaigns[i].daily_budget * float(f) for i, f in zip(chosen, shares, strict=True)
    }
    return with_ceilings(World(campaigns=tuple(campaigns), seed=seed), ceilings)


def with_ceilings(world: World, ceilings: dict[str, float | None], *, demand_noise: float = DEMAND_NOISE) -> World:
    """The same world with these campaigns' spend ceilings (spend/day demand allows) set or cleared;
    `demand_noise` 0 makes their spend sit flat at the ceiling."""
    unknown = set(ceilings) - set(world.external_ids)
    if unknown:
        raise KeyError(f"not campaigns of this world: {sorted(unknown)}")
    campaigns = tuple(
        replace(c, spend_ceiling=ceilings[c.external_id], demand_noise=demand_noise) if c.external_id in ceilings else c
        for c in world.campaigns
    )
    return replace(world, campaigns=campaigns)


def _make_campaign(rng: np.random.Generator, number: int, template, trap: bool) -> SimCampaign:
    channel, platform, audience, stem, tags = template
    budget = float(np.round(np.exp(rng.uniform(np.log(40), np.log(600))), 0))
    pipeline, reported = _trap_curves(rng, budget) if trap else _healthy_curves(rng, budget, channel)
    cpc = float(rng.uniform(0.4, 1.5) if channel in ("display", "video") else rng.uniform(1.5, 9.0))
    return SimCampaign(
        external_id=f"SIM-{number:04d}",
        name=f"{stem} #{number}",
        channel=channel,
        platform=platform,
        audience=audience,
        tags=tags,
        daily_budget=budget,
        pipeline_curve=pipeline,
        platform_curve=reported,
        value_per_conversion=float(np.round(rng.uniform(30, 250), 2)),
        cpc=cpc,
        ctr=float(rng.uniform(0.002, 0.01) if channel in ("display", "video") else rng.uniform(0.01, 0.06)),
        pipeline_per_lead=float(np.round(rng.uniform(300, 2500), 0)),
        close_rate=float(rng.uniform(0.12, 0.35)),
        noise=float(rng.uniform(0.15, 0.35)),
        is_trap=trap,
    )


def _curve_through(budget: float, *, roas: float, saturation: float, shape: float) -> ResponseCurve:
    """A curve whose average return at today's budget is `roas`.

    `saturation` = budget / half_saturation: above 1 the campaign already sits
    on the flat part of its curve, below 1 it still has room to grow.
    """
    half = budget / saturation
    fraction = budget**shape / (budget**shape + half**shape)
    return ResponseCurve(ceiling=roas * budget / fraction, half_saturation=half, shape=shape)


def _healthy_curves(rng, budget: float, channel: str) -> tuple[ResponseCurve, ResponseCurve]:
    shape = float(rng.uniform(1.0, 1.3))
    saturation = np.exp(rng.uniform(np.log(0.3), np.log(3.0)))
    pipeline = _curve_through(budget, roas=rng.uniform(2.0, 6.0), saturation=saturation, shape=shape)
    # Platforms see only the part of the journey they touch; LinkedIn, with its
    # long B2B cycles, sees least of all (the inverse trap: under-reported).
    seen = rng.uniform(0.1, 0.3) if channel == "linkedin" else rng.uniform(0.4, 0.9)
    reported = ResponseCurve(
        ceiling=pipeline.ceiling * seen,
        half_saturation=pipeline.half_saturation * rng.uniform(0.8, 1.25),
        shape=shape,
    )
    return pipeline, reported


def _trap_curves(rng, budget: float) -> tuple[ResponseCurve, ResponseCurve]:
    # Real pipeline: poor and already saturated (retargeting people who were
    # going to convert anyway). Reported revenue: generous and still growing.
    pipeline = _curve_through(budget, roas=rng.uniform(0.3, 0.9), saturation=rng.uniform(2.5, 6.0), shape=1.0)
    reported = _curve_through(budget, roas=rng.uniform(4.0, 9.0), saturation=rng.uniform(0.4, 0.9), shape=1.0)
    return pipeline, reported


# --- simulating days ------------------------------------------------------------


def _budget_paths(rng, world: World, days: int, spend_variation: str) -> np.ndarray:
    """Daily budgets per campaign: piecewise constant, ending at today's budget."""
    if spend_variation not in _VARIATION:
        raise ValueError(f"spend_variation must be one of {sorted(_VARIATION)}, not {spend_variation!r}")
    low, high = _VARIATION[spend_variation]
    budgets = world.budgets
    paths = np.empty((len(budgets), days))
    for i, budget in enumerate(budgets):
        day = days
        factor = 1.0  # the most recent stretch runs at today's budget
        while day > 0:
            length = int(rng.integers(7, 22))
            paths[i, max(0, day - length) : day] = budget * factor
            day -= length
            factor = float(rng.uniform(low, high))
    return paths


def _simulate(rng, world: World, budgets: np.ndarray, dates: tuple[date, ...], as_of: date) -> SimHistory:
    n, days = budgets.shape
    weekdays = np.array([d.weekday() for d in dates])

    # Platforms under-deliver a little and wobble day to day; a budget of 0 is
    # a paused campaign and spends nothing.
    delivery = np.clip(rng.normal(0.96, 0.05, size=(n, days)), 0.7, 1.05)
    wanted = budgets * delivery * SPEND_SEASONALITY[weekdays]
    # What demand would let each campaign spend that day (inf: more than any budget).
    aux = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
    limit, potential = _demand(aux, world, budgets, weekdays)
    spend = np.round(np.minimum(wanted, limit), 2)

    sigma = np.array([c.noise for c in world.campaigns])[:, None]
    pipeline = _curves(world, spend, "pipeline_curve") * VALUE_SEASONALITY[weekdays] * _lognormal(rng, sigma, n, days)
    pipeline = np.round(pipeline, 2)
    reported = _curves(world, spend, "platform_curve") * VALUE_SEASONALITY[weekdays] * _lognormal(rng, sigma, n, days)

    per_conversion = np.array([c.value_per_conversion for c in world.campaigns])[:, None]
    conversions = rng.poisson(reported / per_conversion).astype(float)
    platform_revenue = np.round(conversions * per_conversion, 2)

    cpc = np.array([c.cpc for c in world.campaigns])[:, None]
    ctr = np.array([c.ctr for c in world.campaigns])[:, None]
    clicks = rng.poisson(spend / cpc)
    impressions = rng.poisson(clicks / ctr * _lognormal(rng, 0.1, n, days)) + clicks

    per_lead = np.array([c.pipeline_per_lead for c in world.campaigns])[:, None]
    leads = np.round(pipeline / per_lead, 2)

    close_rate = np.array([c.close_rate for c in world.campaigns])[:, None]
    closed = np.round(pipeline * close_rate * _lognormal(rng, 0.3, n, days), 2)
    age = np.array([(as_of - d).days for d in dates])
    closed = np.where(age >= CLOSE_LAG_DAYS, closed, np.nan)

    share, lost_budget, lost_rank, limited = _search_delivery(aux, world, spend, potential, budgets)
    return SimHistory(
        dates=dates,
        impression_share=share,
        lost_is_budget=lost_budget,
        lost_is_rank=lost_rank,
        limited_by_budget=limited,
        spend=spend,
        impressions=impressions.astype(np.int64),
        clicks=clicks.astype(np.int64),
        platform_conversions=conversions,
        platform_revenue=platform_revenue,
        leads=leads,
        pipeline_value=pipeline,
        closed_revenue=closed,
        budgets=budgets,
    )


def _demand(rng, world: World, budgets: np.ndarray, weekdays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per campaign-day, (the spend demand allows, the spend search could find).

    The first caps spend: ceiling × noise for demand-limited campaigns, inf for
    the rest. The second feeds the impression-share figures: the same for
    limited campaigns, BUDGET_LIMITED_DEMAND × today's budget for the rest, which
    no budget path reaches, so their budget binds and impressions go to it.
    """
    n, days = budgets.shape
    sigma = np.array([c.demand_noise for c in world.campaigns])[:, None]
    noise = np.exp(rng.normal(-(sigma**2) / 2, sigma, size=(n, days))) * SPEND_SEASONALITY[weekdays]
    ceiling = spend_ceilings(world)[:, None]
    limit = np.where(np.isfinite(ceiling), ceiling * noise, np.inf)
    potential = np.where(np.isfinite(ceiling), limit, BUDGET_LIMITED_DEMAND * world.budgets[:, None] * noise)
    return limit, potential


def _search_delivery(rng, world: World, spend, potential, budgets):
    """Impression share and the shares lost to budget and to rank, for search campaigns (NaN elsewhere).

    Of the impressions a campaign was eligible for, `lost_to_rank` go to better ads whatever the budget;
    of the rest, the budget serves spend/demand and loses the remainder. The three add up to 1.
    """
    n, days = spend.shape
    search = np.array([c.reports_impression_share for c in world.campaigns])[:, None]
    rank = np.array([c.lost_to_rank for c in world.campaigns])[:, None]
    rank = np.clip(rank + rng.normal(0.0, 0.02, size=(n, days)), 0.0, 0.95)
    with np.errstate(divide="ignore", invalid="ignore"):
        served = np.where(budgets > 0, np.clip(spend / potential, 0.0, 1.0), 0.0)
    # Days at a demand limit serve everything: rounding of spend must not read as a budget loss.
    served = np.where(served > 0.995, 1.0, served)
    share = np.round((1 - rank) * served, 4)
    lost_budget = np.round((1 - rank) * (1 - served), 4)
    lost_rank = np.round(1 - share - lost_budget, 4)
    limited = (lost_budget > LIMITED_STATUS_LOST_IS).astype(float)
    nan = np.full((n, days), np.nan)
    return (np.where(search, a, nan) for a in (share, lost_budget, lost_rank, limited))


def _curves(world: World, spend: np.ndarray, which: str) -> np.ndarray:
    return np.vstack([getattr(c, which).value(spend[i]) for i, c in enumerate(world.campaigns)])


def _lognormal(rng, sigma, n: int, days: int) -> np.ndarray:
    # Mean-one multiplicative noise, so noise never biases the expected value.
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (n, 1))
    return np.exp(rng.normal(-(sigma**2) / 2, sigma, size=(n, days)))


def _date_range(start: date, days: int) -> tuple[date, ...]:
    return tuple(start + timedelta(days=k) for k in range(days))


def simulate_history(
    world: World,
    *,
    days: int = 180,
    end_date: date | None = None,
    spend_variation: str = "high",
    seed: int | None = None,
) -> SimHistory:
    """The past `days` days up to `end_date` (default yesterday), budgets moving as the mode says."""
    if end_date is None:
        end_date = date.today() - timedelta(days=1)
    rng = np.random.default_rng([world.seed if seed is None else seed, _STREAM_HISTORY])
    budgets = _budget_paths(rng, world, days, spend_variation)
    dates = _date_range(end_date - timedelta(days=days - 1), days)
    return _simulate(rng, world, budgets, dates, as_of=end_date)


def simulate_days(
    world: World, *, budgets: dict[str, float], start_date: date, days: int, seed: int | None = None
) -> SimHistory:
    """The days after a budget change: spend follows the new budgets (missing ids keep today's)."""
    unknown = set(budgets) - set(world.external_ids)
    if unknown:
        raise KeyError(f"not campaigns of this world: {sorted(unknown)}")
    row = np.array([float(budgets.get(c.external_id, c.daily_budget)) for c in world.campaigns])
    if (row < 0).any():
        raise ValueError("budgets must not be negative")
    # Different start dates give different noise, the same start date the same.
    rng = np.random.default_rng([world.seed if seed is None else seed, _STREAM_DAYS, start_date.toordinal()])
    dates = _date_range(start_date, days)
    return _simulate(rng, world, np.repeat(row[:, None], days, axis=1), dates, as_of=dates[-1])


# --- the yardstick --------------------------------------------------------------


def _hill_arrays(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    curves = [c.pipeline_curve for c in world.campaigns]
    return (
        np.array([c.ceiling for c in curves]),
        np.array([c.half_saturation for c in curves]),
        np.array([c.shape for c in curves]),
    )


def spend_ceilings(world: World) -> np.ndarray:
    """Per campaign, the spend/day demand allows (inf where the budget always binds)."""
    return np.array([np.inf if c.spend_ceiling is None else c.spend_ceiling for c in world.campaigns])


def effective_spend(world: World, budgets: np.ndarray) -> np.ndarray:
    """What each budget buys: min(budget, ceiling). The yardstick takes the ceiling as the day's demand (its
    wobble, DEMAND_NOISE, is ignored), so a budget above the ceiling buys exactly nothing more."""
    return np.minimum(np.maximum(np.asarray(budgets, dtype=float), 0.0), spend_ceilings(world))


def true_value(world: World, budgets: np.ndarray) -> float:
    """Expected pipeline value per day if each campaign spent its budget, or what demand lets it
    (weekday-averaged)."""
    ceiling, half, shape = _hill_arrays(world)
    r = (effective_spend(world, budgets) / half) ** shape
    return float((ceiling * r / (1 + r)).sum())


def true_marginals(world: World, budgets: np.ndarray) -> np.ndarray:
    """d(pipeline/day) / d(spend/day) per campaign at these budgets."""
    ceiling, half, shape = _hill_arrays(world)
    s = np.maximum(np.asarray(budgets, dtype=float), 0.0)
    r = (s / half) ** shape
    at_zero = np.where(shape == 1, ceiling / half, np.where(shape > 1, 0.0, np.inf))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = ceiling * shape * r / (s * (1 + r) ** 2)
    return np.where(s > 0, slope, at_zero)


def oracle_budgets(
    world: World, *, total: float | None = None, lower: np.ndarray | None = None, upper: np.ndarray | None = None
) -> np.ndarray:
    """The best split of `total` (default: today's total) knowing the true curves.

    Equalises marginal returns by bisection on the common marginal, each
    campaign boxed in [lower, upper]; the benchmarks' upper bound on uplift.
    It knows the spend ceilings: budget above a ceiling buys nothing, so the
    search runs up to the ceiling and whatever no campaign can spend is
    parked where it does no harm (see `_park`).
    """
    current = world.budgets
    total = float(current.sum() if total is None else total)
    lower = np.zeros_like(current) if lower is None else np.asarray(lower, dtype=float)
    upper = np.full_like(current, total) if upper is None else np.asarray(upper, dtype=float)
    if lower.sum() > total or upper.sum() < total:
        raise ValueError("no allocation of this total fits the bounds")
    reach = np.clip(spend_ceilings(world), lower, upper)
    if reach.sum() <= total:
        return _park(reach, upper, total - reach.sum())
    return _oracle_within(world, total, lower, reach)


def _park(budgets: np.ndarray, upper: np.ndarray, amount: float) -> np.ndarray:
    """Spread money nobody can spend over the room left, in proportion to it (it buys nothing anywhere)."""
    room = upper - budgets
    return budgets + amount * room / room.sum() if room.sum() > 0 else budgets


def _oracle_within(world: World, total: float, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    # Past its inflection each curve's marginal falls with spend, so bisect
    # there for marginal == level; a campaign whose peak marginal is below
    # the level gets its lower bound.
    start = np.clip([c.pipeline_curve.inflection() for c in world.campaigns], lower, upper)

    def spend_at(level: float) -> np.ndarray:
        lo, hi = start.copy(), upper.copy()
        for _ in range(60):
            mid = (lo + hi) / 2
            above = true_marginals(world, mid) > level
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        worth_it = true_marginals(world, start) > level
        return np.where(worth_it, (lo + hi) / 2, lower)

    low_level, high_level = 0.0, float(true_marginals(world, start).max()) + 1.0
    for _ in range(60):
        level = (low_level + high_level) / 2
        if spend_at(level).sum() > total:
            low_level = level
        else:
            high_level = level
    return spend_at(high_level)
