"""demo_outcomes: fast-forward the demo two weeks so the pages have outcomes to show.

As the demo marketer it approves a few pending budget shifts, edits one (half
the machine's step) and rejects one, through the review services; pushes the
approved changes through the outbox; simulates the days that follow with the
demo world's hidden truth under the budgets now in force; stores those days as
an import would; and refreshes the outcomes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.delivery import outbox as applying
from decisions.demo.seed import DEMO_USERS
from decisions.engine.simulator import World, make_world, simulate_days
from decisions.generation import service as generating
from decisions.models import METRIC_FIELDS, MONEY_FIELDS, Application, Campaign, DailyMetric, Outcome, Proposal, Review
from decisions.outcomes import service as outcomes
from decisions.review import selectors
from decisions.review import transitions as reviewing

LABEL = "demo_outcomes"


class Command(BaseCommand):
    help = (
        "Demo only: approve, edit and reject a few pending proposals as the demo marketer, apply them, "
        f"simulate the {outcomes.OUTCOME_DAYS} days after, import those days and show the outcomes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="the seed seed_demo used (default 1)")
        parser.add_argument("--approve", type=int, default=3, help="how many proposals to approve as proposed")
        parser.add_argument(
            "--if-no-outcomes", action="store_true", help="do nothing when outcomes exist already (for `make run`)"
        )

    def handle(self, *args, seed: int, approve: int, if_no_outcomes: bool, **options):
        if if_no_outcomes and Outcome.objects.exists():
            self.stdout.write(f"{Outcome.objects.count()} outcomes exist already; nothing simulated.")
            return
        world = demo_world(seed)
        marketer = demo_marketer()
        refuse_a_second_fast_forward()
        before = current_budgets(world)
        generated = ensure_pending_proposals()
        if generated:
            self.stdout.write(f"Generated {generated} proposals to decide.")
        decided = decide(marketer, approve=approve)
        for proposal, decision in decided:
            self.stdout.write(f"  {decision:<8} #{proposal.pk} {proposal.get_kind_display()}: {_moves(proposal)}")
        applied = apply_pending([p for p, decision in decided if decision != Review.Decision.REJECTED])
        self.stdout.write(f"Applied {applied} of them through the outbox.")
        first, last, rows = simulate_following_days(world, before=before)
        self.stdout.write(f"Simulated {rows:,} daily rows, {first} to {last}, under the budgets now in force.")
        counts = outcomes.outcomes_refresh()
        self.stdout.write(f"Outcomes: {counts}")
        # Seen from the demo's new present, two simulated weeks on, those changes were made 14 days ago:
        # the cooldown guardrail should not warn on every campaign the demo touched.
        Campaign.objects.filter(last_changed_at__isnull=False).update(
            last_changed_at=F("last_changed_at") - dt.timedelta(days=outcomes.OUTCOME_DAYS)
        )
        self.print_outcomes([p for p, _ in decided])

    def print_outcomes(self, proposals: list[Proposal]) -> None:
        for outcome in Outcome.objects.filter(proposal__in=proposals).select_related("proposal__review"):
            text = outcomes.describe(outcome, decision=outcome.proposal.review.decision)
            self.stdout.write(f"  #{outcome.proposal_id}: {text}")


def _moves(proposal: Proposal) -> str:
    changes = proposal.review.final_changes or proposal.changes
    return ", ".join(f"{c['campaign']} {c['from']} → {c['to']}" for c in changes)


def demo_world(seed: int) -> World:
    """The world seed_demo built, recognised by its campaigns; real data is refused."""
    stored = dict(Campaign.objects.values_list("external_id", "name"))
    world = make_world(len(stored), seed) if stored else None
    if world is None or stored != {c.external_id: c.name for c in world.campaigns}:
        raise CommandError(
            "These campaigns are not the demo world of this seed: demo_outcomes only runs on seed_demo's data "
            "(pass the --seed seed_demo used)."
        )
    return world


def demo_marketer():
    username = next(name for name, _, role in DEMO_USERS if role == "marketer")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f'No demo user "{username}": run seed_demo first.')
    return user


def refuse_a_second_fast_forward() -> None:
    # The days after today would already be simulated under the old budgets.
    last = DailyMetric.objects.aggregate(last=Max("date"))["last"]
    if last is None or last >= timezone.localdate():
        raise CommandError(
            f"The demo data already runs to {last}: demo_outcomes fast-forwards a freshly seeded demo once."
        )


def current_budgets(world: World) -> dict[str, float]:
    """Daily budgets in force, 0 for a paused campaign (the simulator's way of saying it spends nothing)."""
    rows = Campaign.objects.filter(external_id__in=world.external_ids).values_list(
        "external_id", "daily_budget", "status"
    )
    return {ext: 0.0 if status == Campaign.Status.PAUSED else float(budget) for ext, budget, status in rows}


def ensure_pending_proposals() -> int:
    """Run the engine in process when nothing is pending, so the demo never waits for a worker."""
    if selectors.queue_proposals().exists():
        return 0
    run = generating.generation_start(force=True).run
    chunks = generating.plan_chunks(run)
    results = [generating.fit_chunk(run_id=run.pk, campaign_ids=ids) for ids in chunks]
    run = generating.generation_finish(run_id=run.pk, chunk_results=results)
    return run.counts.get("proposals", 0)


def _halved(proposal: Proposal) -> list[dict]:
    return [{**c, "to": round(c["from"] + (c["to"] - c["from"]) / 2, 2)} for c in proposal.changes]


def decide(marketer, *, approve: int) -> list[tuple[Proposal, str]]:
    """Approve the best budget moves, edit the next one, reject the least promising proposal of the queue."""
    queue = list(selectors.queue_proposals())
    if not queue:
        return []
    last = queue.pop()
    plan = [Review.Decision.APPROVED] * approve + [Review.Decision.EDITED]
    decided = []
    for proposal in queue:
        if len(decided) == len(plan):
            break
        if all(c["field"] == "daily_budget" for c in proposal.changes) and _decide(
            proposal, plan[len(decided)], marketer
        ):
            decided.append((proposal, plan[len(decided)]))
    if _decide(last, Review.Decision.REJECTED, marketer):
        decided.append((last, Review.Decision.REJECTED))
    for proposal, _ in decided:
        proposal.refresh_from_db()
    return decided


def _decide(proposal: Proposal, decision: str, marketer) -> bool:
    try:
        if decision == Review.Decision.APPROVED:
            reviewing.proposal_approve(proposal=proposal, actor=marketer)
        elif decision == Review.Decision.EDITED:
            note = "Demo: half the step until the curve proves itself"
            reviewing.proposal_edit_and_approve(
                proposal=proposal, actor=marketer, final_changes=_halved(proposal), note=note
            )
        else:
            reviewing.proposal_reject(proposal=proposal, actor=marketer, reason_code="strategy", note="Demo")
    except (reviewing.GuardrailGate, reviewing.InvalidTransition, PermissionDenied):
        return False  # guardrails say a person must look closer: leave it in the queue
    return True


def apply_pending(proposals: list[Proposal]) -> int:
    """Send what the outbox task has not sent yet (it runs in process only without a broker); idempotent."""
    for application in Application.objects.filter(proposal__in=proposals, status=Application.Status.PENDING):
        applying.application_apply(application_id=application.pk)
    return Proposal.objects.filter(pk__in=[p.pk for p in proposals], status=Proposal.Status.APPLIED).count()


def simulate_following_days(world: World, *, before: dict[str, float]) -> tuple[dt.date, dt.date, int]:
    """Days up to yesterday on the old budgets, today and the outcome window on the new ones."""
    today = timezone.localdate()
    first = DailyMetric.objects.aggregate(last=Max("date"))["last"] + dt.timedelta(days=1)
    last = today + dt.timedelta(days=outcomes.OUTCOME_DAYS)
    spans = [(first, today - dt.timedelta(days=1), before), (max(first, today), last, current_budgets(world))]
    ids = dict(Campaign.objects.values_list("external_id", "pk"))
    rows = 0
    with transaction.atomic():
        for start, end, budgets in spans:
            if start <= end:
                history = simulate_days(world, budgets=budgets, start_date=start, days=(end - start).days + 1)
                rows += _upsert(history.rows(world), ids)
        audit_events.data_simulated(
            label=LABEL, filename="(simulated by demo_outcomes)", rows=rows, first=first, last=last
        )
    return first, last, rows


def _upsert(rows, ids: dict[str, int]) -> int:
    metrics = [
        DailyMetric(
            campaign_id=ids[row["campaign_id"]],
            date=row["date"],
            **{name: _stored(name, row[name]) for name in METRIC_FIELDS},
        )
        for row in rows
    ]
    DailyMetric.objects.bulk_create(
        metrics, batch_size=2000, update_conflicts=True, unique_fields=["campaign", "date"], update_fields=METRIC_FIELDS
    )
    return len(metrics)


def _stored(name: str, value):
    if value is None or name not in MONEY_FIELDS:
        return value
    return Decimal(f"{value:.2f}")
