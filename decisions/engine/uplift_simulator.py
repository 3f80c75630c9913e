"""A simulated randomised e-mail test with known per-customer effects, for the tests, the benchmark and the demo.

Customers of a retailer are sent one of four arms at random: no e-mail (the control), a men's e-mail, a women's
e-mail, or a 20%-off discount. Each customer buys with a probability that depends on their attributes and the arm;
a purchase is worth a Gamma-distributed amount (mean $100, $80 with the discount). The effects differ by audience,
and some hurt:

- the men's e-mail lifts purchases of customers who bought men's items, more above 40; it puts off those under 25;
- the women's e-mail lifts those who bought women's items, more the longer they have been customers;
- the discount wins back lapsed customers (no purchase for 180 days or more) but, for recent buyers who would
  have bought anyway, the 20% it gives away costs more than the purchases it adds.

`true_uplift` gives each customer's expected incremental revenue per arm, so a policy can be valued exactly.
Pure numpy, deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decisions.engine.uplift import Attribute, Trial

CONTROL = "No e-mail"
ACTIONS = ("Mens e-mail", "Womens e-mail", "Discount 20%")
ARMS = (CONTROL, *ACTIONS)
MEAN_AMOUNT = 100.0
DISCOUNT = 0.8
REGIONS = ("North", "South", "East", "West")
BOUGHT = ("Mens", "Womens", "Both")
CHANNELS = ("Web", "Phone", "Multichannel")


@dataclass(frozen=True)
class Customers:
    age: np.ndarray
    tenure_months: np.ndarray
    days_since_purchase: np.ndarray
    region: np.ndarray
    bought: np.ndarray
    channel: np.ndarray
    newsletter: np.ndarray  # irrelevant to every effect: a tree that splits on it is fitting noise

    def attributes(self) -> tuple[Attribute, ...]:
        return (
            Attribute("age", self.age, True),
            Attribute("tenure_months", self.tenure_months, True),
            Attribute("days_since_purchase", self.days_since_purchase, True),
            Attribute("region", self.region, False),
            Attribute("bought", self.bought, False),
            Attribute("channel", self.channel, False),
            Attribute("newsletter", self.newsletter, False),
        )

    def columns(self) -> dict[str, np.ndarray]:
        return {a.name: a.values for a in self.attributes()}


def make_customers(n: int, rng: np.random.Generator) -> Customers:
    return Customers(
        age=rng.integers(18, 76, n).astype(float),
        tenure_months=np.minimum(rng.exponential(24, n).round(), 120),
        days_since_purchase=rng.integers(0, 721, n).astype(float),
        region=rng.choice(REGIONS, n),
        bought=rng.choice(BOUGHT, n, p=[0.4, 0.4, 0.2]),
        channel=rng.choice(CHANNELS, n, p=[0.45, 0.35, 0.2]),
        newsletter=rng.choice(("Yes", "No"), n),
    )


def purchase_probabilities(customers: Customers) -> np.ndarray:
    """n × arms: each customer's chance to buy under each arm (the control first)."""
    recent = customers.days_since_purchase < 90
    lapsed = customers.days_since_purchase >= 180
    base = 0.06 + 0.08 * recent + 0.02 * (customers.channel == "Multichannel")
    likes_mens = np.isin(customers.bought, ("Mens", "Both"))
    likes_womens = np.isin(customers.bought, ("Womens", "Both"))
    mens = likes_mens * (0.025 + 0.03 * (customers.age >= 40)) - 0.02 * (customers.age < 25)
    womens = likes_womens * (0.02 + 0.0006 * customers.tenure_months) - 0.005 * ~likes_womens
    discount = 0.075 * lapsed + 0.01 * ~lapsed
    lifts = np.column_stack([np.zeros_like(base), mens, womens, discount])
    return np.clip(base[:, None] + lifts, 0.0, 1.0)


def expected_revenue(customers: Customers) -> np.ndarray:
    """n × arms: expected revenue per customer under each arm."""
    amounts = np.array([MEAN_AMOUNT, MEAN_AMOUNT, MEAN_AMOUNT, MEAN_AMOUNT * DISCOUNT])
    return purchase_probabilities(customers) * amounts


def true_uplift(customers: Customers) -> np.ndarray:
    """n × actions: each action's expected incremental revenue over no e-mail."""
    revenue = expected_revenue(customers)
    return revenue[:, 1:] - revenue[:, [0]]


@dataclass(frozen=True)
class SimulatedTrial:
    trial: Trial
    customers: Customers
    truth: np.ndarray  # n × actions, true_uplift


def make_trial(n: int, *, seed: int = 0, shuffle_arms: bool = False) -> SimulatedTrial:
    """A test of n customers, arms at random in equal shares. `shuffle_arms`: the outcomes are drawn, then the
    arm labels shuffled among customers: the negative control, where no action truly does anything."""
    rng = np.random.default_rng(seed)
    customers = make_customers(n, rng)
    arm_index = rng.integers(0, len(ARMS), n)
    chance = purchase_probabilities(customers)[np.arange(n), arm_index]
    bought = rng.random(n) < chance
    amount = rng.gamma(2.0, MEAN_AMOUNT / 2.0, n) * np.where(arm_index == 3, DISCOUNT, 1.0)
    revenue = np.round(bought * amount, 2)
    if shuffle_arms:
        arm_index = rng.permutation(arm_index)
    arms = np.array(ARMS, dtype=object)[arm_index].astype(str)
    trial = Trial(arms=arms, outcome=revenue, control=CONTROL, attributes=customers.attributes())
    return SimulatedTrial(trial=trial, customers=customers, truth=true_uplift(customers))
