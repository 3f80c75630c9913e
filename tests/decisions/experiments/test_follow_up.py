"""A follow-up test measures the audience actions applied from an earlier one: the realised uplift inside each
audience (the action's arm minus the control's, per customer, 80% bootstrap interval) against the interval the
earlier test predicted. Simulated follow-ups with a known uplift say whether it lands inside, above or below."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from decisions.audit.actions import Action
from decisions.delivery import outbox as applying
from decisions.engine import segment_uplift
from decisions.experiments import analysing, follow_ups, segment_estimates
from decisions.models import Application, AuditEvent, Experiment, Proposal
from decisions.review import transitions as reviewing
from tests.decisions.experiments.audience_support import (
    CONTROL,
    MENS,
    WOMENS,
    audience_proposal,
    make_test,
    simulated_customers,
)
from tests.decisions.experiments.files import rows_csv
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

CORE = {"age": {"min": 30, "max": 50}, "region": ["North"]}  # where Mens e-mail works in the simulation


def applied(proposal: Proposal, **edit) -> Proposal:
    if edit:
        change = {**proposal.changes[0], **edit}
        reviewing.proposal_edit_and_approve(proposal=proposal, actor=marketer(), final_changes=[change])
    else:
        reviewing.proposal_approve(proposal=proposal, actor=marketer())
    applying.application_apply(application_id=Application.objects.get(proposal=proposal).pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    return proposal


def analysis_with(segment: dict, action: str, mean: float, low: float, high: float) -> dict:
    """A stored uplift analysis naming one audience, as decisions/engine/uplift.py stores it."""
    uplift = {"action": action, "mean": mean, "low": low, "high": high, "p_loss": 0.01, "customers": 400}
    audience = {
        "segment": segment,
        "size": 600,
        "share": 0.2,
        "best_action": action,
        "uplifts": [uplift],
        "arm_outcomes": {},
        "curve": [],
        "curve_action": action,
    }
    return {
        "metric": "closed_revenue",
        "control": CONTROL,
        "actions": [MENS, WOMENS],
        "customers": 3000,
        "fitted_on": 3000,
        "comparisons": 2,
        "interval": 0.8,
        "confidence": 0.95,
        "audiences": [audience],
        "curves": {},
        "split_on": ["age", "region"],
    }


@pytest.fixture
def earlier() -> Experiment:
    experiment = make_test(simulated_customers(3000, seed=1, uplift_in=2.0), name="Spring")
    experiment.analysis = analysis_with(CORE, MENS, 2.0, 1.6, 2.4)
    experiment.save(update_fields=["analysis"])
    return experiment


def follow_up(earlier: Experiment, *, uplift: float, n: int = 3000, seed: int = 2) -> Experiment:
    customers = simulated_customers(n, seed=seed, uplift_in=uplift, prefix="F")
    return make_test(customers, name=f"Autumn {uplift} {n}", follows=earlier)


def test_the_realised_uplift_lands_inside_when_the_follow_up_repeats_the_effect(earlier):
    proposal = applied(audience_proposal(CORE, test="Spring"))
    later = follow_up(earlier, uplift=2.0)

    [record] = follow_ups.follow_up_record(experiment=later)

    assert record["verdict"] == "inside" and record["proposal"] == proposal.pk
    assert record["predicted"] == {"mean": 2.0, "low": 1.6, "high": 2.4, "source": "analysis"}
    realised = record["realised"]
    assert realised["low"] < 2.0 < realised["high"]  # the known truth lies in the realised interval
    assert record["sentence"].startswith("Mens e-mail to age 30 to under 50 and region is North: predicted +$2")
    assert record["sentence"].endswith(": inside")
    proposal.refresh_from_db()
    assert proposal.evidence["follow_ups"] == [record]
    event = AuditEvent.objects.get(action=Action.EXPERIMENT_FOLLOW_UP_RECORDED)
    assert (
        event.machine_payload["follows"] == "Spring" and event.machine_payload["comparisons"][0]["verdict"] == "inside"
    )


def test_the_prediction_is_the_one_the_proposal_was_made_with(earlier):
    evidence = {
        "audience": {
            "experiment": "Spring",
            "segment": CORE,
            "control": CONTROL,
            "from": CONTROL,
            "to": MENS,
            "per_customer": {"mean": 1.9, "low": 1.5, "high": 2.3, "p_loss": 0.0},
        }
    }
    applied(audience_proposal(CORE, test="Spring", evidence=evidence))
    [record] = follow_ups.follow_up_record(experiment=follow_up(earlier, uplift=2.0))
    assert record["predicted"] == {"mean": 1.9, "low": 1.5, "high": 2.3, "source": "proposal"}


def test_a_follow_up_where_the_action_does_nothing_lands_below(earlier):
    applied(audience_proposal(CORE, test="Spring"))
    [record] = follow_ups.follow_up_record(experiment=follow_up(earlier, uplift=0.0))
    assert record["verdict"] == "below"
    assert record["realised"]["low"] < 0.0 < record["realised"]["high"]


def test_a_follow_up_where_the_action_does_more_lands_above(earlier):
    applied(audience_proposal(CORE, test="Spring"))
    [record] = follow_ups.follow_up_record(experiment=follow_up(earlier, uplift=4.0))
    assert record["verdict"] == "above" and record["realised"]["mean"] > 3.0


def test_too_few_follow_up_customers_in_the_audience_says_so(earlier):
    applied(audience_proposal(CORE, test="Spring"))
    [record] = follow_ups.follow_up_record(experiment=follow_up(earlier, uplift=2.0, n=150))
    assert record["verdict"] == "too_few" and record["realised"] is None
    assert "too few customers to tell" in record["sentence"]


def test_an_edited_audience_is_measured_as_applied_against_its_in_sample_prediction(earlier):
    narrower = {"age": {"min": 35, "max": 50}, "region": ["North"]}
    proposal = applied(audience_proposal(CORE, test="Spring"), segment=narrower)
    [record] = follow_ups.follow_up_record(experiment=follow_up(earlier, uplift=2.0))
    assert record["segment"] == {"age": {"min": 35.0, "max": 50.0}, "region": ["North"]}
    # The analysis never named this audience: the prediction is what the edit form showed for it.
    shown = segment_estimates.estimate(earlier, narrower, MENS).per_customer
    assert record["predicted"] == {"mean": shown.mean, "low": shown.low, "high": shown.high, "source": "in_sample"}
    assert record["proposal"] == proposal.pk


def test_rolled_back_actions_are_measured_pending_ones_are_not(earlier):
    rolled = applied(audience_proposal(CORE, test="Spring"))
    reviewing.proposal_rollback(proposal=rolled, actor=marketer(), reason="Too early")
    audience_proposal({"region": ["South"]}, test="Spring")  # pending: never sent
    records = follow_ups.follow_up_record(experiment=follow_up(earlier, uplift=2.0))
    assert [r["proposal"] for r in records] == [rolled.pk]


def test_measuring_again_replaces_the_follow_up_s_own_entry(earlier):
    proposal = applied(audience_proposal(CORE, test="Spring"))
    later = follow_up(earlier, uplift=2.0)
    follow_ups.follow_up_record(experiment=later)
    follow_ups.follow_up_record(experiment=later)
    proposal.refresh_from_db()
    assert len(proposal.evidence["follow_ups"]) == 1


def test_analysing_the_follow_up_records_the_comparison(earlier):
    applied(audience_proposal(CORE, test="Spring"))
    later = follow_up(earlier, uplift=2.0, n=600)
    analysing.experiment_analyse(experiment_id=later.pk)
    assert AuditEvent.objects.filter(action=Action.EXPERIMENT_FOLLOW_UP_RECORDED).count() == 1


def test_the_difference_interval_covers_a_known_uplift():
    import numpy as np

    rng = np.random.default_rng(5)
    found = segment_uplift.difference(rng.normal(1.5, 1, 2000), rng.normal(0, 1, 2000))
    assert found.low < 1.5 < found.high and found.p_loss == 0.0
    assert segment_uplift.difference(np.ones(10), np.ones(500)) is None
    assert segment_uplift.verdict(found, low=2.0, high=3.0) == "below"


# --- pages -------------------------------------------------------------------------------------------


def test_the_proposal_and_the_follow_up_s_page_show_the_comparison(client, earlier):
    proposal = applied(audience_proposal(CORE, test="Spring"))
    later = follow_up(earlier, uplift=2.0)
    [record] = follow_ups.follow_up_record(experiment=later)
    client.force_login(viewer())
    body = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert "Measured in follow-up tests" in body and record["sentence"] in body
    body = client.get(reverse("decisions:experiment", args=[later.pk])).content.decode()
    assert "Follow-up of Spring" in body and record["sentence"] in body


# --- importing a follow-up ----------------------------------------------------------------------------

FILE = rows_csv(
    ["customer_id", "arm", "closed_revenue", "age"],
    [[f"X{i}", [CONTROL, MENS][i % 2], "1", str(20 + i % 40)] for i in range(40)],
)


def test_the_command_records_which_test_it_follows(tmp_path, earlier):
    path = tmp_path / "autumn.csv"
    path.write_bytes(FILE)
    call_command("import_experiment", str(path), name="Autumn", control=CONTROL, follows="Spring")
    assert Experiment.objects.get(name="Autumn").follows == earlier
    event = AuditEvent.objects.get(action=Action.EXPERIMENT_IMPORTED)
    assert event.human_payload["follows"] == "Spring"


def test_the_command_refuses_an_unknown_earlier_test(tmp_path, earlier):
    path = tmp_path / "autumn.csv"
    path.write_bytes(FILE)
    with pytest.raises(CommandError):
        call_command("import_experiment", str(path), name="Autumn", control=CONTROL, follows="Winter")
    assert not Experiment.objects.filter(name="Autumn").exists()


def test_the_upload_form_offers_follow_up_of(client, earlier):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(guardrail_admin())
    page = client.get(reverse("decisions:experiments")).content.decode()
    assert 'name="follows"' in page and "Follow-up of" in page and '<option value="Spring">' in page
    upload = SimpleUploadedFile("autumn.csv", FILE, content_type="text/csv")
    response = client.post(
        reverse("decisions:experiment-import"),
        {"file": upload, "name": "Autumn", "control": CONTROL, "follows": "Spring"},
    )
    assert response.status_code == 302
    assert Experiment.objects.get(name="Autumn").follows == earlier
