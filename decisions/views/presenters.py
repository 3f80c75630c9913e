"""Presenting proposals: the words, numbers and badges a queue row and a proposal page show.

A decided proposal shows what was decided: an edit's values beside the machine's ("$143 → $120 (proposed
$99.94)") and its weekly impact re-estimated for those values (decisions/engine/estimates.py), labelled so.
Numbers are in the objective's own unit (objectives/formatting.py): dollars, leads, or value points.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from decisions import targets
from decisions.audit import wording
from decisions.engine import estimates
from decisions.experiments.evidence import audience_evidence
from decisions.models import Experiment, Proposal, Review
from decisions.review import freshness, kinds, selectors
from objectives import formatting
from objectives.guardrails import fields

EXPIRING_SOON = dt.timedelta(hours=12)
# P(loss) badges: above the engine's own limit is high, above half of it worth a look.
HIGH_P_LOSS, MID_P_LOSS = 0.35, 0.15
REESTIMATED = "re-estimated for the reviewer's values"
# Changes to these targets move the objective (a workflow's retirement saves upkeep instead).
VALUED_TARGETS = (fields.CAMPAIGN, fields.AUDIENCE_TARGET)
money, signed_money = formatting.money, formatting.signed_money


def _field_label(change: dict) -> str:
    try:
        return fields.of(change).label
    except fields.UnknownField:
        return str(change.get("field")).replace("_", " ")


def _value_text(field: str, value) -> str:
    if field == fields.BUDGET and value is not None:
        return money(float(value))
    return "—" if value is None else str(value)


def change_lines(changes: list[dict], names: dict[str, str], final_changes: list[dict] | None = None) -> list[dict]:
    """Each change with its campaign's name and the size of the move, for the row's numbers.

    With `final_changes` (an edit), each line moves to the reviewer's value and keeps the machine's beside it.
    """
    chosen = {(targets.ref(c), c.get("field")): c for c in final_changes or []}
    # An audience edit may narrow the audience, which is another ref: its (one) change is matched by position.
    by_position = bool(final_changes) and all(fields.target_of(c) == fields.AUDIENCE_TARGET for c in changes)
    lines = []
    for index, change in enumerate(changes):
        if by_position and index < len(final_changes):
            final = final_changes[index]
        else:
            final = chosen.get((targets.ref(change), change["field"]), change) if chosen else change
        # A line names its thing by id under "campaign" (a workflow's id), as pages and verdict wording read it;
        # a workflow's name and why it may go are looked up by its ref.
        shown_id = targets.ref(change)[-1]
        own = names.get(change.get("campaign")) if "campaign" in change else names.get(targets.ref(change))
        own = own or change.get("name")  # a workflow's change carries the name it had when proposed
        line = {
            **change,
            "campaign": shown_id,
            "to": final["to"],
            "machine_to": change["to"],
            "edited": final is not change and not estimates.same_value(change["field"], final["to"], change["to"]),
            "name": own or shown_id,
            "why": names.get(("why", *targets.ref(change)), ""),
            "field_label": _field_label(change),
            "pct": None,
            "delta": None,
        }
        if (actions := names.get(("actions", change.get("experiment")))) is not None:
            # An audience's actions by the names marketers gave them (the headline and the row say those).
            line.update(
                from_name=actions.get(change["from"], change["from"]),
                to_name=actions.get(final["to"], final["to"]),
                machine_to_name=actions.get(change["to"], change["to"]),
                # The control's arm, as "to" is one: the headline says "stop sending" when the change goes back to it.
                control=names.get(("control", change.get("experiment"))),
                control_name=actions.get(names.get(("control", change.get("experiment")))),
            )
        if change["field"] == fields.BUDGET:
            before, after = float(change["from"]), float(final["to"])
            line["delta"] = round(after - before, 2)
            line["pct"] = round(100 * (after - before) / before, 1) if before else None
        lines.append(line)
    return lines


def pct_text(line: dict) -> str:
    """A budget line's move in % ("new" from nothing); "" for other fields. Worded only where a line is shown."""
    if line["field"] != fields.BUDGET:
        return ""
    return "new" if line["pct"] is None else formatting.signed_percent(line["pct"])


# A row names this many of a proposal's campaigns, its largest moves; its page names them all. A shift across a
# hundred campaigns cannot be read at a glance, and drawing every line of every row was most of a queue page.
ROW_LINES = 5


def row_lines(lines: list[dict], limit: int = ROW_LINES) -> list[dict]:
    """The lines a queue row shows: all of them up to `limit`, else the largest moves, in the proposal's order."""
    if len(lines) <= limit:
        return lines
    largest = sorted(range(len(lines)), key=lambda i: -abs(lines[i]["delta"] or lines[i]["pct"] or 0))[:limit]
    return [lines[i] for i in sorted(largest)]


def lines_html(lines: list[dict]) -> SafeString:
    """The row's list items for its change lines, escaped here in one pass: a template variable per figure per
    line was most of drawing a queue page of 100 rows."""
    return format_html_join("", "<li>{}</li>", ((_line_html(line),) for line in lines))


def _line_html(line: dict) -> SafeString:
    # The values are worded here, for the lines a row shows, not for every line of a wide shift.
    field = line["field"]
    proposed = (
        format_html(
            ' <span class="proposed">(proposed {})</span>',
            line.get("machine_to_name") or _value_text(field, line["machine_to"]),
        )
        if line["edited"]
        else ""
    )
    delta = ""
    if move := pct_text(line):
        direction = "down" if line["delta"] is not None and line["delta"] < 0 else "up"
        delta = format_html(' <span class="delta {}">{}</span>', direction, move)
    return format_html(
        '{} <span class="muted">{}</span> <span class="nums">{} → <strong>{}</strong>{}</span>{}',
        line["name"],
        line["field_label"],
        line.get("from_name") or _value_text(field, line["from"]),
        line.get("to_name") or _value_text(field, line["to"]),
        proposed,
        delta,
    )


def net_budget_text(changes: list[dict], machine_changes: list[dict]) -> str:
    """What an edit did to the total daily budget, beside the machine's; "" when both nets agree."""
    net, machine_net = estimates.net_budget_change(changes), estimates.net_budget_change(machine_changes)
    if round(net - machine_net, 2) == 0:
        return ""
    return f"Net daily budget {net_text(net)} (the engine's version: {net_text(machine_net)})"


def net_text(net: float) -> str:
    return "budget-neutral" if round(net, 2) == 0 else f"{signed_money(net)}/day"


# --- what a proposal's numbers are counted in ------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveWords:
    label: str  # "Pipeline value", "Closed revenue + 0.3 × pipeline + 50 × leads"
    unit: formatting.Unit
    metric: str = ""
    weights: dict | None = None


def objective_words(metric: str | None, weights: dict | None = None) -> ObjectiveWords:
    metric = metric or "pipeline_value"
    return ObjectiveWords(
        formatting.objective_label(metric, weights), formatting.objective_unit(metric, weights), metric, weights or {}
    )


def objective_of(proposal: Proposal, objectives: dict[int, tuple[str, dict]]) -> ObjectiveWords:
    """The objective of the run that made the proposal (its composite weights), else its stored metric."""
    metric, weights = objectives.get(proposal.run_id, (proposal.expected_metric, {}))
    if proposal.expected_metric and metric and proposal.expected_metric != metric:
        # Counted in its own metric: an audience's figure is its test's outcome, not the run's objective.
        return objective_words(proposal.expected_metric)
    return objective_words(metric or proposal.expected_metric, weights)


# --- what was decided, and what it should bring -------------------------------------------------


def final_changes_of(proposal: Proposal) -> list[dict] | None:
    """The reviewer's values when an edit was approved; None otherwise (a pending row never asks)."""
    if proposal.status == Proposal.Status.PENDING:
        return None
    review = getattr(proposal, "review", None)
    if review is None or review.decision != Review.Decision.EDITED or not review.final_changes:
        return None
    return review.final_changes


def machine_estimate(proposal: Proposal) -> estimates.Estimate:
    return estimates.Estimate(
        proposal.expected_mean, proposal.expected_low, proposal.expected_high, proposal.p_loss, reestimated=False
    )


def estimate_for(proposal: Proposal, changes: list[dict] | None) -> estimates.Estimate:
    """The machine's figures, or (for other values) the model's re-estimate of them from the stored curves."""
    machine = machine_estimate(proposal)
    if changes is None:
        return machine
    stored = getattr(getattr(proposal, "review", None), "final_estimate", None)
    if stored:  # re-estimated when decided, where the curves cannot say it (an edited audience)
        return estimates.Estimate(stored["mean"], stored["low"], stored["high"], stored["p_loss"], reestimated=True)
    return estimates.reestimate(changes, evidence=proposal.evidence, machine_changes=proposal.changes, machine=machine)


def risk_class(p_loss: float) -> str:
    return "high" if p_loss >= HIGH_P_LOSS else "mid" if p_loss >= MID_P_LOSS else ""


def impact(estimate: estimates.Estimate, objective: ObjectiveWords, *, machine: estimates.Estimate) -> dict:
    """The impact cell's words: mean, 80% interval and P(loss) in the objective's unit, and the machine's
    figures beside a re-estimate."""
    unit = objective.unit
    words = {
        "mean": unit.amount(estimate.mean),
        "low": unit.amount(estimate.low),
        "high": unit.amount(estimate.high),
        "interval": unit.interval(estimate.low, estimate.high),
        "negative": estimate.mean < 0,
        "metric": objective.label,
        "unit": unit.noun or "$",
        "p_loss": estimate.p_loss,
        "p_loss_text": formatting.percent(estimate.p_loss),
        "risk": risk_class(estimate.p_loss),
        "reestimated": estimate.reestimated,
    }
    if estimate.reestimated:
        words["proposed_mean"] = unit.amount(machine.mean)
        words["proposed_p_loss_text"] = formatting.percent(machine.p_loss)
    return words


def edit_summary(proposal: Proposal, changes: list[dict]) -> dict:
    """What the edit form shows live for the values typed so far: each field's current, machine's and reviewer's
    value, the net daily budget change beside the machine's, and the weekly impact re-estimated for them."""
    names = {line["campaign"]: line["name"] for line in proposal.lines}
    net, machine_net = estimates.net_budget_change(changes), estimates.net_budget_change(proposal.changes)
    estimate = estimate_for(proposal, changes)
    return {
        "lines": change_lines(proposal.changes, names, changes),
        "net": net_text(net),
        "machine_net": net_text(machine_net),
        "net_differs": round(net - machine_net, 2) != 0,
        "net_down": net < machine_net,
        # A pause or an audience move changes no budget: no net line to show for it.
        "moves_budget": kinds.lever_of(proposal.kind) == estimates.BUDGET,
        "impact": impact(estimate, proposal.objective, machine=machine_estimate(proposal)),
    }


def named_verdicts(verdicts: list[dict], names: dict[str, str]) -> list[dict]:
    """Verdicts stored before messages named campaigns say "SIM-0020: …": the name takes the id's place."""
    return [{**verdict, "message": wording.named(str(verdict.get("message", "")), names)} for verdict in verdicts]


def channels_of(changes: list[dict], labels: dict[str, tuple[str, str]]) -> str:
    """The channels a proposal's campaigns run on, each once: "search", or "social, search, video"."""
    channels = dict.fromkeys(labels.get(c.get("campaign"), ("", ""))[1] for c in changes)
    return ", ".join(channel for channel in channels if channel)


def headline(kind: str, lines: list[dict]) -> str:
    """The change in words: what moves where (each kind words its own, decisions/review/kinds.py)."""
    return kinds.get(kind).headline(lines)


@dataclass(frozen=True)
class Guard:
    """The guardrail badges of a row: the worst severity that fails, and which verdicts fail."""

    status: str  # pass | warn | block
    failing: list[dict]
    checked: int

    @property
    def blocks(self) -> bool:
        return any(v.get("severity") == "block" for v in self.failing)

    @property
    def warns(self) -> bool:
        return any(v.get("severity") == "warn" for v in self.failing)


def guard_of(verdicts: list[dict]) -> Guard:
    failing = [v for v in verdicts if not v.get("passed")]
    severities = {v.get("severity") for v in failing}
    status = "block" if "block" in severities else "warn" if failing else "pass"
    return Guard(status=status, failing=failing, checked=len(verdicts))


_PK = 987654321  # a placeholder pk, reversed once per URL name


@functools.cache
def _url_pattern(name: str) -> str:
    return reverse(f"decisions:{name}", args=[_PK])


def row_urls(pk: int) -> dict[str, str]:
    """The row's links without a reverse() per link per row: the queue page draws up to 100 rows."""
    names = {"detail": "proposal", "approve": "proposal-approve", "edit": "proposal-edit", "reject": "proposal-reject"}
    return {key: _url_pattern(name).replace(str(_PK), str(pk)) for key, name in names.items()}


def decorate(proposals: list[Proposal]) -> list[Proposal]:
    """Attach what the row template shows (words, numbers, badges), with one query for every campaign name
    and one for the objectives the proposals were made for."""
    labels = selectors.campaign_labels(targets.campaign_ids(c for p in proposals for c in p.changes))
    names = {external_id: name for external_id, (name, _) in labels.items()} | other_target_names(proposals)
    objectives = selectors.run_objectives(p.run_id for p in proposals)
    now = timezone.now()
    for proposal in proposals:
        machine_lines = change_lines(proposal.changes, names)
        own_names = {line["campaign"]: line["name"] for line in machine_lines}
        final = final_changes_of(proposal)
        proposal.lines = change_lines(proposal.changes, names, final) if final else machine_lines
        # An approved edit says what was done ("… by $12.47"); its lines keep the machine's values beside.
        proposal.headline = headline(proposal.kind, proposal.lines)
        shown = row_lines(proposal.lines)
        proposal.lines_html = lines_html(shown)
        proposal.more_lines = len(proposal.lines) - len(shown)
        proposal.net_change = net_budget_text(final, proposal.changes) if final else ""
        proposal.channels = channels_of(proposal.changes, labels)
        proposal.guard = guard_of(named_verdicts(proposal.guardrail_verdicts, own_names))
        proposal.urls = row_urls(proposal.pk)
        proposal.objective = objective_of(proposal, objectives)
        proposal.estimate = estimate_for(proposal, final)
        proposal.impact = impact(proposal.estimate, proposal.objective, machine=machine_estimate(proposal))
        # Only changes to campaigns move the objective; retiring a workflow saves upkeep, not pipeline.
        # An audience's action moves it too (its test's outcome).
        proposal.valued = kinds.get(proposal.kind).target in VALUED_TARGETS
        # Read when a page shows it (the proposal's page): the queue's rows leave the evidence unloaded.
        proposal.audience_evidence = functools.partial(audience_evidence, proposal, names)
        proposal.age = timesince(proposal.created_at, now, depth=1)
        proposal.expires_in = timeuntil(proposal.expires_at, now, depth=1) if proposal.expires_at else ""
        proposal.expiring_soon = bool(proposal.expires_at and proposal.expires_at - now < EXPIRING_SOON)
    mark_out_of_date(proposals)
    return proposals


def other_target_names(proposals: list[Proposal]) -> dict:
    """Names (and why they may go) of the workflows and audiences the proposals change, by ref: one query per
    target; and the names of the audiences' actions and controls by test (("actions", test), ("control", test))."""
    changes = [c for p in proposals for c in p.changes if fields.target_of(c) != fields.CAMPAIGN]
    found = {}
    for ref, row in targets.current_values(changes).items():
        found[ref] = row["name"]
        found[("why", *ref)] = row.get("why", "")
    found.update(action_names(changes))
    return found


def action_names(changes: list[dict]) -> dict:
    """("actions", test name) → {arm: the action's name}, ("control", test name) → the control's arm."""
    tests = {str(c.get("experiment")) for c in changes if fields.target_of(c) == fields.AUDIENCE_TARGET}
    if not tests:
        return {}
    found = {}
    for test in Experiment.objects.filter(name__in=tests).prefetch_related("actions"):
        named = {action.arm: action.name for action in test.actions.all()}
        found[("actions", test.name)] = named
        found[("control", test.name)] = test.control_arm
    return found


def mark_out_of_date(proposals: list[Proposal]) -> None:
    """`out_of_date`: why a pending proposal can no longer be approved ("" when it can), one query for the page."""
    pending = {p.pk for p in proposals if p.status == Proposal.Status.PENDING}
    values = freshness.current_values(c for p in proposals if p.pk in pending for c in p.changes)
    for proposal in proposals:
        drifts = freshness.drifts(proposal.changes, values) if proposal.pk in pending else []
        proposal.out_of_date = freshness.proposal_message(drifts) if drifts else ""
