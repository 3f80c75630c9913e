"""A test judged in customer lifetime value: each customer's outcome is their lifetime value from transactions."""

import datetime as dt
import io

import numpy as np
import pytest
from django.urls import reverse

from decisions.audit.actions import REGISTRY, Action
from decisions.data import experiments, transactions
from decisions.engine import uplift
from decisions.experiments import analysing, segment_estimates
from decisions.models import AuditEvent, Experiment
from objectives.models import Metric, Objective
from tests.decisions.data.transaction_files import START, csv_of
from tests.decisions.experiments.files import rows_csv
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

CUSTOMERS = 1200
SETTINGS = uplift.Settings(bootstrap=50, min_leaf_customers=100)


def _arms() -> list[str]:
    rng = np.random.default_rng(3)
    return ["Offer" if drawn else "No offer" for drawn in rng.random(CUSTOMERS) < 0.5]


@pytest.fixture
def lifetime_objective():
    return Objective.objects.create(metric=Metric.CUSTOMER_LIFETIME_VALUE, is_active=True)


@pytest.fixture
def test_and_purchases():
    """Every customer bought once before the test; those sent the offer came back about three times as often (the
    known truth), the others about once. The test's own file counts leads only: lifetime value comes from the
    transactions."""
    arms, rng = _arms(), np.random.default_rng(4)
    rows = [[f"cust-{i}", arm, "0", str(int(rng.integers(18, 70)))] for i, arm in enumerate(arms)]
    imported = experiments.import_experiment(
        stream=io.BytesIO(rows_csv(["customer_id", "arm", "leads", "age"], rows)),
        filename="offer.csv",
        name="Autumn offer",
        control="No offer",
    )
    purchases = []
    for i, arm in enumerate(arms):
        purchases.append([f"cust-{i}", START.isoformat(), "40.00", ""])
        for _ in range(rng.poisson(3.0 if arm == "Offer" else 1.0)):
            day = START + dt.timedelta(days=int(rng.integers(1, 120)))
            purchases.append([f"cust-{i}", day.isoformat(), f"{rng.uniform(20, 60):.2f}", ""])
    stored = transactions.import_transactions(stream=io.BytesIO(csv_of(purchases)), filename="t.csv")
    assert stored.ok and not stored.fit.error
    return Experiment.objects.get(pk=imported.experiment_id)


def test_with_lifetime_value_as_the_objective_a_test_is_judged_in_it(lifetime_objective, test_and_purchases):
    analysed = analysing.experiment_analyse(experiment_id=test_and_purchases.pk, settings=SETTINGS)
    assert analysed.analysis["metric"] == "customer_lifetime_value"
    assert analysed.analysis["customers_valued"] == CUSTOMERS
    everyone = analysing.stored_analysis(analysed)
    means = [a.arm_outcomes for a in everyone.audiences]
    sent = sum(m["Offer"]["mean"] * m["Offer"]["customers"] for m in means) / sum(
        m["Offer"]["customers"] for m in means
    )
    kept = sum(m["No offer"]["mean"] * m["No offer"]["customers"] for m in means) / sum(
        m["No offer"]["customers"] for m in means
    )
    assert sent > kept * 1.5  # about two more purchases of $40 each, worth more than the one they all made
    assert all(a.best_action == "Offer" and a.confident for a in everyone.audiences)


def test_without_lifetime_value_as_the_objective_the_test_s_own_outcome_is_judged(test_and_purchases):
    analysed = analysing.experiment_analyse(experiment_id=test_and_purchases.pk, settings=SETTINGS)
    assert analysed.analysis["metric"] == "leads"
    assert "customers_valued" not in analysed.analysis


def test_without_transactions_to_fit_it_says_so_and_judges_the_test_s_own_outcome(lifetime_objective):
    rows = [[f"c{i}", arm, "1", "30"] for i, arm in enumerate(_arms()[:400])]
    imported = experiments.import_experiment(
        stream=io.BytesIO(rows_csv(["customer_id", "arm", "leads", "age"], rows)),
        filename="offer.csv",
        name="Thin test",
        control="No offer",
    )
    analysed = analysing.experiment_analyse(experiment_id=imported.experiment_id, settings=SETTINGS)
    assert analysed.analysis["metric"] == "leads"
    assert "lifetime value needs transactions" in analysed.analysis["metric_note"]


def test_new_transactions_judge_again_every_test_judged_in_lifetime_value(
    lifetime_objective, test_and_purchases, django_capture_on_commit_callbacks
):
    assert test_and_purchases.analysis is None
    more = csv_of([["cust-1", (START + dt.timedelta(days=130)).isoformat(), "25.00", ""]])
    with django_capture_on_commit_callbacks(execute=True):
        assert transactions.import_transactions(stream=io.BytesIO(more), filename="more.csv").ok
    test_and_purchases.refresh_from_db()
    assert test_and_purchases.analysis["metric"] == "customer_lifetime_value"


def test_no_test_is_judged_again_when_the_objective_is_another_metric(test_and_purchases):
    Objective.objects.create(metric=Metric.CLOSED_REVENUE, is_active=True)
    assert analysing.reanalyse_tests_judged_in_lifetime_value() == 0


# --- asking for an analysis again, on the experiment page ---


def reanalyse_url(experiment) -> str:
    return reverse("decisions:experiment-reanalyse", args=[experiment.pk])


@pytest.mark.parametrize("role", [marketer, guardrail_admin])
def test_analyse_again_judges_the_test_in_what_the_objective_asks_now_and_is_audited(
    client, role, test_and_purchases, django_capture_on_commit_callbacks
):
    analysing.experiment_analyse(experiment_id=test_and_purchases.pk, settings=SETTINGS)
    assert Experiment.objects.get(pk=test_and_purchases.pk).analysis["metric"] == "leads"
    Objective.objects.create(metric=Metric.CUSTOMER_LIFETIME_VALUE, is_active=True)
    client.force_login(role())
    page = client.get(reverse("decisions:experiment", args=[test_and_purchases.pk])).content.decode()
    assert "The objective now asks for customer lifetime value" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse_url := reanalyse_url(test_and_purchases), follow=True)
    assert response.redirect_chain[-1][0] == reverse("decisions:experiment", args=[test_and_purchases.pk])
    assert "Analysing Autumn offer again, judged in customer lifetime value" in response.content.decode()
    assert Experiment.objects.get(pk=test_and_purchases.pk).analysis["metric"] == "customer_lifetime_value"
    event = AuditEvent.objects.get(action=Action.EXPERIMENT_REANALYSED)
    assert event.machine_payload == {
        "experiment_id": test_and_purchases.pk,
        "metric": "customer_lifetime_value",
        "previous_metric": "leads",
    }
    said, details = REGISTRY[Action.EXPERIMENT_REANALYSED].describe(event)
    assert "Autumn offer" in said and "Customer lifetime value" in said and details == ["last analysed in Leads"]
    assert reverse_url.endswith("/analyse/")


def test_a_viewer_may_not_ask_for_an_analysis(client, test_and_purchases):
    client.force_login(viewer())
    assert client.post(reanalyse_url(test_and_purchases)).status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPERIMENT_REANALYSED).exists()
    page = client.get(reverse("decisions:experiment", args=[test_and_purchases.pk])).content.decode()
    assert "Analyse again" not in page


def test_analyse_again_is_a_post_and_names_a_test_that_exists(client, test_and_purchases):
    client.force_login(marketer())
    assert client.get(reanalyse_url(test_and_purchases)).status_code == 405
    assert client.post(reverse("decisions:experiment-reanalyse", args=[987654])).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.EXPERIMENT_REANALYSED).exists()


def test_an_audience_re_estimated_from_a_test_judged_in_lifetime_value_reads_lifetime_values(
    lifetime_objective, test_and_purchases
):
    analysed = analysing.experiment_analyse(experiment_id=test_and_purchases.pk, settings=SETTINGS)
    found = segment_estimates.estimate(analysed, {"age": {"min": 18, "max": 70}}, "Offer")
    assert found.size == CUSTOMERS
    assert found.per_customer.low > 40  # about two more purchases of about $40 each
