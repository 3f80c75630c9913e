"""demo_outcomes: replay a few demo decisions made two weeks ago, so the pages have outcomes to show.

Outcomes are measured over the OUTCOME_DAYS days after a change, and those must be days that have passed. So
the demo's decisions are made on the decision day, OUTCOME_DAYS + 1 days ago (the apply day itself counts in
neither window), on the data that existed then; the days since are simulated under the budgets those decisions
set, up to yesterday; and the outcomes are measured over exactly those days.

On that day, with the clock showing it (decisions/demo/clock.py), it runs the engine over the data up to the
day before, approves a few budget moves as the demo marketer, edits one (half the machine's step) and rejects
one, through the review services, and applies them through the outbox; the proposals nobody decided expire
three days later, as they would have. Back in the present it simulates the decision day to yesterday with the
demo world's hidden truth under the budgets now in force (replacing what seed_demo simulated for those days
under the old ones), stores those days as an import would, refreshes the outcomes, and runs the engine over the
replayed days so the queue's proposals start from them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.audit.actions import Action
from decisions.data import guardrail_figures
from decisions.delivery import outbox as applying
from decisions.demo.clock import local_moment, replaying
from decisions.demo.mix import MIX_PREFIX
from decisions.demo.seed import (
    DEMO_BROKEN_TAG_DAYS,
    DEMO_LIMITED_SHARE,
    DEMO_USERS,
    break_one_tracking_tag,
    broken_tag_is_planted,
)
from decisions.engine.simulator import World, make_world, simulate_days
from decisions.generation import service as generating
from decisions.models import (
    METRIC_FIELDS,
    MONEY_FIELDS,
    Application,
    AuditEvent,
    Campaign,
    DailyMetric,
    GenerationRun,
    Outcome,
    Proposal,
    Review,
)
from decisions.outcomes import service as outcomes
from decisions.reports import weekly as reports
from decisions.review import kinds, selectors
from decisions.review import transitions as reviewing

LABEL = "demo_outcomes"
# When the replayed steps happen on the decision day: the morning run, then the reviewer, a few minutes a decision.
RUN_AT, REVIEW_AT, MINUTES_PER_DECISION = (6, 0), (9, 30), 6


def decision_day(today: dt.date | None = None) -> dt.date:
    """The day the demo's decisions were made: its outcome window (the OUTCOME_DAYS after it) ends yesterday."""
    return (today or timezone.localdate()) - dt.timedelta(days=outcomes.OUTCOME_DAYS + 1)


class Command(BaseCommand):
    help = (
        f"Demo only: replay a few decisions as the demo marketer {outcomes.OUTCOME_DAYS + 1} days ago (approve, "
        f"edit, reject, apply), simulate the days since up to yesterday and show the outcomes."
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
        refuse_a_second_replay()
        day = decision_day()
        before = current_budgets(world)
        filled = fill_days_before(world, day, budgets=before)
        if filled:
            self.stdout.write(f"Simulated {filled:,} daily rows up to {day - dt.timedelta(days=1)} first.")
        run, decided = replay_decisions(marketer, day=day, approve=approve)
        self.stdout.write(f"On {day}: run #{run.pk} proposed {run.counts.get('proposals', 0)}; decided:")
        for proposal, decision in decided:
            self.stdout.write(f"  {decision:<8} #{proposal.pk} {proposal.get_kind_display()}: {_moves(proposal)}")
        applied = Proposal.objects.filter(pk__in=[p.pk for p, _ in decided], status=Proposal.Status.APPLIED).count()
        self.stdout.write(f"Applied {applied} of them through the outbox.")
        first, last, rows = simulate_following_days(world, day)
        self.stdout.write(f"Simulated {rows:,} daily rows, {first} to {last}, under the budgets now in force.")
        counts = outcomes.outcomes_refresh()
        self.stdout.write(f"Outcomes: {counts}")
        self.print_outcomes([p for p, _ in decided])
        latest = propose_from_today()
        self.stdout.write(f"Run #{latest.pk} proposed {latest.counts.get('proposals', 0)} from the days since.")
        self.stdout.write(f"The weekly report of {reports.iso_week(day)} shows these decisions and their outcomes.")

    def print_outcomes(self, proposals: list[Proposal]) -> None:
        for outcome in Outcome.objects.filter(proposal__in=proposals).select_related("proposal__review"):
            text = outcomes.describe(outcome, decision=outcome.proposal.review.decision)
            self.stdout.write(f"  #{outcome.proposal_id}: {text}")


def _moves(proposal: Proposal) -> str:
    changes = proposal.review.final_changes or proposal.changes
    return ", ".join(f"{c['campaign']} {c['from']} → {c['to']}" for c in changes)


def demo_world(seed: int) -> World:
    """The world seed_demo built, recognised by its campaigns; real data is refused."""
    # The channel mix world (seed_demo --mix) lives beside it with campaigns of its own, left out here.
    stored = dict(Campaign.objects.exclude(external_id__startswith=MIX_PREFIX).values_list("external_id", "name"))
    world = make_world(len(stored), seed, limited_share=DEMO_LIMITED_SHARE) if stored else None
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


def refuse_a_second_replay() -> None:
    # The days since the decision day are already simulated under the decisions' budgets.
    replayed = AuditEvent.objects.filter(action=Action.DATA_IMPORTED, actor_label=LABEL).order_by("id").first()
    if replayed is not None:
        raise CommandError(
            f"The demo's decisions were already replayed ({timezone.localtime(replayed.created_at):%Y-%m-%d}): "
            "demo_outcomes replays them once, on a freshly seeded demo."
        )
    last = DailyMetric.objects.aggregate(last=Max("date"))["last"]
    if last is None or last >= timezone.localdate():
        raise CommandError(f"The demo data runs to {last}: demo_outcomes needs seed_demo's days, up to yesterday.")


def current_budgets(world: World) -> dict[str, float]:
    """Daily budgets in force, 0 for a paused campaign (the simulator's way of saying it spends nothing)."""
    rows = Campaign.objects.filter(external_id__in=world.external_ids).values_list(
        "external_id", "daily_budget", "status"
    )
    return {ext: 0.0 if status == Campaign.Status.PAUSED else float(budget) for ext, budget, status in rows}


def fill_days_before(world: World, day: dt.date, *, budgets: dict[str, float]) -> int:
    """A demo seeded long ago ends before the decision day: simulate the gap on the budgets of the time."""
    first = DailyMetric.objects.aggregate(last=Max("date"))["last"] + dt.timedelta(days=1)
    return _simulate(world, first, day - dt.timedelta(days=1), budgets) if first < day else 0


def replay_decisions(marketer, *, day: dt.date, approve: int) -> tuple[GenerationRun, list[tuple[Proposal, str]]]:
    """On the decision day: the morning run over the days before, the marketer's decisions, the applies, and
    (three days on) the expiry of what nobody decided."""
    with replaying(local_moment(day, *RUN_AT)) as clock:
        run = run_engine(window_end=day - dt.timedelta(days=1), force=True)
        clock.set(local_moment(day, *REVIEW_AT))
        decided = decide(marketer, run=run, approve=approve, clock=clock, day=day)
        apply_pending([p for p, decision in decided if decision != Review.Decision.REJECTED])
        expiry = Proposal.objects.filter(run=run, status=Proposal.Status.PENDING).aggregate(last=Max("expires_at"))
        if expiry["last"] is not None:
            clock.set(expiry["last"] + dt.timedelta(minutes=1))
            reviewing.proposal_expire_due()
    for proposal, _ in decided:
        proposal.refresh_from_db()
    return run, decided


def run_engine(*, window_end: dt.date | None = None, force: bool = False) -> GenerationRun:
    """The engine in process, so the demo never waits for a worker."""
    run = generating.generation_start(force=force, window_end=window_end).run
    chunks = generating.plan_chunks(run)
    results = [generating.fit_chunk(run_id=run.pk, campaign_ids=ids) for ids in chunks]
    return generating.generation_finish(run_id=run.pk, chunk_results=results)


def _halved(proposal: Proposal) -> list[dict]:
    return [{**c, "to": round(c["from"] + (c["to"] - c["from"]) / 2, 2)} for c in proposal.changes]


def decide(marketer, *, run: GenerationRun, approve: int, clock, day: dt.date) -> list[tuple[Proposal, str]]:
    """Approve the run's best budget moves, edit the next one, reject its least promising proposal."""
    queue = list(selectors.queue_proposals().filter(run=run))
    if not queue:
        return []
    last = queue.pop()
    plan = [Review.Decision.APPROVED] * approve + [Review.Decision.EDITED]
    decided = []

    def moment() -> None:
        # A few minutes a decision, as a person reading each one would take.
        clock.set(local_moment(day, *REVIEW_AT) + dt.timedelta(minutes=MINUTES_PER_DECISION * (len(decided) + 1)))

    for proposal in queue:
        if len(decided) == len(plan):
            break
        # Reclaims are left for the marketer to meet in today's queue (the replayed run's expires unseen).
        if proposal.kind != kinds.RECLAIM.name and all(c["field"] == "daily_budget" for c in proposal.changes):
            moment()
            if _decide(proposal, plan[len(decided)], marketer):
                decided.append((proposal, plan[len(decided)]))
    moment()
    if _decide(last, Review.Decision.REJECTED, marketer):
        decided.append((last, Review.Decision.REJECTED))
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
        return False  # guardrails say a person must look closer, or another decision moved it: leave it
    return True


def apply_pending(proposals: list[Proposal]) -> int:
    """Send what the outbox task has not sent yet (it runs in process only without a broker); idempotent."""
    for application in Application.objects.filter(proposal__in=proposals, status=Application.Status.PENDING):
        applying.application_apply(application_id=application.pk)
    return Proposal.objects.filter(pk__in=[p.pk for p in proposals], status=Proposal.Status.APPLIED).count()


def simulate_following_days(world: World, day: dt.date) -> tuple[dt.date, dt.date, int]:
    """The decision day to yesterday on the budgets now in force, replacing what seed_demo simulated there."""
    last = timezone.localdate() - dt.timedelta(days=1)
    rows = _simulate(world, day, last, current_budgets(world))
    return day, last, rows


def _simulate(world: World, first: dt.date, last: dt.date, budgets: dict[str, float]) -> int:
    ids = dict(Campaign.objects.values_list("external_id", "pk"))
    broken = broken_tag_is_planted(world, today=timezone.localdate())
    history = simulate_days(world, budgets=budgets, start_date=first, days=(last - first).days + 1)
    if broken:  # the tag seed_demo broke stays broken on the days simulated again
        history = break_one_tracking_tag(
            world, history, since=timezone.localdate() - dt.timedelta(days=DEMO_BROKEN_TAG_DAYS)
        )
    with transaction.atomic():
        rows = _upsert(history.rows(world), ids)
        audit_events.data_simulated(
            label=LABEL, filename="(simulated by demo_outcomes)", rows=rows, first=first, last=last
        )
    return rows


def propose_from_today() -> GenerationRun:
    """A run over the replayed days: the queue's proposals start from the budgets and days the replay left."""
    return run_engine(force=True)


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
    guardrail_figures.forget()
    return len(metrics)


def _stored(name: str, value):
    if value is None or name not in MONEY_FIELDS:
        return value
    return Decimal(f"{value:.2f}")
