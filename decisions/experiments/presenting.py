"""An experiment in words and numbers for its page: audiences as sentences, uplift in the outcome's unit, the
balance check as a verdict, uplift curves as SVG points (no script needed)."""

from __future__ import annotations

from dataclasses import dataclass

from decisions.audiences import attribute_label, segment_words
from decisions.engine import uplift
from decisions.experiments import analysing
from decisions.models import Experiment
from objectives import formatting

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 320, 160, 8


def p_loss_words(p_loss: float) -> str:
    """A chance in percent; below 0.1% says so, rather than a "0.0%" that reads as impossible."""
    return "under 0.1%" if p_loss < 0.001 else formatting.percent(p_loss)


def curve_points(points: list, low: float, high: float) -> str:
    """An SVG polyline's points for [[share, gain]], scaled into the chart's box between `low` and `high`."""
    span = (high - low) or 1.0
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    return " ".join(
        f"{CHART_PAD + share * inner_w:.1f},{CHART_PAD + (high - gain) / span * inner_h:.1f}" for share, gain in points
    )


@dataclass
class Chart:
    curve: str
    random: str
    zero_y: float
    final: str  # the action's average uplift, in words
    rows: list  # [(share %, gain in words)] for the table beside it


def chart(points: list, unit: formatting.Unit) -> Chart | None:
    if len(points) < 2:
        return None
    gains = [gain for _, gain in points]
    low, high = min(0.0, *gains), max(0.0, *gains)
    random = [[0.0, 0.0], [1.0, gains[-1]]]
    zero = CHART_PAD + high / ((high - low) or 1.0) * (CHART_HEIGHT - 2 * CHART_PAD)
    rows = [(f"{share:.0%}", unit.amount(gain)) for share, gain in points[::4]]
    return Chart(curve_points(points, low, high), curve_points(random, low, high), zero, unit.amount(gains[-1]), rows)


@dataclass
class UpliftRow:
    action: str
    mean: str
    interval: str
    p_loss: str
    customers: int
    gain: bool
    loss: bool
    is_best: bool


@dataclass
class AudienceView:
    words: str
    segment: dict
    size: int
    share: str
    best_action: str
    keeps_control: bool
    confident: bool
    per_customer: str
    interval: str
    p_loss: str
    per_send: str  # for one send to the whole audience
    uplifts: list[UpliftRow]
    harmful: list[str]  # actions that confidently hurt here
    arm_outcomes: list  # [(action, customers, mean outcome in words)]
    chart: Chart | None
    curve_action: str


def _uplift_row(u: uplift.ActionUplift, names: dict, unit: formatting.Unit, best: str) -> UpliftRow:
    return UpliftRow(
        action=names.get(u.action, u.action),
        mean=unit.amount(u.mean),
        interval=unit.interval(u.low, u.high),
        p_loss=p_loss_words(u.p_loss),
        customers=u.customers,
        gain=u.confident_gain,
        loss=u.confident_loss,
        is_best=u.action == best,
    )


def audience_view(analysis: uplift.Analysis, audience: uplift.Audience, names: dict, unit) -> AudienceView:
    best = audience.best
    return AudienceView(
        words=segment_words(audience.segment),
        segment=audience.segment,
        size=audience.size,
        share=formatting.percent(audience.share),
        best_action=names.get(audience.best_action, audience.best_action),
        keeps_control=audience.best_action == analysis.control,
        confident=audience.confident,
        per_customer=unit.amount(best.mean) if best else unit.amount(0),
        interval=unit.interval(best.low, best.high) if best else "",
        p_loss=p_loss_words(best.p_loss) if best else "",
        per_send=unit.amount(best.mean * audience.size) if best else unit.amount(0),
        uplifts=[_uplift_row(u, names, unit, audience.best_action) for u in audience.uplifts],
        harmful=[names.get(u.action, u.action) for u in audience.harmful],
        arm_outcomes=[
            (names.get(arm, arm), seen["customers"], unit.amount(seen["mean"], signed=False))
            for arm, seen in audience.arm_outcomes.items()
        ],
        chart=chart(audience.curve, unit),
        curve_action=names.get(audience.curve_action, audience.curve_action),
    )


@dataclass
class BalanceRow:
    name: str
    kind: str
    p_value: str
    difference: str
    arm: str
    flagged: bool


def balance_rows(experiment: Experiment, names: dict) -> list[BalanceRow]:
    if not experiment.balance:
        return []
    return [
        BalanceRow(
            name=attribute_label(a["name"]),
            kind="number" if a["numeric"] else "category",
            p_value=f"{a['p_value']:.3f}" if a["p_value"] >= 0.001 else "< 0.001",
            difference=f"{a['largest_difference']:.2f}",
            arm=names.get(a["arm"], a["arm"]),
            flagged=a["flagged"],
        )
        for a in experiment.balance["attributes"]
    ]


def experiment_context(experiment: Experiment) -> dict:
    actions = list(experiment.actions.all())
    names = {action.arm: action.name for action in actions}
    analysis = analysing.stored_analysis(experiment)
    metric = (experiment.analysis or {}).get("metric") or (experiment.outcomes or [""])[0]
    unit = formatting.objective_unit(metric)
    context = {
        "experiment": experiment,
        "actions": actions,
        "control_name": names.get(experiment.control_arm, experiment.control_arm),
        "arm_sizes": [
            (names.get(arm, arm), arm == experiment.control_arm, n) for arm, n in experiment.arm_sizes.items()
        ],
        "balance_rows": balance_rows(experiment, names),
        "balance_passed": bool(experiment.balance and experiment.balance.get("passed")),
        "balance_alpha_pct": formatting.percent((experiment.balance or {}).get("alpha") or 0),
        "metric_label": formatting.metric_label(metric),
        # Judged in lifetime value: how many customers have one (the rest bought nothing: 0), or why it was not.
        "customers_valued": (experiment.analysis or {}).get("customers_valued"),
        "metric_note": (experiment.analysis or {}).get("metric_note", ""),
        "judged_now_label": formatting.metric_label(now)
        if (now := analysing.analysed_metric(experiment)) != metric
        else "",
        "analysis": analysis,
    }
    if analysis is not None:
        context["audiences"] = [audience_view(analysis, a, names, unit) for a in analysis.audiences]
        context["curves"] = [
            (names.get(action, action), chart(curve["points"], unit), curve["qini"] > 0)
            for action, curve in analysis.curves.items()
        ]
        context["fitted_sample"] = analysis.fitted_on < analysis.customers
        context["confidence_pct"] = formatting.percent(analysis.confidence)
    return context
