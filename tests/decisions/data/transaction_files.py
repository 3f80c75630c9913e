"""Transactions CSVs for the tests: hand-written rows, or customers simulated with known behaviour."""

import datetime as dt

from decisions.engine.clv import PurchaseParams, SpendParams
from decisions.engine.clv_simulator import simulate

HEADER = "customer_id,date,amount,campaign_id"
START = dt.date(2026, 1, 1)


def csv_of(rows: list[list[str]], header: str = HEADER) -> bytes:
    return ("\n".join([header, *(",".join(row) for row in rows)]) + "\n").encode()


def simulated(campaigns: list[str], *, customers: int = 600, days: int = 120, seed: int = 0) -> bytes:
    """Customers spread over `campaigns` (each acquired by one, named on their first purchase), buying for `days`."""
    bought = simulate(
        PurchaseParams(r=0.6, alpha=30.0, a=0.8, b=2.5),
        SpendParams(p=5.0, q=4.0, gamma=30.0),
        customers=customers,
        acquisition_days=days // 2,
        end_day=days - 1,
        seed=seed,
    )
    rows, seen = [], set()
    for customer, day, amount in zip(bought.customer_ids, bought.days, bought.amounts, strict=True):
        campaign = campaigns[customer % len(campaigns)] if customer not in seen else ""
        seen.add(customer)
        rows.append([f"cust-{customer}", (START + dt.timedelta(days=int(day))).isoformat(), f"{amount:.2f}", campaign])
    return csv_of(rows)
