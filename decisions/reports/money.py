"""What the week's decisions were worth: money left on the table, and who turned out right.

Every figure is per week, in the objective's own unit (dollars, or leads, clicks …), summed by the database
over one week's decision events joined to their proposals and outcomes, grouped by the metric the proposal
was made for (weeks in which the objective changed get one row per metric, never a sum across units).

    machine's version   Outcome.machine_estimate once computed, else the engine's expected mean when it
                        proposed (the same model, before any data after the decision)
    reviewer's version  a rejection changes nothing: 0. An edit: Outcome.human_estimate once computed, else
                        the expected mean × the share of the machine's budget move the reviewer kept
    left on the table   machine's version − reviewer's version, over the edits and rejections: positive when
                        the machine's versions were expected to do better, negative when people avoided a loss

Realised outcomes (the difference-in-differences of decisions/outcomes/service.py) exist only for what ran,
14 days after it ran: they say how the approved proposals did against what was expected, and how the
edited versions did.
"""

from __future__ import annotations

from django.db.models import Avg, Case, Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from decisions import units
from decisions.audit.actions import Action
from decisions.reports import sql

APPROVED = Action.PROPOSAL_APPROVED
AUTO_APPROVED = Action.PROPOSAL_AUTO_APPROVED
EDITED = Action.PROPOSAL_EDITED
REJECTED = Action.PROPOSAL_REJECTED
FOLLOWED = (APPROVED, AUTO_APPROVED)
OVERRIDDEN = (EDITED, REJECTED)
KNOWN = Q(proposal__outcome__realised__isnull=False)


def _float(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=FloatField())


def machine_value():
    """The model's weekly value of the machine's version."""
    return Coalesce(F("proposal__outcome__machine_estimate"), F("proposal__expected_mean"), output_field=FloatField())


def reviewer_value():
    """The model's weekly value of what the reviewer chose (None for a decision that followed the machine)."""
    kept = _float(F("proposal__expected_mean") * sql.edit_ratio())
    return Case(
        When(action=REJECTED, then=Value(0.0)),
        When(action=EDITED, then=Coalesce(F("proposal__outcome__human_estimate"), kept)),
        default=Value(None),
        output_field=FloatField(),
    )


def left_on_table():
    return _float(machine_value() - reviewer_value())


def who_gap():
    """Human − machine for an override: what the reviewer's version did (realised, else estimated; a
    rejection 0) minus what the machine's would have done. Positive: the human was right."""
    realised = F("proposal__outcome__realised")
    human = Case(
        When(action=REJECTED, then=Coalesce(realised, "proposal__outcome__human_estimate", Value(0.0))),
        default=Coalesce(realised, "proposal__outcome__human_estimate"),
        output_field=FloatField(),
    )
    return _float(human - F("proposal__outcome__machine_estimate"))


def _round(value, digits: int = 2):
    return None if value is None else round(float(value), digits)


def _by_metric(decisions: QuerySet, **aggregates) -> list[dict]:
    """Grouped by what the proposals were made for: the metric and the run's composite weights (its unit)."""
    grouped = decisions.values(metric=F("proposal__expected_metric"), weights=F("proposal__run__objective__weights"))
    rows = grouped.annotate(**aggregates).order_by("metric")
    return [_with_unit(row) for row in rows]


def _with_unit(row: dict) -> dict:
    weights = row.pop("weights") or {}
    return {
        **row,
        "weights": weights,
        "unit": units.unit_name(row["metric"], weights),
        "label": units.label(row["metric"], weights),
    }


def amount(row: dict, key: str) -> str:
    return units.amount(row[key], row["metric"], weights=row["weights"], signed=True, per="week")


def left_on_the_table(decisions: QuerySet) -> list[dict]:
    """Per metric: what was approved (expected, realised where known), edited and rejected, and what was left."""
    of = {
        "followed": Q(action__in=FOLLOWED),
        "edited": Q(action=EDITED),
        "rejected": Q(action=REJECTED),
    }
    rows = _by_metric(
        decisions.annotate(machine=machine_value(), reviewer=reviewer_value(), left=left_on_table()),
        approved=Count("id", filter=of["followed"]),
        approved_expected=Sum("proposal__expected_mean", filter=of["followed"]),
        approved_known=Count("id", filter=of["followed"] & KNOWN),
        approved_known_expected=Sum("proposal__outcome__expected_mean", filter=of["followed"] & KNOWN),
        approved_realised=Sum("proposal__outcome__realised", filter=of["followed"] & KNOWN),
        edited=Count("id", filter=of["edited"]),
        edited_machine=Sum("machine", filter=of["edited"]),
        edited_reviewer=Sum("reviewer", filter=of["edited"]),
        edited_estimated=Count("reviewer", filter=of["edited"]),
        edited_known=Count("id", filter=of["edited"] & KNOWN),
        edited_realised=Sum("proposal__outcome__realised", filter=of["edited"] & KNOWN),
        rejected=Count("id", filter=of["rejected"]),
        rejected_machine=Sum("machine", filter=of["rejected"]),
        left=Sum("left", filter=of["edited"] | of["rejected"]),
    )
    for row in rows:
        for key in AMOUNTS:
            row[key] = _round(row[key])
            row[f"{key}_text"] = amount(row, key)
        # How much of what was expected the measured approvals realised: how far to trust the estimates.
        expected, realised = row["approved_known_expected"], row["approved_realised"]
        measurable = expected is not None and expected > 0 and realised is not None and realised >= 0
        row["realised_share"] = round(realised / expected, 2) if measurable else None
    return [row for row in rows if row["approved"] or row["edited"] or row["rejected"]]


AMOUNTS = (
    "approved_expected",
    "approved_known_expected",
    "approved_realised",
    "edited_machine",
    "edited_reviewer",
    "edited_realised",
    "rejected_machine",
    "left",
)


def total_left(rows: list[dict]) -> dict | None:
    """The headline: one metric's total left on the table, or None when the week mixes metrics or has none."""
    if len(rows) != 1 or rows[0]["left"] is None:
        return None
    row = rows[0]
    return {"metric": row["metric"], "value": row["left"], "text": row["left_text"]}


def who_was_right(decisions: QuerySet) -> dict:
    """Followed decisions against their interval; overrides: did the human's or the machine's version do better."""
    followed = decisions.filter(action__in=FOLLOWED)
    overridden = decisions.filter(action__in=OVERRIDDEN)
    counts = {
        "followed": followed.aggregate(
            decisions=Count("id"),
            known=Count("id", filter=KNOWN),
            hit=Count("id", filter=KNOWN & Q(proposal__outcome__verdict="hit")),
            above=Count("id", filter=KNOWN & Q(proposal__outcome__verdict="above")),
            below=Count("id", filter=KNOWN & Q(proposal__outcome__verdict="below")),
        ),
        "overridden": overridden.annotate(gap=who_gap()).aggregate(
            decisions=Count("id"),
            known=Count("gap", filter=Q(proposal__outcome__isnull=False)),
            human_right=Count("id", filter=Q(gap__gt=0)),
            machine_right=Count("id", filter=Q(gap__lt=0)),
            tie=Count("id", filter=Q(gap=0)),
        ),
    }
    values = {
        "followed": _by_metric(
            followed.filter(KNOWN),
            known=Count("id"),
            mean_error=Avg(_float(F("proposal__outcome__realised") - F("proposal__outcome__expected_mean"))),
            total_realised=Sum("proposal__outcome__realised"),
            total_expected=Sum("proposal__outcome__expected_mean"),
        ),
        "overridden": _by_metric(
            overridden.filter(proposal__outcome__isnull=False).annotate(gap=who_gap()).filter(gap__isnull=False),
            known=Count("id"),
            mean_gap=Avg("gap"),
            total_gap=Sum("gap"),
        ),
    }
    for group, section in counts.items():
        section["not_yet_known"] = section["decisions"] - section["known"]
        for row in values[group]:
            for key in ("mean_error", "total_realised", "total_expected", "mean_gap", "total_gap"):
                if key in row:
                    row[key] = _round(row[key])
                    row[f"{key}_text"] = amount(row, key)
        section["by_metric"] = values[group]
        # The single-metric figures at the top level, as the page and the email show them; None when mixed.
        single = values[group][0] if len(values[group]) == 1 else {}
        for key in ("mean_error",) if group == "followed" else ("mean_gap", "total_gap"):
            section[key] = single.get(key)
        section["metric"] = single.get("metric")
    return counts
