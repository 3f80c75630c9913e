"""The demo's randomised e-mail test: 40,000 simulated customers (decisions/engine/uplift_simulator.py), imported
as a marketer would import a test's export, with copy for its e-mails."""

from __future__ import annotations

import csv
import io

from decisions.data.experiments import import_experiment
from decisions.engine import uplift_simulator as sim
from decisions.models import ExperimentAction

NAME = "Spring e-mail test"
# The simulated draw for seed_demo's --seed 1 (its default): one whose confident audiences include one defined by
# age (men's items, 35 or more: the minors rule passes) and one that is not (the minors rule warns), so the demo's
# audience proposals show forbidden_audiences both ways.
SIMULATION_SEED = 4
FILENAME = "demo-spring-email-test.csv"
CUSTOMERS = 40_000
# arm → (name, subject line, message). The men's e-mail's message uses a phrase the demo's brand voice bans
# ("guaranteed"), so its audience proposal shows brand_voice judging an action's copy.
COPY = {
    "Mens e-mail": (
        "Men's spring edit",
        "New in: linen shirts and chinos",
        "Linen shirts and chinos for the warmer days, guaranteed to fit or your money back.",
    ),
    "Womens e-mail": (
        "Women's spring edit",
        "Your spring wardrobe, picked for you",
        "Dresses, light knits and sandals for spring, chosen for you.",
    ),
    "Discount 20%": (
        "Come-back discount",
        "20% off your next order, this week only",
        "Welcome back: 20% off everything this week, on the whole spring range.",
    ),
    sim.CONTROL: ("No e-mail", "", ""),
}


def experiment_csv(n: int = CUSTOMERS, seed: int = 1) -> bytes:
    simulated = sim.make_trial(n, seed=seed)
    columns = simulated.customers.columns()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["customer_id", "arm", "closed_revenue", *columns])
    for i in range(n):
        cells = [f"{v[i]:g}" if isinstance(v[i], float) else str(v[i]) for v in columns.values()]
        writer.writerow([f"C{i + 1:06d}", simulated.trial.arms[i], f"{simulated.trial.outcome[i]:.2f}", *cells])
    return out.getvalue().encode()


def seed_experiment(*, label: str, seed: int = 1) -> int:
    """Import the demo test (its analysis is left to the caller: it takes seconds) and name its actions."""
    content = experiment_csv(seed=SIMULATION_SEED + seed - 1)
    outcome = import_experiment(
        stream=io.BytesIO(content),
        filename=FILENAME,
        name=NAME,
        control=sim.CONTROL,
        size_bytes=len(content),
        label=label,
        analyse=False,
    )
    if not outcome.ok:  # the demo's own file: a problem here is a bug, never the user's
        raise RuntimeError(f"demo experiment: {outcome.problem_lines()[:5]}")
    for arm, (name, subject_line, message) in COPY.items():
        ExperimentAction.objects.filter(experiment_id=outcome.experiment_id, arm=arm).update(
            name=name, subject_line=subject_line, message=message
        )
    return outcome.experiment_id
