"""A totals world for the channel mix mode: campaigns per channel with their spend, and weekly outcome totals
with control variables, from decisions/engine/mix_simulator.py. Used by the demo (`seed_demo --mix`) and tests.

Writes only its own campaigns (ids MIX-…) and totals of source "totals"; the totals file it writes
(examples/totals.csv) is the same data an operator would import with `import_totals`.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from decisions.data.totals import SOURCE
from decisions.engine.mix_simulator import simulate_mix
from decisions.models import Campaign, DailyMetric, DailyTotal

MIX_PREFIX = "MIX-"  # the external ids of this world's campaigns
CAMPAIGNS_PER_CHANNEL = 2
SPLIT = (0.6, 0.4)


def mix_world(*, seed: int = 7, weeks: int = 104):
    return simulate_mix(seed=seed, periods=weeks, period_days=7)


def first_monday(end: dt.date, weeks: int) -> dt.date:
    last_sunday = end - dt.timedelta(days=(end.weekday() + 1) % 7)  # the last full week ends on or before `end`
    return last_sunday - dt.timedelta(days=6, weeks=weeks - 1)


@transaction.atomic
def seed_mix_world(
    *, end: dt.date, seed: int = 7, weeks: int = 104, daily: bool = True, metric: str = "closed_revenue"
):
    """Campaigns and spend (daily rows, or one row per campaign per week when not `daily`) and weekly totals."""
    world = mix_world(seed=seed, weeks=weeks)
    start = first_monday(end, weeks)
    campaigns = []
    for c, channel in enumerate(world.channels):
        weekly_now = world.spend[-1, c]
        for j, share in enumerate(SPLIT[:CAMPAIGNS_PER_CHANNEL]):
            campaign, _ = Campaign.objects.update_or_create(
                external_id=f"{MIX_PREFIX}{channel[:3].upper()}-{j + 1}",
                defaults={
                    "name": f"{channel} {'prospecting' if j == 0 else 'retargeting'}",
                    "channel": channel.lower(),
                    "platform": "ledger",
                    "daily_budget": Decimal(str(round(weekly_now * share / 7, 2))),
                },
            )
            campaigns.append((campaign, c, share))
    rows = []
    # Daily rows run on to `end` at the last week's spend: the days after the last full week have no total yet
    # (the model leaves them out), but a campaign that stopped reporting days ago would read as missing data.
    partial = (end - (start + dt.timedelta(weeks=weeks))).days + 1 if daily else 0
    for week in range(weeks + (partial > 0)):
        monday = start + dt.timedelta(weeks=week)
        for campaign, c, share in campaigns:
            amount = world.spend[min(week, weeks - 1), c] * share
            days = range(partial if week == weeks else 7) if daily else range(1)
            for offset in days:
                spend = amount / 7 if daily else amount
                # The platforms' own conversion counts (one per $40): evidence for the guardrails that ask for
                # conversions; the outcome itself is known only in total.
                rows.append(
                    DailyMetric(
                        campaign=campaign,
                        date=monday + dt.timedelta(days=offset),
                        spend=Decimal(f"{spend:.2f}"),
                        # Each week's budget is what the team set it to and spent: these campaigns are not idle.
                        daily_budget=Decimal(f"{amount / 7:.2f}"),
                        platform_conversions=float(spend // 40),
                    )
                )
    DailyMetric.objects.filter(campaign__in=[c for c, _, _ in campaigns]).delete()
    DailyMetric.objects.bulk_create(rows, batch_size=2000)
    DailyTotal.objects.filter(source=SOURCE).delete()
    others = _other_campaigns_weekly(start, weeks, exclude=[c for c, _, _ in campaigns], metric=metric)
    DailyTotal.objects.bulk_create(
        [
            DailyTotal(
                date=start + dt.timedelta(weeks=week),
                source=SOURCE,
                period_days=7,
                controls={name: round(float(world.controls[week, j]), 4) for j, name in enumerate(world.control_names)},
                **{metric: Decimal(f"{world.outcome[week] + others[week]:.2f}")},
            )
            for week in range(weeks)
        ]
    )
    return world, [c for c, _, _ in campaigns]


def _other_campaigns_weekly(start: dt.date, weeks: int, *, exclude, metric: str) -> list[float]:
    """What the other campaigns (the main demo's) brought each week: a total is the whole business's outcome."""
    sums = [0.0] * weeks
    rows = (
        DailyMetric.objects.filter(date__gte=start, date__lt=start + dt.timedelta(weeks=weeks))
        .exclude(campaign__in=exclude)
        .exclude(**{f"{metric}__isnull": True})
        .values_list("date", metric)
    )
    for day, value in rows:
        sums[(day - start).days // 7] += float(value)
    return sums


def write_totals_csv(path: Path, *, end: dt.date, seed: int = 7, weeks: int = 104) -> None:
    """The example file: what the demo's totals look like as an import."""
    world = mix_world(seed=seed, weeks=weeks)
    start = first_monday(end, weeks)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["date", "closed_revenue", *world.control_names])
        for week in range(weeks):
            writer.writerow(
                [
                    (start + dt.timedelta(weeks=week)).isoformat(),
                    f"{world.outcome[week]:.2f}",
                    *(f"{world.controls[week, j]:.4f}" for j in range(len(world.control_names))),
                ]
            )


def raise_total_cap_for_new_campaigns() -> int | None:
    """The demo's total budget cap was set for the main demo's campaigns (room to grow by a tenth); with the mix
    world's campaigns added the total is far above it, and every raise (a channel's spend test) would be blocked.
    Set it as the main demo does, a tenth above today's total, through the audited guardrail service."""
    from django.db.models import Sum

    from objectives import services
    from objectives.models import Guardrail

    cap = Guardrail.objects.filter(kind="total_budget_cap", name="Total daily budget cap", is_active=True).first()
    if cap is None:
        return None
    total = float(Campaign.objects.filter(status="active").aggregate(total=Sum("daily_budget"))["total"] or 0)
    amount = int(-(-total * 1.1 // 100) * 100)
    if amount <= float(cap.params.get("amount", 0)):
        return None
    services.guardrail_update(
        guardrail=cap, reason="Demo: room for the channel mix world's campaigns", params={"amount": amount}
    )
    return amount
