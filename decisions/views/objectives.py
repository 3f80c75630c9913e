"""The objective page: everyone reads what the engine optimises and what it optimised before; guardrail admins
change it or restore an earlier one.

Choosing a vanity metric takes a second step that names the metric and why it is flagged (a plain form, no
script). Every change, a restore included, goes through `objectives.services.objective_set`, which audits it
and announces it (`policy_changed`), so decisions starts a run for the new objective.

It lives in decisions, not objectives, because it names the run a change started, counts the pending
proposals made for the objective it replaced, and reads who changed the objective, and why, from the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.audit.actions import Action
from decisions.data import transactions
from decisions.models import AuditEvent, GenerationRun, Proposal
from objectives import selectors, services
from objectives.forms import VANITY_WARNING, ObjectiveForm, ObjectiveRestoreForm, needs_vanity_confirmation
from objectives.models import Metric, Objective

OBJECTIVE_PAGE = "objectives/objectives.html"
# Objectives change rarely; the page lists this many of the latest.
HISTORY_LIMIT = 50
# An objective row and the audit event written with it share a transaction: the event follows within moments.
SAME_CHANGE = dt.timedelta(seconds=5)


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PastObjective:
    """An objective that is or was active, with who set it and why (from the audit event written with it)."""

    objective: Objective
    text: str
    who: str
    why: str

    @property
    def is_current(self) -> bool:
        return self.objective.is_active


def _setting_events(since: dt.datetime) -> list[AuditEvent]:
    actions = (Action.OBJECTIVE_CHANGED, Action.OBJECTIVE_CREATED)
    return list(AuditEvent.objects.filter(action__in=actions, created_at__gte=since - SAME_CHANGE).order_by("id"))


def _event_that_set(objective: Objective, events: list[AuditEvent], claimed: set[int]) -> AuditEvent | None:
    """The first unclaimed event, written with or just after the row, whose "after" is this objective.

    Rows older than this code carry no link to their event; the snapshot and the moment identify it. Walking
    rows oldest first lets a restored objective (same snapshot, later row) find its own, later event.
    """
    wanted = services.objective_snapshot(objective)
    for event in events:
        after = {key: event.human_payload.get(key) for key in wanted}
        if event.pk not in claimed and event.created_at >= objective.created_at - SAME_CHANGE and after == wanted:
            claimed.add(event.pk)
            return event
    return None


def objective_history(limit: int = HISTORY_LIMIT) -> list[PastObjective]:
    """The latest objectives, newest first, each with who set it and the reason they gave."""
    rows = list(Objective.objects.select_related("created_by").order_by("-created_at", "-pk")[:limit])
    if not rows:
        return []
    events, claimed, found = _setting_events(min(row.created_at for row in rows)), set(), {}
    for row in reversed(rows):
        found[row.pk] = _event_that_set(row, events, claimed)
    history = []
    for row in rows:
        event = found[row.pk]
        who = event.actor_label if event else (row.created_by.get_username() if row.created_by else "unknown")
        text = selectors.describe_objective(services.objective_snapshot(row))
        history.append(PastObjective(objective=row, text=text, who=who, why=event.reason if event else ""))
    return history


def vanity_notice() -> dict | None:
    """What the queue's banner says while the engine optimises a vanity metric; None otherwise."""
    objective = selectors.active_objective()
    if objective is None or not objective.is_vanity:
        return None
    return {"label": objective.get_metric_display(), "why": VANITY_WARNING.get(objective.metric, "")}


# --- what a change sets off, said honestly ---------------------------------------------------------


@dataclass(frozen=True)
class BeforeChange:
    """Read just before an objective change: the pending proposals (all made for the objective it replaces)
    and the newest run, so the run the change starts can be told from earlier ones."""

    pending: int
    last_run_id: int


def before_objective_change() -> BeforeChange:
    return BeforeChange(
        pending=Proposal.objects.filter(status=Proposal.Status.PENDING).count(),
        last_run_id=GenerationRun.objects.aggregate(newest=Max("pk"))["newest"] or 0,
    )


def _run_started_for(objective: Objective | None, before: BeforeChange) -> GenerationRun | None:
    # The service committed the change, and policy_changed has already started the run
    # (decisions/policy_changes.py); starting one here too would make two.
    runs = GenerationRun.objects.filter(pk__gt=before.last_run_id, objective=objective)
    return runs.order_by("pk").first()


def _proposals(count: int) -> str:
    return f"{count} pending proposal{'' if count == 1 else 's'}"


def _still_there(pending: int) -> str:
    verb = "is" if pending == 1 else "are"
    return f"the {_proposals(pending)} made for the previous objective {verb} still in the queue."


def _what_became_of_pending(run: GenerationRun, before: BeforeChange) -> str:
    """The pending proposals' fate as far as it is known now.

    A run supersedes a pending proposal only when it proposes again for the same campaign and lever, and it
    does so as it finishes: with a worker (REDIS_URL) that is after this page answers, so the page says what
    it knows, the count and the rule; when tasks run in process, the run has finished and its counts are exact.
    """
    made_for_previous = f"{_proposals(before.pending)} made for the previous objective"
    if before.pending == 0:
        return "No proposals were pending."
    if run.status == GenerationRun.Status.RUNNING:
        return (
            f"{made_for_previous}: the new run supersedes each one it proposes again for the same campaign and "
            "lever as it finishes (Engine runs shows its progress)."
        )
    if run.status == GenerationRun.Status.FAILED:
        return f"It failed (Engine runs says why), so nothing was superseded: {_still_there(before.pending)}"
    superseded = run.counts.get("superseded", 0)
    left = Proposal.objects.filter(status=Proposal.Status.PENDING).exclude(run=run).count()
    new = run.counts.get("proposals", 0)
    finished = f"It finished with {new} new proposal{'' if new == 1 else 's'}"
    if left == 0 and superseded == before.pending:
        return f"{finished} and superseded all {made_for_previous}."
    return f"{finished} and superseded {superseded} of the {made_for_previous}; {_still_pending(left)}"


def _still_pending(left: int) -> str:
    if left == 0:
        return "none is left in the queue."
    if left == 1:
        return "1 stays in the queue until it expires, someone decides it or a later run replaces it."
    return f"{left} stay in the queue until they expire, someone decides them or a later run replaces them."


def say_what_the_change_started(request: HttpRequest, objective: Objective | None, before: BeforeChange) -> None:
    """Add the page's message about the run an objective change started and the pending proposals it concerns."""
    run = _run_started_for(objective, before)
    if run is None:
        still = f" {_still_there(before.pending)}" if before.pending else ""
        messages.warning(request, f"No run could be started; start one from Engine runs.{still}")
        return
    messages.success(request, f"Run #{run.pk} started. {_what_became_of_pending(run, before)}")


# --- the page --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VanityConfirmation:
    """The second step of choosing a vanity metric: what it is, why it is flagged, and the same POST again."""

    metric: str
    label: str
    why: str
    action: str
    fields: list[tuple[str, str]]


def _confirmation(metric: str, *, action: str, fields: list[tuple[str, str]]) -> VanityConfirmation:
    return VanityConfirmation(
        metric=metric,
        label=Metric(metric).label,
        why=VANITY_WARNING.get(metric, ""),
        action=action,
        fields=[*fields, ("confirm_vanity", metric)],
    )


def _posted_fields(request: HttpRequest) -> list[tuple[str, str]]:
    skipped = {"csrfmiddlewaretoken", "confirm_vanity"}
    return [(name, value) for name, values in request.POST.lists() if name not in skipped for value in values]


def _page(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    objective = selectors.active_objective()
    context = {
        "objective": objective,
        "objective_text": selectors.describe_objective(services.objective_snapshot(objective)),
        "form": ObjectiveForm(initial=ObjectiveForm.initial_for(objective)),
        "history": objective_history(),
        "history_limit": HISTORY_LIMIT,
        "lifetime_value": transactions.lifetime_value_status(),
        **extra,
    }
    return render(request, OBJECTIVE_PAGE, context, status=status)


@require_GET
def objectives(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def objective_set(request: HttpRequest) -> HttpResponse:
    """Change what the engine optimises; the change starts a generation run, so the queue follows it."""
    form = ObjectiveForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=422)
    if form.needs_vanity_confirmation:
        confirm = _confirmation(
            form.values["metric"], action=reverse("objectives:objective-set"), fields=_posted_fields(request)
        )
        return _page(request, form=form, confirm=confirm)
    current, before = selectors.active_objective(), before_objective_change()
    objective = services.objective_set(**form.values, actor=request.user, reason=form.cleaned_data["reason"])
    if current is not None and objective.pk == current.pk:
        messages.info(request, "That is already the objective; nothing changed and no run was started.")
        return redirect("objectives:objectives")
    messages.success(request, f"The engine now optimises {objective_words(objective)}.")
    say_what_the_change_started(request, objective, before)
    return redirect("objectives:objectives")


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def objective_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Make an earlier objective the active one again: the same change as choosing it, with a reason."""
    earlier = get_object_or_404(Objective, pk=pk)
    form = ObjectiveRestoreForm(request.POST)
    current = selectors.active_objective()
    if current is not None and services.objective_snapshot(current) == services.objective_snapshot(earlier):
        messages.error(request, f"{objective_words(earlier)} is already the objective; nothing to restore.")
        return _page(request, status=409)
    if not form.is_valid():
        return _page(request, restore_form=form, restore_pk=earlier.pk, status=422)
    if needs_vanity_confirmation(earlier.metric, form.cleaned_data["confirm_vanity"]):
        action = reverse("objectives:objective-restore", args=[earlier.pk])
        confirm = _confirmation(earlier.metric, action=action, fields=_posted_fields(request))
        return _page(request, confirm=confirm)
    before = before_objective_change()
    objective = services.objective_restore(objective=earlier, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, f"Restored: the engine optimises {objective_words(objective)} again.")
    say_what_the_change_started(request, objective, before)
    return redirect("objectives:objectives")


def objective_words(objective: Objective) -> str:
    return selectors.describe_objective(services.objective_snapshot(objective))
