"""PyMC-Marketing on the mix benchmark's data: run with a Python ≥ 3.12 that has pymc-marketing installed.

    /tmp/wp/pymc-venv/bin/python benchmarks/mix_pymc.py DATA.npz OUT.json

Reads one simulated world (saved by benchmarks/mix_benchmark.py), fits
PyMC-Marketing's MMM (geometric adstock, logistic saturation, yearly
seasonality, the same controls; its default priors) with the nutpie sampler when
installed, and writes each channel's ROAS (mean and 80% interval) and the fit
time. Imports nothing from Waypoint, so it runs in a separate virtualenv.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd


def main(data_path: str, out_path: str) -> None:
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    data = np.load(data_path, allow_pickle=False)
    spend, outcome, controls = data["spend"], data["outcome"], data["controls"]
    channels = [str(c) for c in data["channels"]]
    period_days = int(data["period_days"])
    dates = pd.date_range("2024-01-01", periods=len(outcome), freq=f"{period_days}D")
    frame = pd.DataFrame(spend, columns=channels)
    frame["date"] = dates
    control_names = [f"control_{j}" for j in range(controls.shape[1])]
    for j, name in enumerate(control_names):
        column = controls[:, j]
        frame[name] = (column - column.mean()) / (column.std() or 1.0)
    frame["t"] = np.linspace(0, 1, len(outcome))
    mmm = MMM(
        date_column="date",
        channel_columns=channels,
        control_columns=[*control_names, "t"],
        adstock=GeometricAdstock(l_max=8 if period_days == 7 else 28),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )
    try:
        import nutpie  # noqa: F401

        sampler = {"nuts_sampler": "nutpie"}
    except ImportError:
        sampler = {}
    started = time.perf_counter()
    mmm.fit(
        frame, pd.Series(outcome, name="y"), chains=2, draws=500, tune=500, progressbar=False, random_seed=1, **sampler
    )
    seconds = time.perf_counter() - started
    # The posterior's contributions are on the target's scale (max-abs by default); back to money.
    target_scale = float(np.asarray(mmm.get_scales_as_xarray()["target_scale"]).ravel()[0])
    contribution = mmm.idata.posterior["channel_contribution"] * target_scale
    total = contribution.sum("date").stack(sample=("chain", "draw")).transpose("channel", "sample").values
    roas = total / spend.sum(axis=0)[:, None]
    result = {
        "seconds": seconds,
        "sampler": sampler.get("nuts_sampler", "pymc"),
        "roas": [
            {"mean": float(r.mean()), "low": float(np.quantile(r, 0.1)), "high": float(np.quantile(r, 0.9))}
            for r in roas
        ],
    }
    with open(out_path, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
