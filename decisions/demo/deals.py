"""The demo's CRM: a HubSpot deals export behind the simulated pipeline, with the loose ends real exports have.

Each campaign-day's simulated pipeline becomes one deal named by the campaign's id (most) or its exact name
(every fifth campaign), so the pipeline the engine reads is derived from deals, cent for cent. Some older
deals are won or lost; won ones close where the simulated CRM has already reported closed revenue (that
figure, supplied beside the deals, is kept). On top come deals a real export carries that match no campaign:
a webinar nobody mapped, a campaign written as a utm_campaign value, a typo, and deals with no campaign at all,
so the Data page's deals view has a match rate to show and names to alias.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from decisions.data.deal_matching import utm_form
from decisions.engine.simulator import CLOSE_LAG_DAYS, SimHistory, World

HEADER = [
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Amount",
    "Create Date",
    "Close Date",
    "Pipeline",
    "Original Source",
    "Original Source Drill-Down 2",
]
OPEN_STAGES = ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Contract Sent")
FILENAME = "demo-hubspot-deals.csv"


def _us_date(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def demo_deals_csv(world: World, history: SimHistory, *, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    last_close = history.dates[-1] - timedelta(days=CLOSE_LAG_DAYS)
    record = 10_000
    for i, campaign in enumerate(world.campaigns):
        reference = campaign.name if i % 5 == 4 and campaign.name else campaign.external_id
        for j, day in enumerate(history.dates):
            amount = round(float(history.pipeline_value[i, j]), 2)
            if amount <= 0:
                continue
            record += 1
            stage, closed = _stage(rng, day, last_close)
            writer.writerow(
                [
                    record,
                    _account(record),
                    stage,
                    f"${amount:,.2f}",
                    f"{day.isoformat()} 10:00",
                    closed,
                    "Sales Pipeline",
                    "Paid Search",
                    reference,
                ]
            )
    for reference, amount in _loose_ends(world):
        for j, day in enumerate(history.dates[::3]):
            record += 1
            writer.writerow(
                [
                    record,
                    _account(record),
                    rng.choice(OPEN_STAGES),
                    f"{amount * (1 + (j % 4) / 10):,.2f}",
                    _us_date(day),
                    "",
                    "Sales Pipeline",
                    "Offline Sources" if not reference else "Paid Search",
                    reference,
                ]
            )
    return out.getvalue().encode()


ACCOUNTS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne")


def _account(record: int) -> str:
    return f"{ACCOUNTS[record % len(ACCOUNTS)]} #{record % 997} – new business"


def _stage(rng: random.Random, day: date, last_close: date) -> tuple[str, str]:
    close = day + timedelta(days=rng.randint(14, 28))
    if close <= last_close:
        roll = rng.random()
        if roll < 0.35:
            return "Closed Won", _us_date(close)
        if roll < 0.6:
            return "Closed Lost", _us_date(close)
    return rng.choice(OPEN_STAGES), ""


def _loose_ends(world: World) -> list[tuple[str, float]]:
    """References a real export carries that name no campaign, with a typical amount each."""
    names = [c.name for c in world.campaigns if c.name]
    ends = [("Spring webinar - EMEA", 900.0), ("Partner referral", 1500.0), ("", 600.0)]
    if len(names) > 2:
        ends.append((utm_form(names[1]), 400.0))  # the campaign written as a utm_campaign value
        ends.append((names[2][:-1] + names[2][-1].swapcase() + "s", 300.0))  # a typo
    return ends
