"""Learning from reviewers: which proposals they accept, and how far they shrink the machine's steps.

Pure: takes decision records, returns a fitted model, JSON-safe parameters and
step factors; decisions/learning.py reads the records from the database and
stores the result.

Accepted means approved, as proposed or edited: the reviewer wanted the change
in some form. How much of the step they kept is the step factors' business,
not the acceptance model's.

The reviewer is a feature at training time so that one strict (or lenient)
reviewer's habits are charged to that reviewer and not to the kind or channel
they happen to review most. At proposal time nobody knows who will review, so
proposals are scored with reviewer=None, which means: averaged over the team,
each reviewer weighted by their share of the decisions the model learnt from
(the chance a proposal meets each of them). Simply leaving every reviewer
indicator at 0 would score a reviewer nobody is, somewhere between the strict
and the lenient ones in the logit, and a strict reviewer's rejections would
leak back in as a bias.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from decisions.engine.proposing import Group
from objectives.guardrails import fields

PARAMS_VERSION = 1
HOLDOUT_SHARE = 0.25  # the newest quarter of decisions is held out for AUC, Brier and reliability
# Moderate L2: with a few hundred decisions and dozens of indicator features, a
# weaker penalty lets rare (kind, channel, size) cells swing to 0 or 1.
REGULARISATION_C = 1.0
RELIABILITY_BINS = 5

MIN_EDITS_FOR_STEP = 5
SHRINK_BELOW = 0.9  # a median kept share under this is a consistent shrink
STEP_FLOOR, STEP_CEILING = 0.3, 1.0

# Size buckets (percent of the budget moved): reviewers treat "a little" and "a lot" differently,
# which a single linear term in the size cannot express.
SIZE_EDGES = ((10.0, "<10%"), (25.0, "10-25%"), (50.0, "25-50%"))
SIZE_TOP = ">50%"
REVIEWER_PREFIX = "reviewer="


# --- features ---------------------------------------------------------------------


def features(
    kind: str,
    channel: str,
    change_pct: float,
    p_loss: float,
    n_warn_failing: int,
    n_block_failing: int,
    reviewer: str | None = None,
) -> dict[str, float]:
    """Numeric features of one proposal (and, when training, of who reviewed it).

    `change_pct` is signed: +25 for a 25% budget increase, −100 for a pause.
    Channel × size and channel × direction interactions let the linear model
    learn habits like "no big moves on brand search" or "cut display freely".
    """
    channel = channel or "-"
    size = min(abs(float(change_pct)), 100.0)
    bucket = size_bucket(size)
    direction = "up" if change_pct > 0 else "down" if change_pct < 0 else "none"
    values = {
        f"kind={kind}": 1.0,
        f"channel={channel}": 1.0,
        f"direction={direction}": 1.0,
        f"size={bucket}": 1.0,
        f"kind={kind}|size={bucket}": 1.0,
        f"channel={channel}|size={bucket}": 1.0,
        f"channel={channel}|direction={direction}": 1.0,
        "size": size / 100.0,
        "p_loss": float(p_loss),
        "warnings": float(n_warn_failing),
        "blocks": float(n_block_failing),
    }
    if reviewer:
        values[f"{REVIEWER_PREFIX}{reviewer}"] = 1.0
    return values


def size_bucket(size_pct: float) -> str:
    for edge, label in SIZE_EDGES:
        if size_pct < edge:
            return label
    return SIZE_TOP


def without_reviewer(values: dict[str, float]) -> dict[str, float]:
    """The features as a proposal is scored before anyone has picked it up."""
    return {name: value for name, value in values.items() if not name.startswith(REVIEWER_PREFIX)}


def change_pct(changes: Sequence[dict], campaign: str | None = None) -> float:
    """Signed size of a proposal's move on its own campaign, in percent of the budget it had.

    A budget shift moves several campaigns; its own campaign is the main
    receiver, which is the move reviewers look at first. Status changes count
    as the whole budget: a pause is −100%, a resume +100%.
    """
    own = [c for c in changes if c.get("campaign") == campaign] or list(changes)
    moves = [move_pct(c) for c in own]
    return max(moves, key=abs) if moves else 0.0


def move_pct(change: dict) -> float:
    """One change's signed move in % of the value it starts from, as its field measures it.

    A status change counts as ±100%; a field nobody registered raises
    UnknownField rather than reading as no move at all.
    """
    return fields.of(change).move_pct(change.get("from"), change.get("to"))


def failing_counts(verdicts: Iterable[dict]) -> tuple[int, int]:
    """(warn-level, block-level) guardrail verdicts that did not pass."""
    failing = [v for v in verdicts or () if not v.get("passed", True)]
    return (
        sum(v.get("severity") == "warn" for v in failing),
        sum(v.get("severity") == "block" for v in failing),
    )


def change_ratio(machine_changes: Sequence[dict], final_changes: Sequence[dict]) -> float | None:
    """How much of the machine's budget move the reviewer kept: 1 = as proposed, 0.5 = half, <0 = reversed.

    The least-squares scale k with human move ≈ k × machine move over every
    budget line, so a shift where the reviewer halved both sides reads 0.5.
    None when there is no budget move to compare (a pause).
    """
    final = {(c.get("campaign"), c.get("field")): c for c in final_changes}
    dot = norm = 0.0
    for change in machine_changes:
        if change.get("field") != fields.BUDGET:
            continue
        human = final.get((change.get("campaign"), change.get("field")))
        try:
            before = float(change["from"])
            machine_move = float(change["to"]) - before
            human_move = (float(human["to"]) - before) if human else 0.0
        except (KeyError, TypeError, ValueError):
            continue
        dot += human_move * machine_move
        norm += machine_move * machine_move
    return dot / norm if norm > 0 else None


# --- records and fitting ---------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One human decision on one proposal, as the learning needs it."""

    features: dict[str, float]
    accepted: bool
    at: Any  # anything that sorts by time: a datetime, or a step number in simulations
    kind: str = ""
    channel: str = ""
    edited: bool = False
    ratio: float | None = None  # share of the engine's own step the reviewer kept (accepted decisions)


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    n: int
    predicted: float | None  # mean P(accept) in the bin
    observed: float | None  # share actually accepted


@dataclass(frozen=True)
class Evaluation:
    """Measured on the newest decisions, by a model that never saw them, scored as proposals are (no reviewer)."""

    n_train: int
    n_test: int
    auc: float | None
    brier: float | None
    base_rate: float
    reliability: list[ReliabilityBin]
    auc_with_reviewer: float | None = None


@dataclass
class FittedAcceptance:
    """Logistic regression on all decisions; `evaluation` is from the time-ordered hold-out before the refit."""

    names: list[str]
    coef: np.ndarray
    intercept: float
    n: int
    evaluation: Evaluation | None
    reviewer_mix: dict[str, float] = field(default_factory=dict)  # reviewer feature → share of decisions
    estimator: LogisticRegression | None = field(default=None, repr=False)
    vectorizer: DictVectorizer | None = field(default=None, repr=False)

    def to_params(self) -> dict:
        return {
            "version": PARAMS_VERSION,
            "features": list(self.names),
            "coef": [float(c) for c in self.coef],
            "intercept": float(self.intercept),
            "reviewer_mix": {name: float(share) for name, share in self.reviewer_mix.items()},
        }

    def predict(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        params = self.to_params()
        return np.array([score(params, row) for row in rows])


def score(params: dict, values: dict[str, float]) -> float:
    """P(accept) from stored parameters: the logistic of intercept + Σ coef × feature, as predict_proba does.

    Features the model never saw count as 0, as DictVectorizer drops them.
    Without a reviewer among the features, the probability is averaged over
    the reviewer mix the model was trained on (see the module docstring).
    """
    coefs = dict(zip(params.get("features", ()), params.get("coef", ()), strict=True))
    z = float(params.get("intercept", 0.0)) + sum(coefs.get(name, 0.0) * value for name, value in values.items())
    mix = params.get("reviewer_mix") or {}
    if not mix or any(name.startswith(REVIEWER_PREFIX) for name in values):
        return _logistic(z)
    unknown = max(1.0 - sum(mix.values()), 0.0)  # decisions with no reviewer on record
    return unknown * _logistic(z) + sum(share * _logistic(z + coefs.get(name, 0.0)) for name, share in mix.items())


def _logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit(records: Sequence[Decision]) -> FittedAcceptance:
    """Train on the oldest 75%, measure on the newest 25%, then refit on everything for use."""
    ordered = sorted(records, key=lambda r: r.at)
    if not ordered:
        raise ValueError("No decisions to learn from.")
    cut = int(round(len(ordered) * (1 - HOLDOUT_SHARE)))
    train, test = ordered[:cut], ordered[cut:]
    evaluation = _evaluate(_fit_estimator(train), train, test) if train and test else None
    fitted = _fit_estimator(ordered)
    fitted.evaluation = evaluation
    return fitted


def _fit_estimator(records: Sequence[Decision]) -> FittedAcceptance:
    labels = np.array([int(r.accepted) for r in records])
    if labels.min() == labels.max():
        # Everyone always accepted (or always rejected): no contrast to learn from, only a smoothed rate.
        rate = (labels.sum() + 1) / (len(labels) + 2)
        return FittedAcceptance(
            names=[], coef=np.zeros(0), intercept=math.log(rate / (1 - rate)), n=len(records), evaluation=None
        )
    vectorizer = DictVectorizer(sparse=False, sort=True)
    matrix = vectorizer.fit_transform([r.features for r in records])
    # No class_weight: P(accept) is shown as a probability, and reweighting classes would bias it.
    estimator = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
    estimator.fit(matrix, labels)
    return FittedAcceptance(
        names=[str(n) for n in vectorizer.get_feature_names_out()],
        coef=estimator.coef_[0].copy(),
        intercept=float(estimator.intercept_[0]),
        n=len(records),
        evaluation=None,
        reviewer_mix=_reviewer_mix(records),
        estimator=estimator,
        vectorizer=vectorizer,
    )


def _reviewer_mix(records: Sequence[Decision]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for record in records:
        for name in record.features:
            if name.startswith(REVIEWER_PREFIX):
                counts[name] = counts.get(name, 0) + 1
    return {name: round(count / len(records), 6) for name, count in sorted(counts.items())}


def _evaluate(model: FittedAcceptance, train: Sequence[Decision], test: Sequence[Decision]) -> Evaluation:
    labels = np.array([int(r.accepted) for r in test])
    shown = model.predict([without_reviewer(r.features) for r in test])
    with_reviewer = model.predict([r.features for r in test])
    both = labels.min() != labels.max()
    return Evaluation(
        n_train=len(train),
        n_test=len(test),
        auc=float(roc_auc_score(labels, shown)) if both else None,
        brier=float(brier_score_loss(labels, shown)),
        base_rate=float(labels.mean()),
        reliability=reliability(shown, labels),
        auc_with_reviewer=float(roc_auc_score(labels, with_reviewer)) if both else None,
    )


def reliability(predicted: np.ndarray, labels: np.ndarray, *, bins: int = RELIABILITY_BINS) -> list[ReliabilityBin]:
    """Equal-width bins of P(accept): a calibrated model's observed share sits inside each bin."""
    predicted, labels = np.asarray(predicted, dtype=float), np.asarray(labels, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(predicted, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        table.append(
            ReliabilityBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                n=n,
                predicted=float(predicted[inside].mean()) if n else None,
                observed=float(labels[inside].mean()) if n else None,
            )
        )
    return table


# --- step calibration -------------------------------------------------------------------


@dataclass(frozen=True)
class StepCell:
    """What reviewers did with the machine's steps for one (kind, channel)."""

    key: str  # "kind|channel"
    n_accepted: int
    n_edits: int
    median_kept: float  # median share of the engine's step kept, over the accepted decisions
    factor: float | None  # the step factor the engine now applies, None when reviewers do not consistently shrink


def step_key(kind: str, channel: str) -> str:
    return f"{kind}|{channel or '-'}"


def step_cells(decisions: Iterable[Decision]) -> list[StepCell]:
    """Per (kind, channel): how much of the machine's step accepted decisions kept.

    The median runs over every accepted decision with a budget move, an
    approval as proposed counting as 1: five edits among two hundred
    untouched approvals are not a habit, and must not shrink every proposal.
    At least MIN_EDITS_FOR_STEP edits are needed before a factor is set.
    """
    kept: dict[str, list[float]] = {}
    edits: dict[str, int] = {}
    for d in decisions:
        if not d.accepted or d.ratio is None:
            continue
        key = step_key(d.kind, d.channel)
        kept.setdefault(key, []).append(float(d.ratio))
        edits[key] = edits.get(key, 0) + int(d.edited)
    cells = []
    for key in sorted(kept):
        median = float(statistics.median(kept[key]))
        shrinks = edits[key] >= MIN_EDITS_FOR_STEP and median < SHRINK_BELOW
        factor = round(min(max(median, STEP_FLOOR), STEP_CEILING), 3) if shrinks else None
        cells.append(StepCell(key, len(kept[key]), edits[key], round(median, 3), factor))
    return cells


def step_factors(decisions: Iterable[Decision]) -> dict[str, float]:
    """{"kind|channel": factor} where reviewers consistently shrink the engine's step; absent = 1.0."""
    return {cell.key: cell.factor for cell in step_cells(decisions) if cell.factor is not None}


def scaled_changes(changes: Sequence[dict], factor: float) -> list[dict]:
    """Budget moves shortened to `factor` of the machine's step, from the same starting budgets.

    Budget shifts stay budget-neutral: the rounding remainder goes to the
    largest move, so the cents still add up to zero.
    """
    if factor >= 1.0:
        return [dict(c) for c in changes]
    result = [dict(c) for c in changes]
    budget_lines = [c for c in result if c.get("field") == fields.BUDGET]
    if not budget_lines:
        return result
    before_cents = [round(float(c["from"]) * 100) for c in budget_lines]
    moves = [round(float(c["to"]) * 100) - b for c, b in zip(budget_lines, before_cents, strict=True)]
    scaled = [round(m * factor) for m in moves]
    residual = sum(scaled) - round(sum(moves) * factor)
    if residual and scaled:
        largest = max(range(len(scaled)), key=lambda i: abs(scaled[i]))
        scaled[largest] -= residual
    for change, before, move in zip(budget_lines, before_cents, scaled, strict=True):
        change["to"] = round((before + move) / 100, 2)
    return result


def scaled_group(group: Group, factor: float) -> Group:
    """A budget shift shortened to `factor` of its step, still budget-neutral to the cent.

    Scale the group before its draft is written, so the expected impact,
    interval and P(loss) describe the step actually proposed.
    """
    if factor >= 1.0:
        return group
    cents = {i: round(d * 100) for i, d in group.deltas.items()}
    scaled = {i: round(c * factor) for i, c in cents.items()}
    residual = sum(scaled.values()) - round(sum(cents.values()) * factor)
    if residual:
        largest = max(scaled, key=lambda i: abs(scaled[i]))
        scaled[largest] -= residual
    return Group({i: c / 100 for i, c in scaled.items()})
