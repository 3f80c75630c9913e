"""Next-best action from a randomised test: what each action adds over the control, for whom.

Pure numpy and scikit-learn, no database. The steps, each chosen for honesty before cleverness:

1. **Outcome models, cross-fitted** (a T-learner): per arm, a gradient-boosted regression of the outcome on the
   customer's attributes, fitted on the other folds and predicting the held-out one, so no customer's own
   outcome is in the model that scores them.
2. **Doubly robust scores**: per customer and arm, the model's prediction corrected by the customer's own
   outcome when they were in that arm, divided by the arm's share (the randomisation is known). Their mean over
   any group is an unbiased estimate of that arm's mean outcome in the group, however wrong the models are.
3. **Audiences**: a shallow policy tree (depth ≤ 2, a minimum size per leaf) over the attributes, grown on one
   half of the customers to maximise the summed scores of the arm each leaf gets. Its leaves are audiences a
   person can read: numbers as ranges (min inclusive, max exclusive), categories as lists of values. Sibling
   leaves that would get the same action are merged; leaves never overlap and cover everyone.
4. **Honest estimates**: every audience's uplift (each action minus the control, per customer) is estimated on
   the *other* half, which the tree never saw, with a bootstrap standard error. Intervals are adjusted for
   the number of audiences × actions compared (Bonferroni), so together they hold at the stated level: on a
   test without any real effect they straddle zero, and nothing is called confident.

Audiences where an action confidently hurts are reported too ("stop sending A to S"). A Qini-style uplift curve
per action shows whether ranking customers by predicted uplift beats sending at random.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

# A category outside the most common ones is one "other" category for the outcome models; the policy tree
# splits only on attributes with at most this many values, so every rule stays a readable list.
MAX_CATEGORIES = 30
QUANTILES = np.linspace(0.1, 0.9, 9)  # candidate thresholds of a number, at the node's deciles
CURVE_POINTS = 21


@dataclass(frozen=True)
class Attribute:
    """One customer attribute: numbers (float, NaN = missing) or categories (strings, "" = missing)."""

    name: str
    values: np.ndarray
    numeric: bool


@dataclass(frozen=True)
class Trial:
    """A randomised test: each customer's arm, their outcome, and their attributes."""

    arms: np.ndarray
    outcome: np.ndarray
    control: str
    attributes: tuple[Attribute, ...]

    @property
    def size(self) -> int:
        return len(self.arms)

    @property
    def actions(self) -> list[str]:
        """The arms other than the control, in a fixed order."""
        return sorted(set(self.arms.tolist()) - {self.control})


@dataclass(frozen=True)
class Settings:
    folds: int = 3
    max_depth: int = 2
    min_leaf_share: float = 0.05
    min_leaf_customers: int = 200
    bootstrap: int = 300
    interval: float = 0.80  # the intervals shown, simultaneous over every audience × action
    confidence: float = 0.95  # a claim is confident when it holds at this level, simultaneously
    max_customers: int = 60_000  # beyond this, models and tree are fitted on a random sample
    tree_on: str = "models"  # what the tree maximises: "models" (their predictions) or "scores" (doubly robust)
    seed: int = 0


@dataclass
class ActionUplift:
    """One action against the control, in one audience, per customer, on the held-out half."""

    action: str
    mean: float
    low: float
    high: float
    p_loss: float  # probability the action does worse than the control here
    customers: int  # held-out customers in this action's arm or the control's, in the audience
    confident_gain: bool = False
    confident_loss: bool = False


@dataclass
class Audience:
    segment: dict  # attribute → [allowed values] or {"min": …, "max": …}; {} = everyone
    size: int
    share: float
    best_action: str  # the tree's choice; the control when nothing beats it
    uplifts: list[ActionUplift]
    arm_outcomes: dict  # arm → {"customers": n, "mean": outcome per customer}, every customer of the audience
    curve: list  # [[share targeted, incremental outcome per customer]] for the best action (or the first)
    curve_action: str = ""

    def uplift_of(self, action: str) -> ActionUplift | None:
        return next((u for u in self.uplifts if u.action == action), None)

    @property
    def best(self) -> ActionUplift | None:
        return self.uplift_of(self.best_action)

    @property
    def confident(self) -> bool:
        best = self.best
        return best is not None and best.confident_gain

    @property
    def harmful(self) -> list[ActionUplift]:
        return [u for u in self.uplifts if u.confident_loss]


@dataclass
class Analysis:
    control: str
    actions: list[str]
    customers: int
    fitted_on: int  # customers the models and tree were fitted on (a sample beyond Settings.max_customers)
    comparisons: int  # audiences × actions: what the intervals are adjusted for
    interval: float
    confidence: float
    audiences: list[Audience]
    curves: dict  # action → {"points": [[share, per customer]], "qini": area above random targeting}
    split_on: list[str] = field(default_factory=list)  # attributes the tree may split on

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Analysis:
        audiences = [Audience(**{**a, "uplifts": [ActionUplift(**u) for u in a["uplifts"]]}) for a in data["audiences"]]
        return cls(**{**data, "audiences": audiences})


# --- features -------------------------------------------------------------------------------------


def _category_codes(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes 0..k-1 for the k most common categories, k for the rest; NaN for missing."""
    text = np.asarray(values, dtype=str)
    names, counts = np.unique(text[text != ""], return_counts=True)
    kept = [str(n) for n in names[np.argsort(-counts, kind="stable")][: MAX_CATEGORIES - 1]]
    lookup = {name: code for code, name in enumerate(kept)}
    codes = np.array([lookup.get(v, len(kept)) if v != "" else np.nan for v in text], dtype=float)
    return codes, kept


def feature_matrix(attributes: tuple[Attribute, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Columns for the outcome models and which of them are categorical."""
    columns, categorical = [], []
    for attribute in attributes:
        if attribute.numeric:
            columns.append(np.asarray(attribute.values, dtype=float))
        else:
            columns.append(_category_codes(attribute.values)[0])
        categorical.append(not attribute.numeric)
    if not columns:
        return np.zeros((0, 0)), np.zeros(0, dtype=bool)
    return np.column_stack(columns), np.array(categorical)


def _model(categorical: np.ndarray, seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        max_iter=150,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features=categorical if categorical.any() else None,
        random_state=seed,
    )


def fit_and_predict(
    features: np.ndarray,
    categorical: np.ndarray,
    arm_index: np.ndarray,
    outcome: np.ndarray,
    n_arms: int,
    predict_for: np.ndarray,
    *,
    seed: int,
) -> np.ndarray:
    """Per arm, a model of the outcome fitted on that arm's customers, predicting `predict_for` (rows × arms)."""
    predicted = np.zeros((len(predict_for), n_arms))
    # One OpenMP thread: these fits are small, and on a busy machine (a worker beside others) the threads wait
    # on each other: 30× slower measured with two threads on two busy cores.
    with threadpool_limits(1):
        for arm in range(n_arms):
            rows = arm_index == arm
            if features.shape[1] == 0 or rows.sum() < 2:
                predicted[:, arm] = outcome[rows].mean() if rows.any() else outcome.mean()
                continue
            model = _model(categorical, seed + arm).fit(features[rows], outcome[rows])
            predicted[:, arm] = model.predict(predict_for)
    return predicted


def cross_fitted_outcomes(
    features: np.ndarray,
    categorical: np.ndarray,
    arm_index: np.ndarray,
    outcome: np.ndarray,
    n_arms: int,
    *,
    folds: int,
    seed: int,
) -> np.ndarray:
    """Per customer and arm, the predicted outcome from models that never saw the customer (n × arms)."""
    fold_of = np.random.default_rng(seed).permutation(len(outcome)) % folds
    predicted = np.zeros((len(outcome), n_arms))
    for k in range(folds):
        train, held = fold_of != k, fold_of == k
        predicted[held] = fit_and_predict(
            features[train], categorical, arm_index[train], outcome[train], n_arms, features[held], seed=seed + 31 * k
        )
    return predicted


def doubly_robust_scores(predicted: np.ndarray, arm_index: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Γ[i, a] = μ_a(x_i) + 1[arm_i = a] (y_i − μ_a(x_i)) / share_a: unbiased for arm a's mean outcome."""
    n, n_arms = predicted.shape
    shares = np.bincount(arm_index, minlength=n_arms) / n
    own = np.zeros_like(predicted)
    own[np.arange(n), arm_index] = 1.0
    residual = outcome[:, None] - predicted
    return predicted + own * residual / np.maximum(shares, 1e-12)


# --- the policy tree ------------------------------------------------------------------------------


@dataclass
class _Split:
    attribute: int
    threshold: float | None = None  # numbers: left is x < threshold
    left_values: frozenset | None = None  # categories: left holds these


@dataclass
class _Node:
    rows: np.ndarray  # indices into the learning half
    action: int
    value: float
    split: _Split | None = None
    left: _Node | None = None
    right: _Node | None = None


def _nice(value: float) -> float:
    """Round a threshold to two significant figures, so a rule reads "age under 35", not 34.71."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return float(round(value, digits))


class _TreeGrower:
    def __init__(self, columns: list[np.ndarray], numeric: list[bool], scores: np.ndarray, min_leaf: int):
        self.columns, self.numeric, self.scores, self.min_leaf = columns, numeric, scores, min_leaf

    def leaf(self, rows: np.ndarray) -> _Node:
        sums = self.scores[rows].sum(axis=0)
        return _Node(rows=rows, action=int(np.argmax(sums)), value=float(sums.max()))

    def candidates(self, rows: np.ndarray) -> list[tuple[_Split, np.ndarray]]:
        found = []
        for index, column in enumerate(self.columns):
            values = column[rows]
            if self.numeric[index]:
                thresholds = sorted({_nice(t) for t in np.quantile(values, QUANTILES)})
                found += [(_Split(index, threshold=float(t)), values < t) for t in thresholds]
            else:
                found += [(_Split(index, left_values=s), np.isin(values, list(s))) for s in self._subsets(rows, values)]
        return [(split, mask) for split, mask in found if self.min_leaf <= mask.sum() <= len(rows) - self.min_leaf]

    def _subsets(self, rows: np.ndarray, values: np.ndarray) -> set[frozenset]:
        """One-against-the-rest, and prefixes of the categories ordered by each action's mean score."""
        names = np.unique(values)
        if len(names) < 2:
            return set()
        subsets = {frozenset([name]) for name in names}
        scores = self.scores[rows]
        means = np.array([scores[values == name].mean(axis=0) for name in names])
        for arm in range(1, scores.shape[1]):
            order = names[np.argsort(means[:, arm] - means[:, 0])]
            subsets |= {frozenset(order[:cut]) for cut in range(1, len(order))}
        return {s for s in subsets if len(s) < len(names)}

    def best_split(self, rows: np.ndarray) -> tuple[float, _Split | None, np.ndarray | None]:
        """The split whose two leaves score most (depth 1), by one matrix product over every candidate."""
        candidates = self.candidates(rows)
        if not candidates:
            return -math.inf, None, None
        masks = np.array([mask for _, mask in candidates], dtype=float)
        scores = self.scores[rows]
        left = masks @ scores
        right = scores.sum(axis=0) - left
        values = left.max(axis=1) + right.max(axis=1)
        best = int(np.argmax(values))
        return float(values[best]), candidates[best][0], candidates[best][1]

    def grow(self, rows: np.ndarray, depth: int) -> _Node:
        """The best tree of at most `depth` levels: exhaustive for depth ≤ 2 (every split, every split below)."""
        node = self.leaf(rows)
        if depth <= 0:
            return node
        if depth == 1:
            value, split, mask = self.best_split(rows)
            return self._split(node, split, mask, depth) if split is not None and value > node.value else node
        best_value, best = node.value, None
        for split, mask in self.candidates(rows):
            value = sum(self._depth_one_value(part) for part in (rows[mask], rows[~mask]))
            if value > best_value + 1e-9:
                best_value, best = value, (split, mask)
        return self._split(node, *best, depth) if best is not None else node

    def _depth_one_value(self, rows: np.ndarray) -> float:
        value, split, _ = self.best_split(rows)
        return max(value, float(self.scores[rows].sum(axis=0).max()))

    def _split(self, node: _Node, split: _Split, mask: np.ndarray, depth: int) -> _Node:
        node.split = split
        node.left = self.grow(node.rows[mask], depth - 1)
        node.right = self.grow(node.rows[~mask], depth - 1)
        return node


def _merge_same_action(node: _Node) -> _Node:
    """Sibling leaves that get the same action are one audience: the split told nothing worth acting on."""
    if node.split is None:
        return node
    node.left, node.right = _merge_same_action(node.left), _merge_same_action(node.right)
    if node.left.split is None and node.right.split is None and node.left.action == node.right.action:
        node.split = node.left = node.right = None
    return node


def _leaf_segments(node: _Node, attributes: list[Attribute], universes: list[list[str]], segment: dict) -> list:
    """(segment, action) per leaf; a segment maps an attribute's name to its range or its allowed values."""
    if node.split is None:
        return [(segment, node.action)]
    attribute = attributes[node.split.attribute]
    name = attribute.name
    if node.split.threshold is not None:
        bounds = segment.get(name, {"min": None, "max": None})
        left = {**segment, name: {**bounds, "max": node.split.threshold}}
        right = {**segment, name: {**bounds, "min": node.split.threshold}}
    else:
        allowed = segment.get(name, universes[node.split.attribute])
        left = {**segment, name: [v for v in allowed if v in node.split.left_values]}
        right = {**segment, name: [v for v in allowed if v not in node.split.left_values]}
    return _leaf_segments(node.left, attributes, universes, left) + _leaf_segments(
        node.right, attributes, universes, right
    )


def segment_mask(segment: dict, attributes: dict[str, Attribute], size: int) -> np.ndarray:
    """Which customers an audience holds: every condition must hold (min inclusive, max exclusive)."""
    inside = np.ones(size, dtype=bool)
    for name, condition in segment.items():
        values = attributes[name].values
        if isinstance(condition, dict):
            numbers = np.asarray(values, dtype=float)
            if condition.get("min") is not None:
                inside &= numbers >= condition["min"]
            if condition.get("max") is not None:
                inside &= numbers < condition["max"]
        else:
            inside &= np.isin(np.asarray(values, dtype=str), condition)
    return inside


def splittable(attribute: Attribute) -> bool:
    """The tree splits only where a rule can be read and holds for everyone: numbers with no missing value,
    categories with a few values."""
    if attribute.numeric:
        return bool(np.isfinite(np.asarray(attribute.values, dtype=float)).all())
    return len(np.unique(np.asarray(attribute.values, dtype=str))) <= MAX_CATEGORIES


# --- estimates ------------------------------------------------------------------------------------


def bootstrap_means(values: np.ndarray, replicates: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Column means and their bootstrap standard errors (Poisson weights: one matrix product)."""
    means = values.mean(axis=0)
    if len(values) < 2:
        return means, np.full(values.shape[1], np.inf)
    weights = rng.poisson(1.0, size=(replicates, len(values))).astype(float)
    totals = np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    draws = (weights @ values) / totals
    return means, draws.std(axis=0, ddof=1)


def uplift_curve(predicted_uplift: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> list[list[float]]:
    """[[share targeted, incremental outcome per customer of the group]]: customers ranked by predicted uplift,
    the top share sent the action. Ends at the action's average uplift; random targeting is the straight line."""
    order = np.argsort(-predicted_uplift, kind="stable")
    treated, outcome = treated[order], outcome[order]
    n = len(order)
    if n == 0 or treated.all() or not treated.any():
        return []
    n_t, n_c = np.cumsum(treated), np.cumsum(~treated)
    y_t, y_c = np.cumsum(outcome * treated), np.cumsum(outcome * ~treated)
    points = [[0.0, 0.0]]
    for share in np.linspace(0, 1, CURVE_POINTS)[1:]:
        k = max(int(round(share * n)) - 1, 0)
        gain = 0.0
        if n_t[k] and n_c[k]:
            gain = (y_t[k] / n_t[k] - y_c[k] / n_c[k]) * (k + 1) / n
        points.append([round(float(share), 3), float(gain)])
    return points


def qini_area(points: list[list[float]]) -> float:
    """Area between the curve and random targeting (the straight line to its end): > 0 when ranking helps."""
    if len(points) < 2:
        return 0.0
    shares = np.array([p[0] for p in points])
    gains = np.array([p[1] for p in points])
    return float(np.trapezoid(gains - shares * gains[-1], shares))


# --- the whole analysis ---------------------------------------------------------------------------


def analyse(trial: Trial, settings: Settings = Settings()) -> Analysis:
    """Audiences with the best action for each, their honest uplift, and the uplift curves."""
    if settings.max_depth > 2:
        raise ValueError("audience rules are at most two conditions deep")
    rng = np.random.default_rng(settings.seed)
    arm_names = [trial.control, *trial.actions]
    if len(arm_names) < 2:
        raise ValueError("a test needs a control and at least one action")
    sample = np.arange(trial.size)
    if trial.size > settings.max_customers:
        sample = np.sort(rng.choice(trial.size, settings.max_customers, replace=False))
    arm_index = np.array([arm_names.index(a) for a in trial.arms[sample]])
    outcome = np.asarray(trial.outcome, dtype=float)[sample]
    attributes = tuple(Attribute(a.name, np.asarray(a.values)[sample], a.numeric) for a in trial.attributes)

    # The tree learns on one half; the other half, which nothing fitted on, judges it. The learning half's
    # predictions are cross-fitted within it; the judging half's come from models fitted on the learning half,
    # so no outcome of a judged customer reaches the tree, the models, or the rules.
    order = rng.permutation(len(sample))
    learn, estimate = np.sort(order[::2]), np.sort(order[1::2])
    features, categorical = feature_matrix(attributes)
    n_arms = len(arm_names)
    predicted = np.zeros((len(sample), n_arms))
    predicted[learn] = cross_fitted_outcomes(
        features[learn], categorical, arm_index[learn], outcome[learn], n_arms, folds=settings.folds, seed=settings.seed
    )
    predicted[estimate] = fit_and_predict(
        features[learn], categorical, arm_index[learn], outcome[learn], n_arms, features[estimate], seed=settings.seed
    )
    scores = doubly_robust_scores(predicted, arm_index, outcome)

    full_attributes = {a.name: a for a in trial.attributes}
    split_on = [a for a in attributes if splittable(full_attributes[a.name])]  # judged on everyone, not the sample
    min_leaf = max(settings.min_leaf_customers, int(settings.min_leaf_share * len(sample))) // 2
    grower = _TreeGrower(
        columns=[np.asarray(a.values, dtype=float if a.numeric else str)[learn] for a in split_on],
        numeric=[a.numeric for a in split_on],
        scores=(predicted if settings.tree_on == "models" else scores)[learn],
        min_leaf=max(min_leaf, 1),
    )
    root = _merge_same_action(grower.grow(np.arange(len(learn)), settings.max_depth))
    # Categories from every customer, not only the sample fitted on: a rare one outside it still lands in an audience.
    universes = [sorted(set(np.asarray(full_attributes[a.name].values, dtype=str).tolist())) for a in split_on]
    leaves = _leaf_segments(root, split_on, universes, {})

    comparisons = len(leaves) * (len(arm_names) - 1)
    claims = max(sum(action != 0 for _, action in leaves), 1)
    by_name = {a.name: a for a in attributes}
    in_estimate = np.zeros(len(sample), dtype=bool)
    in_estimate[estimate] = True
    audiences = []
    for segment, action in leaves:
        members = segment_mask(segment, by_name, len(sample))
        audiences.append(
            _audience(
                segment=segment,
                best_action=arm_names[action],
                size=int(segment_mask(segment, full_attributes, trial.size).sum()),
                total=trial.size,
                held=members & in_estimate,
                members=members,
                scores=scores,
                predicted=predicted,
                arm_index=arm_index,
                outcome=outcome,
                arm_names=arm_names,
                comparisons=comparisons,
                claims=claims,
                settings=settings,
                rng=rng,
            )
        )
    curves = {}
    for a, action in enumerate(arm_names[1:], start=1):
        pair = in_estimate & np.isin(arm_index, [0, a])
        points = uplift_curve(predicted[pair, a] - predicted[pair, 0], arm_index[pair] == a, outcome[pair])
        curves[action] = {"points": points, "qini": qini_area(points)}
    return Analysis(
        control=trial.control,
        actions=arm_names[1:],
        customers=trial.size,
        fitted_on=len(sample),
        comparisons=comparisons,
        interval=settings.interval,
        confidence=settings.confidence,
        audiences=audiences,
        curves=curves,
        split_on=[a.name for a in split_on],
    )


def _audience(
    *,
    segment,
    best_action,
    size,
    total,
    held,
    members,
    scores,
    predicted,
    arm_index,
    outcome,
    arm_names,
    comparisons,
    claims,
    settings,
    rng,
) -> Audience:
    differences = scores[held][:, 1:] - scores[held][:, [0]]
    means, errors = bootstrap_means(differences, settings.bootstrap, rng)
    shown_z = stats.norm.ppf(1 - (1 - settings.interval) / (2 * comparisons))
    # Half the error allowed goes to gains, tested only for each audience's chosen action (`claims` of them),
    # half to losses, tested for every action in every audience: together they hold at `confidence`.
    gain_z = stats.norm.ppf(1 - (1 - settings.confidence) / (2 * claims))
    loss_z = stats.norm.ppf(1 - (1 - settings.confidence) / (2 * comparisons))
    uplifts = []
    for a, action in enumerate(arm_names[1:], start=1):
        mean, error = float(means[a - 1]), float(errors[a - 1])
        z = mean / error if error > 0 else 0.0
        uplifts.append(
            ActionUplift(
                action=action,
                mean=mean,
                low=mean - shown_z * error,
                high=mean + shown_z * error,
                p_loss=float(stats.norm.cdf(-z)),
                customers=int((held & np.isin(arm_index, [0, a])).sum()),
                confident_gain=bool(action == best_action and z >= gain_z),
                confident_loss=bool(z <= -loss_z),
            )
        )
    arm_outcomes = {
        name: {"customers": int((members & (arm_index == a)).sum()), "mean": _mean(outcome[members & (arm_index == a)])}
        for a, name in enumerate(arm_names)
    }
    curve_arm = arm_names.index(best_action) if best_action != arm_names[0] else 1
    pair = held & np.isin(arm_index, [0, curve_arm])
    curve = uplift_curve(predicted[pair, curve_arm] - predicted[pair, 0], arm_index[pair] == curve_arm, outcome[pair])
    return Audience(
        segment=segment,
        size=size,
        share=size / total if total else 0.0,
        best_action=best_action,
        uplifts=uplifts,
        arm_outcomes=arm_outcomes,
        curve=curve,
        curve_action=arm_names[curve_arm],
    )


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else 0.0


def policy_action(analysis: Analysis, audience: Audience) -> str:
    """What the audience should get: its best action when the gain is confident, else the control unchanged."""
    return audience.best_action if audience.confident else analysis.control
