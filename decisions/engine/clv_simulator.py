"""Simulated customers with known purchase rates, dropout and spend: the truth the lifetime value model is
tested and benchmarked against. Customers behave exactly as BG/NBD and Gamma-Gamma assume, so a fit should find
the parameters it was given, and predictions from the true parameters are the best any model can do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decisions.engine.clv import PurchaseParams, SpendParams


@dataclass(frozen=True)
class Transactions:
    customer_ids: np.ndarray
    days: np.ndarray
    amounts: np.ndarray


def simulate(
    purchases: PurchaseParams,
    spend: SpendParams,
    *,
    end_day: int,
    customers: int = 0,
    acquisition_days: int = 1,
    first_days: np.ndarray | None = None,
    seed: int = 0,
    first_customer: int = 0,
) -> Transactions:
    """Customers acquired evenly over days 0 … acquisition_days − 1 (or on the given `first_days`, one customer
    each), buying until `end_day` (inclusive).

    Each customer buys at a rate λ ~ Gamma(r, α) per day while alive, may drop out after each repeat purchase
    with probability p ~ Beta(a, b), and spends per purchase ~ Gamma(p, ν) around a mean ν ~ Gamma(q, γ).
    """
    rng = np.random.default_rng(seed)
    if first_days is not None:
        customers = len(first_days)
    ids = np.arange(first_customer, first_customer + customers)
    rate = rng.gamma(purchases.r, 1.0 / purchases.alpha, customers)
    dropout = rng.beta(purchases.a, purchases.b, customers)
    spend_scale = rng.gamma(spend.q, 1.0 / spend.gamma, customers)  # ν: a customer's rate of the gamma spend
    first = rng.integers(0, acquisition_days, customers) if first_days is None else np.asarray(first_days)
    who, when = [ids], [first.astype(float)]
    clock = first.astype(float)
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        clock = np.where(alive, clock + rng.exponential(1.0 / np.maximum(rate, 1e-12)), clock)
        alive &= clock <= end_day + 1  # a purchase on day d happens at a time in [d, d + 1)
        who.append(ids[alive])
        when.append(clock[alive])
        alive &= rng.random(customers) >= dropout
    customer_ids = np.concatenate(who)
    days = np.floor(np.concatenate(when)).astype(np.int64)
    inside = days <= end_day
    customer_ids, days = customer_ids[inside], days[inside]
    amounts = rng.gamma(spend.p, 1.0 / spend_scale[customer_ids - first_customer])
    order = np.lexsort((days, customer_ids))
    return Transactions(customer_ids[order], days[order], np.round(amounts[order], 2))
