"""Importing a randomised test: good files stored, bad rows reported by line with nothing written."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from decisions import sweeping
from decisions.audit.actions import REGISTRY, Action
from decisions.data import experiments
from decisions.engine import uplift
from decisions.experiments import analysing
from decisions.models import AuditEvent, Experiment, ExperimentAction, ExperimentCustomer, ImportRun
from tests.decisions.experiments.files import rows_csv, simulated_csv

pytestmark = pytest.mark.django_db

HEADER = ["customer_id", "arm", "closed_revenue", "age", "region"]


def import_bytes(content: bytes, **options) -> experiments.ExperimentImportOutcome:
    options = {"name": "Spring test", "control": "No e-mail", **options}
    return experiments.import_experiment(stream=io.BytesIO(content), filename="test.csv", **options)


def small_file(extra: list[list[str]] | None = None) -> bytes:
    rows = [
        ["C1", "No e-mail", "0", "34", "North"],
        ["C2", "Discount", "12.50", "51", "South"],
        ["C3", "No e-mail", "80", "", "North"],
        ["C4", "Discount", "0", "29", ""],
    ]
    return rows_csv(HEADER, rows + (extra or []))


def test_it_stores_the_customers_arms_and_typed_attributes():
    outcome = import_bytes(small_file())
    assert outcome.ok, outcome.problems
    experiment = Experiment.objects.get(name="Spring test")
    assert experiment.control_arm == "No e-mail"
    assert experiment.arm_sizes == {"Discount": 2, "No e-mail": 2}
    assert experiment.attributes == {"age": "number", "region": "category"}
    assert experiment.outcomes == ["closed_revenue"]
    assert sorted(ExperimentAction.objects.values_list("arm", "name")) == [
        ("Discount", "Discount"),
        ("No e-mail", "No e-mail"),
    ]
    rows = {row.customer_id: row for row in ExperimentCustomer.objects.all()}
    assert rows["C2"].closed_revenue == 12.5 and rows["C2"].pipeline_value is None
    assert rows["C2"].attributes == {"age": 51.0, "region": "South"}
    assert rows["C3"].attributes == {"age": None, "region": "North"}
    assert rows["C4"].attributes == {"age": 29.0, "region": None}
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.rows_written) == ("experiment", "succeeded", 4)
    event = AuditEvent.objects.get(action=Action.EXPERIMENT_IMPORTED)
    assert event.machine_payload["customers"] == 4
    summary, details = REGISTRY[Action.EXPERIMENT_IMPORTED].describe(event)
    assert "Spring test" in summary and "4 customers" in summary
    assert details == ["arms: Discount 2, No e-mail 2"]


def test_a_dry_run_writes_nothing():
    outcome = import_bytes(small_file(), dry_run=True)
    assert outcome.ok and outcome.rows_written == 4
    assert not Experiment.objects.exists() and not ImportRun.objects.exists()


def test_every_bad_row_is_reported_by_line_and_nothing_is_written():
    content = small_file(
        [
            ["C5", "", "1", "40", "North"],
            ["C6", "Discount", "-3", "40", "North"],
            ["C7", "Discount", "lots", "40", "North"],
            ["C8", "Discount", "", "40", "North"],
            ["C1", "Discount", "1", "40", "North"],
            ["C9", "Discount", "1", "40", "North", "surplus"],
        ]
    )
    outcome = import_bytes(content)
    assert not outcome.ok
    assert outcome.problems == [
        "line 6: arm: : required: the arm this customer was given",
        "line 7: closed_revenue: -3: must not be negative",
        "line 8: closed_revenue: lots: not a number",
        "line 9: closed_revenue: : required (write 0 for a customer who brought nothing)",
        "line 10: customer_id: C1: named twice (first on line 2)",
        "line 11: row: 6 fields: the header has 5 columns",
    ]
    assert not Experiment.objects.exists() and not ExperimentCustomer.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.EXPERIMENT_IMPORTED).exists()


@pytest.mark.parametrize(
    ("content", "options", "problem"),
    [
        (small_file(), {"control": "Nothing"}, "line 1: control: Nothing: not an arm of this file"),
        (rows_csv(["arm", "closed_revenue"], [["A", "1"], ["A", "2"]]), {"control": "A"}, "at least one other arm"),
        (rows_csv(["customer_id", "closed_revenue"], [["C1", "1"]]), {}, "line 1: arm: : required column missing"),
        (rows_csv(["arm", "age"], [["No e-mail", "1"]]), {}, "line 1: outcome: : no outcome column"),
        (small_file(), {"name": " "}, "line 1: name: : the experiment needs a name"),
        (b"", {}, "line 1: file: : the file is empty"),
    ],
)
def test_it_refuses_a_file_that_is_no_test(content, options, problem):
    outcome = import_bytes(content, **options)
    assert not outcome.ok
    assert any(p.startswith(problem) or problem in p for p in outcome.problems), outcome.problems
    assert not Experiment.objects.exists()


def test_a_name_already_used_is_refused():
    assert import_bytes(small_file()).ok
    outcome = import_bytes(small_file())
    assert outcome.problems == [
        "line 1: name: Spring test: an experiment of this name exists already; choose another name"
    ]
    assert Experiment.objects.count() == 1


def test_an_attribute_with_an_id_in_every_row_is_named_in_a_warning():
    rows = [[f"C{i}", "No e-mail" if i % 2 else "Discount", "1", str(i), f"user{i}@example.com"] for i in range(40)]
    outcome = import_bytes(rows_csv(["customer_id", "arm", "leads", "age", "email"], rows))
    assert outcome.ok
    assert any(w.startswith("email: 40 different values; audiences are never defined by it") for w in outcome.warnings)


def test_the_command_exits_1_listing_every_problem(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(small_file([["C5", "", "1", "40", "North"]]))
    errors = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_experiment", str(path), "--name", "T", "--control", "No e-mail", stderr=errors)
    assert "line 6: arm" in errors.getvalue()
    assert not Experiment.objects.exists()


def test_the_command_imports_and_says_what_it_stored(tmp_path):
    path = tmp_path / "good.csv"
    path.write_bytes(small_file())
    out = io.StringIO()
    call_command("import_experiment", str(path), "--name", "T", "--control", "No e-mail", stdout=out)
    assert "stored 4 customers of the experiment T (control No e-mail)" in out.getvalue()
    assert Experiment.objects.get().customers == 4


def test_the_analysis_of_a_stored_test_covers_every_customer_and_checks_the_randomisation():
    assert import_bytes(simulated_csv(n=1200)).ok
    experiment = Experiment.objects.get()
    settings = uplift.Settings(bootstrap=50, min_leaf_customers=100)
    experiment = analysing.experiment_analyse(experiment_id=experiment.pk, settings=settings)
    assert experiment.analysis_error == ""
    assert experiment.balance["passed"] is True
    analysis = analysing.stored_analysis(experiment)
    assert analysis.customers == 1200
    assert sum(a.size for a in analysis.audiences) == 1200
    assert set(analysis.actions) == {"Mens e-mail", "Womens e-mail", "Discount 20%"}
    assert experiment.analysis["metric"] == "closed_revenue"


def test_an_upload_imported_in_its_request_that_died_is_failed_at_once(monkeypatch):
    # It kept no file: a task queued again would have nothing to read.
    published = []
    monkeypatch.setattr(sweeping, "queue_follow_up", lambda task, *args: published.append((task.name, args)) or True)
    for kind in ("experiment", "performance", "transactions"):
        run = ImportRun.objects.create(filename="t.csv", kind=kind, status=ImportRun.Status.RUNNING)
        long_ago = timezone.now() - dt.timedelta(days=1)
        ImportRun.objects.filter(pk=run.pk).update(created_at=long_ago, heartbeat_at=long_ago)
        swept = sweeping.stuck_work_sweep()
        assert swept.imports_failed == [run.pk] and swept.imports_requeued == []
        run.refresh_from_db()
        assert run.status == ImportRun.Status.FAILED
    assert published == []


def test_an_experiment_upload_left_running_is_queued_again_with_its_own_task_then_failed(monkeypatch):
    published = []
    monkeypatch.setattr(sweeping, "queue_follow_up", lambda task, *args: published.append((task.name, args)) or True)
    run = ImportRun.objects.create(
        filename="t.csv", kind="experiment", status=ImportRun.Status.RUNNING, stored_path="/var/imports/stored.csv"
    )
    long_ago = timezone.now() - dt.timedelta(days=1)
    ImportRun.objects.filter(pk=run.pk).update(created_at=long_ago, heartbeat_at=long_ago)
    swept = sweeping.stuck_work_sweep()
    assert swept.imports_requeued == [run.pk] and swept.imports_failed == []
    assert published == [("decisions.tasks.import_experiment_file", (run.pk,))]  # never the performance import
    swept = sweeping.stuck_work_sweep(now=timezone.now() + dt.timedelta(days=1))
    assert swept.imports_failed == [run.pk] and len(published) == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
