"""What the channel mix model reads: imported totals per period, spend per channel over the same periods,
and the controls; plus one call that fits the model and checks the data (the Mix page, export_mix, proposals).

Spend is summed from the campaigns' daily (or weekly-dated) rows into each total's period [date, date +
period); a period before the first or after the last day with any spend is left out, because spend there is
unknown rather than zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.db.models import Sum

from decisions.data.totals import SOURCE
from decisions.engine.mix import MixFit, fit_mix
from decisions.engine.mix_checks import Check, run_checks, worst
from decisions.models import DailyMetric, DailyTotal

MAX_PERIODS = {7: 156, 1: 730}  # three years of weeks, two of days: older data describe another market
METRICS = ("pipeline_value", "closed_revenue", "leads")
UNLABELLED = "Unlabelled"
# A cached fit lives a day (the same inputs fit the same model; the day bounds what stale code could leave), and
# the version changes when the model's code changes what a fit holds.
MIX_FIT_SECONDS = 24 * 3600
MIX_FIT_VERSION = 1


@dataclass
class MixInputs:
    metric: str
    period_days: int
    dates: list[dt.date]
    channels: list[str]
    spend: np.ndarray  # periods × channels
    outcome: np.ndarray
    control_names: list[str]
    controls: np.ndarray
    notes: list[str] = field(default_factory=list)


@dataclass
class MixReading:
    """The model's answer with the checks, or why there is none (`problem`)."""

    inputs: MixInputs | None
    checks: list[Check]
    fit: MixFit | None = None
    problem: str = ""

    @property
    def status(self) -> str:
        return worst(self.checks) if self.checks else ""


def load_inputs(metric: str) -> MixInputs | None:
    """None when no totals of this metric were imported."""
    if metric not in METRICS:
        metric = "closed_revenue"
    rows = list(
        DailyTotal.objects.filter(source=SOURCE, **{f"{metric}__isnull": False})
        .order_by("date")
        .values("date", "period_days", metric, "controls")
    )
    if not rows:
        return None
    period_days = 7 if sum(r["period_days"] == 7 for r in rows) * 2 >= len(rows) else 1
    rows = [r for r in rows if r["period_days"] == period_days][-MAX_PERIODS[period_days] :]
    spend_by_day = _spend_by_day_and_channel(rows[0]["date"], rows[-1]["date"] + dt.timedelta(days=period_days))
    channels = sorted({channel for by_channel in spend_by_day.values() for channel in by_channel})
    notes = []
    if spend_by_day:
        first, last = min(spend_by_day), max(spend_by_day)
        kept = [r for r in rows if r["date"] + dt.timedelta(days=period_days - 1) >= first and r["date"] <= last]
        if len(kept) < len(rows):
            notes.append(f"{len(rows) - len(kept)} periods of totals lie outside the days with spend and are left out.")
        rows = kept
    spend = np.zeros((len(rows), len(channels)))
    index = {channel: c for c, channel in enumerate(channels)}
    for i, row in enumerate(rows):
        for offset in range(period_days):
            for channel, amount in spend_by_day.get(row["date"] + dt.timedelta(days=offset), {}).items():
                spend[i, index[channel]] += amount
    names = _shared_control_names(rows, notes)
    controls = np.array([[float(r["controls"][name]) for name in names] for r in rows]).reshape(len(rows), len(names))
    return MixInputs(
        metric=metric,
        period_days=period_days,
        dates=[r["date"] for r in rows],
        channels=channels,
        spend=spend,
        outcome=np.array([float(r[metric]) for r in rows]),
        control_names=names,
        controls=controls,
        notes=notes,
    )


def _spend_by_day_and_channel(start: dt.date, end: dt.date) -> dict:
    found: dict = defaultdict(dict)
    sums = (
        DailyMetric.objects.filter(date__gte=start, date__lt=end, spend__isnull=False)
        .values("date", "campaign__channel")
        .annotate(total=Sum("spend"))
    )
    for row in sums:
        channel = (row["campaign__channel"] or "").strip() or UNLABELLED
        found[row["date"]][channel] = found[row["date"]].get(channel, 0.0) + float(row["total"] or 0)
    return found


def _shared_control_names(rows, notes) -> list[str]:
    names = [name for name in (rows[0]["controls"] or {}) if all(name in (r["controls"] or {}) for r in rows)]
    dropped = sorted({name for r in rows for name in (r["controls"] or {})} - set(names))
    if dropped:
        notes.append(f"Controls missing in some periods are left out: {', '.join(dropped)}.")
    return names


def read_mix(metric: str, *, n_draws: int = 400) -> MixReading:
    inputs = load_inputs(metric)
    if inputs is None:
        return MixReading(None, [], problem="No totals imported for this metric yet.")
    if not inputs.channels or not len(inputs.dates):
        return MixReading(inputs, [], problem="No campaign spend falls in the periods of the totals.")
    checks = run_checks(inputs.spend, inputs.outcome, inputs.channels, period_days=inputs.period_days)
    fittable = inputs.spend.sum(axis=0) > 0
    if worst(checks) == "FAIL" and any(c.title in ("Too few periods", "The outcome never varies") for c in checks):
        return MixReading(inputs, checks, problem="The data cannot support a model yet: see the checks.")
    if not fittable.any() or inputs.outcome.mean() <= 0:
        return MixReading(inputs, checks, problem="No spend or no outcome in these periods.")
    return MixReading(inputs, checks, fitted_mix(inputs, n_draws=n_draws))


def fitted_mix(inputs: MixInputs, *, n_draws: int) -> MixFit:
    """The model fitted on these inputs, once per distinct inputs: the fit is a pure function of them, so it is
    kept in the cache under a digest of every number it reads (new totals, spend or controls make another key).
    The Mix page, export_mix and each engine run would otherwise fit the same data again."""
    key = f"mix-fit:{MIX_FIT_VERSION}:{_digest(inputs, n_draws)}"
    fit = cache.get(key)
    if fit is None:
        fit = fit_mix(
            inputs.spend,
            inputs.outcome,
            inputs.channels,
            controls=inputs.controls,
            control_names=inputs.control_names,
            period_days=inputs.period_days,
            n_draws=n_draws,
        )
        cache.set(key, fit, timeout=MIX_FIT_SECONDS)
    return fit


def _digest(inputs: MixInputs, n_draws: int) -> str:
    digest = hashlib.sha256()
    described = [inputs.metric, inputs.period_days, n_draws, inputs.channels, inputs.control_names]
    digest.update(repr(described).encode())
    for numbers in (inputs.spend, inputs.outcome, inputs.controls):
        digest.update(np.ascontiguousarray(numbers, dtype=float).tobytes())
    return digest.hexdigest()


def export_document(reading: MixReading) -> dict:
    """The export_mix JSON: {"metric", "period", "periods", "channels": [...], "fit": {...}}."""
    inputs, fit = reading.inputs, reading.fit
    period = "week" if inputs and inputs.period_days == 7 else "day"
    channels = []
    if fit is not None:
        for c in fit.channels:
            channels.append(
                {
                    "channel": c.channel,
                    "spend": round(c.spend, 2),
                    "contribution": round(c.contribution.mean, 2),
                    "roas": _rounded(c.roas.as_dict()),
                    "marginal_roas": _rounded(c.marginal_roas.as_dict()),
                    "adstock_half_life": round(c.adstock_half_life_days, 1),
                    "warnings": list(c.warnings),
                }
            )
    return {
        "metric": inputs.metric if inputs else None,
        "period": period,
        "periods": len(inputs.dates) if inputs else 0,
        "channels": channels,
        "fit": {
            "holdout_mape": round(fit.holdout_mape, 4) if fit else None,
            "holdout_periods": fit.holdout_periods if fit else 0,
            "in_sample_r2": round(fit.in_sample_r2, 4) if fit else None,
            "first_period": inputs.dates[0].isoformat() if inputs and inputs.dates else None,
            "last_period": inputs.dates[-1].isoformat() if inputs and inputs.dates else None,
            "adstock_half_life_unit": "days",
            "interval": 0.8,
            "problem": reading.problem or None,
            "checks": [check.as_dict() for check in reading.checks],
        },
    }


def _rounded(interval: dict) -> dict:
    return {key: round(value, 4) for key, value in interval.items()}
