"""Writing a simulated world into the database, so a fresh install has something to decide about.

The simulator (decisions.engine.simulator) knows the truth; this service
stores only what a real team would see: campaigns, their daily numbers up to
yesterday, a few people to log in as, an objective and a starter set of
guardrails. demo_outcomes then replays a few decisions made two weeks ago.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from decisions import access as roles
from decisions.audit import events as audit_events
from decisions.data import guardrail_figures
from decisions.data.deal_figures import import_deals
from decisions.data.health import data_health_check
from decisions.data.transactions import import_transactions
from decisions.demo import deals as demo_deals
from decisions.demo import spend_tests as demo_spend_tests
from decisions.demo import transactions as demo_transactions
from decisions.engine.simulator import SimHistory, World, make_world, simulate_history
from decisions.models import Campaign, DailyMetric
from objectives import services as objective_services
from objectives.models import Guardrail, Metric, Objective, Severity

SEEDER_LABEL = "seed_demo"

# Demo logins only: printed by seed_demo (and `make run`) for local demos.
DEMO_USERS = (
    ("marketer", "waypoint-marketer", roles.MARKETER),
    ("admin", "waypoint-admin", roles.GUARDRAIL_ADMIN),
    ("viewer", "waypoint-viewer", roles.VIEWER),
)


# A few campaigns (mostly search) cannot spend their budget, so the demo shows demand-limited campaigns the
# engine never raises and a reclaim that moves their unspent budget.
DEMO_LIMITED_SHARE = 0.15
# One campaign's tracking tag broke this many days ago (its pipeline reads zero while it spends), so the Data
# page shows red and the engine shows it leaves that campaign alone.
DEMO_BROKEN_TAG_DAYS = 10


class DemoRefused(Exception):
    """The database already holds campaigns; demo data must never mix with real data."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str | None  # None: the user already existed and keeps their password


@dataclass(frozen=True)
class DemoSeeded:
    world: World
    campaigns: int
    metric_rows: int
    first_date: date
    last_date: date
    users: tuple[DemoUser, ...]
    objective_created: bool
    guardrails: tuple[str, ...]
    seconds: float


@transaction.atomic
def demo_seed(
    *,
    n_campaigns: int = 40,
    days: int = 180,
    seed: int = 1,
    end_date: date | None = None,
    limited_share: float = DEMO_LIMITED_SHARE,
    broken_tag: bool = False,
    steady: int = 0,
) -> DemoSeeded:
    started = time.perf_counter()
    existing = Campaign.objects.count()
    if existing:
        raise DemoRefused(
            f"The database already has {existing} campaign(s); seed_demo only fills an empty database, "
            "so demo numbers never mix with real ones."
        )
    world = make_world(n_campaigns, seed, limited_share=limited_share)
    # Up to yesterday in Waypoint's time zone: the demo's days are days that have passed.
    end_date = end_date or timezone.localdate() - timedelta(days=1)
    history = simulate_history(world, days=days, end_date=end_date)
    # A few campaigns whose budget nobody moved (`make run`'s demo): the engine proposes spend tests for them.
    history = demo_spend_tests.with_steady_campaigns(world, history, count=steady, skip={broken_tag_campaign(world)})
    history = break_one_tracking_tag(world, history) if broken_tag else history
    ids = _create_campaigns(world)
    rows = _create_metrics(world, history, ids)
    _import_demo_deals(world, history, seed)
    _import_demo_transactions(world, history, seed)
    # The Data page shows the demo's health from the start (the deals import above skips its follow-ups).
    data_health_check(trigger="demo data")
    return DemoSeeded(
        world=world,
        campaigns=len(ids),
        metric_rows=rows,
        first_date=history.dates[0],
        last_date=history.dates[-1],
        users=_create_users(),
        objective_created=_create_objective(),
        guardrails=_create_guardrails(world),
        seconds=time.perf_counter() - started,
    )


def broken_tag_campaign(world: World) -> int | None:
    """The campaign whose tracking the demo breaks: the largest ordinary one (not the first, not brand, not a
    trap, not demand-limited), so the Data page has a red campaign the engine visibly leaves alone."""
    ordinary = [
        i
        for i, c in enumerate(world.campaigns)
        if i > 0 and not c.is_trap and c.spend_ceiling is None and "brand" not in c.tags
    ]
    return max(ordinary, key=lambda i: world.campaigns[i].daily_budget, default=None)


def broken_tag_is_planted(world: World, *, today: date) -> bool:
    """Whether seed_demo broke the tag: the campaign's stored pipeline is zero on every day it was broken."""
    i = broken_tag_campaign(world)
    if i is None:
        return False
    since = today - timedelta(days=DEMO_BROKEN_TAG_DAYS)
    days = DailyMetric.objects.filter(campaign__external_id=world.campaigns[i].external_id, date__gte=since)
    return days.exists() and not days.filter(pipeline_value__gt=0).exists()


def break_one_tracking_tag(world: World, history: SimHistory, *, since: date | None = None) -> SimHistory:
    """Its pipeline reads zero from `since` (default: the last DEMO_BROKEN_TAG_DAYS days) while it keeps
    spending: no deals name it. demo_outcomes keeps it broken on the days it simulates again."""
    i = broken_tag_campaign(world)
    if since is None:
        if len(history.dates) <= 2 * DEMO_BROKEN_TAG_DAYS:
            return history
        since = history.dates[-DEMO_BROKEN_TAG_DAYS]
    broken = np.array([day >= since for day in history.dates])
    if i is None or not broken.any():
        return history
    pipeline = history.pipeline_value.copy()
    pipeline[i, broken] = 0.0
    return replace(history, pipeline_value=pipeline)


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _create_campaigns(world: World) -> dict[str, int]:
    Campaign.objects.bulk_create(
        Campaign(
            external_id=c.external_id,
            name=c.name,
            channel=c.channel,
            platform=c.platform,
            audience=c.audience,
            tags=list(c.tags),
            daily_budget=_money(c.daily_budget),
        )
        for c in world.campaigns
    )
    # Read the ids back: not every backend returns them from a bulk insert.
    return dict(Campaign.objects.filter(external_id__in=world.external_ids).values_list("external_id", "id"))


def _create_metrics(world: World, history: SimHistory, ids: dict[str, int]) -> int:
    # The budget in force each day and the search delivery shares, so the demo's pages can say how much of
    # its budget each campaign spends and which ones demand holds back.
    delivery = {(row["campaign_id"], row["date"]): row for row in history.delivery_rows(world)}
    metrics = (
        DailyMetric(
            campaign_id=ids[row["campaign_id"]],
            date=row["date"],
            **_delivery_fields(delivery.get((row["campaign_id"], row["date"]))),
            spend=_money(row["spend"]),
            impressions=row["impressions"],
            clicks=row["clicks"],
            platform_conversions=row["platform_conversions"],
            platform_revenue=_money(row["platform_revenue"]),
            leads=row["leads"],
            pipeline_value=None,  # derived from the demo's CRM deals (_import_demo_deals)
            closed_revenue=None if row["closed_revenue"] is None else _money(row["closed_revenue"]),
        )
        for row in history.rows(world)
    )
    written = len(DailyMetric.objects.bulk_create(metrics, batch_size=2000))
    guardrail_figures.forget()
    return written


def _import_demo_deals(world: World, history: SimHistory, seed: int) -> None:
    """The pipeline the engine reads comes from a HubSpot-shaped deals export, as it would for a real team."""
    content = demo_deals.demo_deals_csv(world, history, seed=seed)
    outcome = import_deals(
        stream=io.BytesIO(content),
        filename=demo_deals.FILENAME,
        size_bytes=len(content),
        label=SEEDER_LABEL,
        follow_ups=False,
    )
    if not outcome.ok:  # the demo's own file: a problem here is a bug, never the user's
        raise RuntimeError(f"demo deals: {outcome.problem_lines()[:5]}")


def _import_demo_transactions(world: World, history: SimHistory, seed: int) -> None:
    """Customers and their purchases, so customer lifetime value can be chosen as the objective (Objectives page)."""
    content = demo_transactions.demo_transactions_csv(world, history, seed=seed)
    outcome = import_transactions(
        stream=io.BytesIO(content),
        filename=demo_transactions.FILENAME,
        size_bytes=len(content),
        label=SEEDER_LABEL,
        follow_ups=False,
    )
    if not outcome.ok:  # the demo's own file: a problem here is a bug, never the user's
        raise RuntimeError(f"demo transactions: {outcome.problem_lines()[:5]}")


def _delivery_fields(row: dict | None) -> dict:
    if row is None:
        return {}
    budget = row["daily_budget"]
    return {
        "daily_budget": None if budget is None else _money(budget),
        "impression_share": row["impression_share"],
        "lost_is_budget": row["lost_is_budget"],
        "lost_is_rank": row["lost_is_rank"],
        "limited_by_budget": row["limited_by_budget"],
    }


def _create_users() -> tuple[DemoUser, ...]:
    User = get_user_model()
    users = []
    for username, password, role in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        roles.role_grant(user=user, role=role)
        users.append(DemoUser(username=username, role=role, password=password if created else None))
    return tuple(users)


def _create_objective() -> bool:
    if Objective.objects.filter(is_active=True).exists():
        return False
    objective = Objective.objects.create(metric=Metric.PIPELINE_VALUE, horizon_days=7, is_active=True)
    audit_events.objective_created(objective, label=SEEDER_LABEL, reason="Demo starter objective")
    return True


def starter_guardrails(world: World) -> list[dict]:
    """One guardrail of each kind, with limits that fit the simulated budgets."""
    total = sum(c.daily_budget for c in world.campaigns)
    return [
        {
            "name": "Move a budget by at most 30% at a time",
            "kind": "max_budget_change_pct",
            "severity": Severity.BLOCK,
            "params": {"pct": 30},
        },
        {
            "name": "Daily budget between 10 and 2,000",
            "kind": "budget_bounds",
            "severity": Severity.BLOCK,
            "params": {"min": 10, "max": 2000},
        },
        {
            "name": "Total daily budget cap",
            "kind": "total_budget_cap",
            "severity": Severity.BLOCK,
            # Room to grow by a tenth, no more, without a human raising the cap.
            "params": {"amount": int(-(-total * 1.1 // 100) * 100)},
        },
        *monthly_budgets(world),
        {
            "name": "Never pause or cut brand campaigns",
            "kind": "protected_campaigns",
            "severity": Severity.BLOCK,
            "params": {"tag": "brand"},
        },
        {
            "name": "No spend increase on sensitive audiences",
            "kind": "forbidden_audiences",
            "severity": Severity.BLOCK,
            "params": {"segments": ["under_18", "lookalike_sensitive"]},
        },
        {
            "name": "Brand voice in proposal copy",
            "kind": "brand_voice",
            "severity": Severity.WARN,
            "params": {"banned_phrases": ["guaranteed", "risk-free", "cheapest"], "required_phrases": []},
        },
        {
            "name": "One applied change per campaign per week",
            "kind": "cooldown",
            "severity": Severity.WARN,
            "params": {"days": 7},
        },
        {
            "name": "At least 28 days and 5 conversions of evidence",
            "kind": "min_evidence",
            "severity": Severity.BLOCK,
            "params": {"days": 28, "conversions": 5},
        },
        {
            "name": "Never retire consent and legal workflows",
            "kind": "protected_workflows",
            "severity": Severity.BLOCK,
            "params": {"tag": "compliance"},
        },
        # The audiences of the demo's e-mail test: a definition that does not keep minors out is flagged (every
        # demo customer is 18 or more, but an audience must say so, as new customers join the lists), and no
        # customer gets more than two of the tests' actions a week.
        {
            "name": "Test audiences never reach minors",
            "kind": "forbidden_audiences",
            "severity": Severity.WARN,
            "params": {"min_attribute": "age", "min_value": 18},
        },
        {
            "name": "At most two e-mails a week per customer",
            "kind": "contact_cap",
            "severity": Severity.BLOCK,
            "params": {"max_per_week": 2},
        },
    ]


# An average month's days: a monthly budget is about this many daily budgets.
DAYS_PER_MONTH = 30.4


def monthly_budgets(world: World) -> list[dict]:
    """A monthly budget for the channel that spends most, a fifth under what its campaigns can spend in a month,
    so the Pacing page has a course to show and the engine a month to bring back on pace."""
    by_channel: dict[str, float] = {}
    for c in world.campaigns:
        # What a campaign can spend a day: its budget, or less where demand runs out first.
        can_spend = min(c.daily_budget, c.spend_ceiling or c.daily_budget)
        by_channel[c.channel] = by_channel.get(c.channel, 0.0) + can_spend
    channel = max(by_channel, key=by_channel.get)
    return [
        {
            "name": f"Monthly budget for {channel}",
            "kind": "monthly_budget",
            "scope": {"channel": channel},
            "severity": Severity.WARN,
            "params": {"amount": round(by_channel[channel] * DAYS_PER_MONTH * 0.8, -2)},
        }
    ]


def _create_guardrails(world: World) -> tuple[str, ...]:
    created = []
    for spec in starter_guardrails(world):
        if Guardrail.objects.filter(name=spec["name"]).exists():
            continue
        objective_services.guardrail_create(**spec, reason="Demo starter set")
        created.append(spec["name"])
    return tuple(created)
