"""A randomised test written straight into the database, and audience_action proposals on it, for the tests of
applying, downloading, editing and following up audience actions."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from decisions.models import Experiment, ExperimentAction, ExperimentCustomer, Proposal

TEST = "Spring e-mail test"
CONTROL, MENS, WOMENS = "no_email", "mens", "womens"
NAMES = {CONTROL: "No e-mail", MENS: "Mens e-mail", WOMENS: "Womens e-mail"}
SUBJECTS = {MENS: "New in for him", WOMENS: "New in for her"}
_keys = itertools.count(1)


def make_test(customers: list[tuple], *, name: str = TEST, control: str = CONTROL, follows=None) -> Experiment:
    """customers: (customer id, arm, closed revenue, attributes); every arm of NAMES gets an action row."""
    sizes = Counter(arm for _, arm, _, _ in customers)
    experiment = Experiment.objects.create(
        name=name,
        control_arm=control,
        outcomes=["closed_revenue"],
        attributes={"age": "number", "region": "category"},
        arm_sizes=dict(sorted(sizes.items())),
        customers=len(customers),
        follows=follows,
    )
    ExperimentAction.objects.bulk_create(
        [
            ExperimentAction(experiment=experiment, arm=arm, name=NAMES[arm], subject_line=SUBJECTS.get(arm, ""))
            for arm in NAMES
        ]
    )
    ExperimentCustomer.objects.bulk_create(
        [
            ExperimentCustomer(experiment=experiment, customer_id=cid, arm=arm, closed_revenue=value, attributes=attrs)
            for cid, arm, value, attrs in customers
        ]
    )
    return experiment


def simulated_customers(
    n: int, *, seed: int, uplift_in: float, uplift_out: float = 0.0, prefix: str = "C", noise: float = 1.0
) -> list[tuple]:
    """n customers split evenly over the arms at random; MENS adds `uplift_in` to the revenue of customers aged
    30 to under 50 in the North, `uplift_out` elsewhere; WOMENS adds nothing anywhere."""
    rng = np.random.default_rng(seed)
    arms = [CONTROL, MENS, WOMENS]
    rows = []
    for i in range(n):
        arm = arms[int(rng.integers(0, 3))]
        age = float(rng.integers(18, 70))
        region = ["North", "South", "East"][int(rng.integers(0, 3))]
        inside = 30 <= age < 50 and region == "North"
        value = 10.0 + rng.normal(0, noise) + ((uplift_in if inside else uplift_out) if arm == MENS else 0.0)
        rows.append((f"{prefix}{i:05d}", arm, round(float(value), 4), {"age": age, "region": region}))
    return rows


def audience_change(segment: dict, *, frm: str = CONTROL, to: str = MENS, test: str = TEST) -> dict:
    return {"experiment": test, "segment": segment, "field": "action", "from": frm, "to": to}


def audience_proposal(segment: dict, *, frm: str = CONTROL, to: str = MENS, test: str = TEST, **fields) -> Proposal:
    values = {
        "kind": "audience_action",
        "lever": "action",
        "changes": [audience_change(segment, frm=frm, to=to, test=test)],
        "rationale": "The test says this audience buys more after this e-mail.",
        "expected_metric": "closed_revenue",
        "expected_mean": 120.0,
        "expected_low": 30.0,
        "expected_high": 210.0,
        "p_loss": 0.1,
        "idempotency_key": f"audience-{next(_keys)}",
    }
    return Proposal.objects.create(**(values | fields))
