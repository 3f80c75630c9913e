"""The demo's shop: customers the campaigns acquired and what they bought since, as a transactions export.

Each campaign-day acquires about one in seven of its platform conversions as new customers (so acquisitions follow
spend as conversions do), named on their first purchase. How long they stay depends on the channel: search and
LinkedIn bring customers who come back, social and display bring one-off buyers chasing an offer. So the
customer lifetime value objective ranks campaigns differently from pipeline, which is what the demo shows.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np

from decisions.engine.clv import PurchaseParams, SpendParams
from decisions.engine.clv_simulator import simulate
from decisions.engine.simulator import SimHistory, World

FILENAME = "demo-transactions.csv"
CUSTOMERS_PER_CONVERSION = 0.15
LOYAL = PurchaseParams(r=0.9, alpha=60.0, a=0.6, b=4.0)  # a purchase every two months or so, few drop out
ONE_OFF = PurchaseParams(r=0.3, alpha=90.0, a=1.2, b=1.0)  # rarely back; most who are soon drop out
CHANNEL_CUSTOMERS = {"search": LOYAL, "linkedin": LOYAL, "video": PurchaseParams(r=0.5, alpha=70.0, a=0.9, b=2.0)}
SPEND = SpendParams(p=5.0, q=4.0, gamma=30.0)  # about $50 a purchase


def demo_transactions_csv(world: World, history: SimHistory, *, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer_id", "date", "amount", "campaign_id"])
    end_day = len(history.dates) - 1
    next_customer = 100_000
    for i, campaign in enumerate(world.campaigns):
        acquired = rng.poisson(np.nan_to_num(history.platform_conversions[i]) * CUSTOMERS_PER_CONVERSION)
        first_days = np.repeat(np.arange(len(history.dates)), acquired)
        if not len(first_days):
            continue
        bought = simulate(
            CHANNEL_CUSTOMERS.get(campaign.channel, ONE_OFF),
            SPEND,
            end_day=end_day,
            first_days=first_days,
            seed=seed * 1000 + i,
            first_customer=next_customer,
        )
        first_purchase = np.r_[True, bought.customer_ids[1:] != bought.customer_ids[:-1]]
        for customer, day, amount, first in zip(
            bought.customer_ids, bought.days, bought.amounts, first_purchase, strict=True
        ):
            when = history.dates[0] + timedelta(days=int(day))
            writer.writerow([f"C{customer}", when.isoformat(), f"{amount:.2f}", campaign.external_id if first else ""])
        next_customer += len(first_days)
    return out.getvalue().encode()
