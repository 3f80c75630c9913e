"""A randomised test with a stored analysis written straight into the database, for the tests of audience_action
proposals: the engine's figures are chosen here, so each test knows what the drafter must propose."""

from __future__ import annotations

from django.utils import timezone

from decisions.engine import uplift
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import Experiment, ExperimentAction, ExperimentCustomer, GenerationRun, Proposal

TEST = "Spring test"
CONTROL, MENS, WOMENS = "no_email", "mens", "womens"
NAMES = {CONTROL: "No e-mail", MENS: "Mens e-mail", WOMENS: "Womens e-mail"}
OLDER = {"age": {"min": 30.0, "max": None}}  # mens confidently adds here
YOUNGER = {"age": {"min": None, "max": 30.0}}  # mens confidently puts them off


def uplift_of(action: str, mean: float, half: float, *, gain=False, loss=False, p_loss=0.5) -> uplift.ActionUplift:
    return uplift.ActionUplift(
        action=action,
        mean=mean,
        low=mean - half,
        high=mean + half,
        p_loss=p_loss,
        customers=100,
        confident_gain=gain,
        confident_loss=loss,
    )


def analysis(*, older_gain: bool = True) -> uplift.Analysis:
    """Two audiences: the older one gains $2 a customer from MENS (confidently, unless `older_gain` is off), the
    younger one loses $1.50 a customer with it (confidently)."""
    older = uplift.Audience(
        segment=OLDER,
        size=30,
        share=0.75,
        best_action=MENS,
        uplifts=[
            uplift_of(MENS, 2.0, 1.0, gain=older_gain, p_loss=0.004 if older_gain else 0.2),
            uplift_of(WOMENS, 0.1, 1.0, p_loss=0.45),
        ],
        arm_outcomes={CONTROL: {"customers": 10, "mean": 10.0}, MENS: {"customers": 10, "mean": 12.0}},
        curve=[[0.0, 0.0], [0.5, 1.5], [1.0, 2.0]],
        curve_action=MENS,
    )
    younger = uplift.Audience(
        segment=YOUNGER,
        size=10,
        share=0.25,
        best_action=CONTROL,
        uplifts=[uplift_of(MENS, -1.5, 1.0, loss=True, p_loss=0.99), uplift_of(WOMENS, 0.0, 1.0)],
        arm_outcomes={CONTROL: {"customers": 4, "mean": 10.0}, MENS: {"customers": 3, "mean": 8.5}},
        curve=[[0.0, 0.0], [1.0, -1.5]],
        curve_action=MENS,
    )
    return uplift.Analysis(
        control=CONTROL,
        actions=[MENS, WOMENS],
        customers=40,
        fitted_on=40,
        comparisons=4,
        interval=0.8,
        confidence=0.95,
        audiences=[older, younger],
        curves={MENS: {"points": [[0.0, 0.0], [1.0, 1.1]], "qini": 0.2}, WOMENS: {"points": [], "qini": 0.0}},
        split_on=["age"],
    )


def make_test(*, name: str = TEST, found: uplift.Analysis | None = None, prefix: str = "C") -> Experiment:
    """40 customers aged 20 to 59 (ids C1…C40), a third in each arm, with the analysis stored."""
    found = found or analysis()
    experiment = Experiment.objects.create(
        name=name,
        control_arm=CONTROL,
        outcomes=["closed_revenue"],
        attributes={"age": "number", "region": "category"},
        arm_sizes={CONTROL: 14, MENS: 13, WOMENS: 13},
        customers=40,
        analysis={"metric": "closed_revenue", **found.to_dict()},
        analysed_at=timezone.now(),
    )
    ExperimentAction.objects.bulk_create(
        [ExperimentAction(experiment=experiment, arm=arm, name=label) for arm, label in NAMES.items()]
    )
    arms = [CONTROL, MENS, WOMENS]
    ExperimentCustomer.objects.bulk_create(
        [
            ExperimentCustomer(
                experiment=experiment,
                customer_id=f"{prefix}{i + 1}",
                arm=arms[i % 3],
                closed_revenue=10.0,
                attributes={"age": 20 + i, "region": "North"},
            )
            for i in range(40)
        ]
    )
    return experiment


def run_engine() -> GenerationRun:
    started = generating.generation_start(force=True)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    return started.run


def audience_proposals(**filters) -> list[Proposal]:
    return list(Proposal.objects.filter(kind="audience_action", **filters).order_by("id"))
