"""Importing customer transactions and the lifetime values derived from them: good files, bad rows (every one
by line, nothing written), dry runs, re-imports, and the daily figures the engine reads."""

import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from decisions.data import transactions
from decisions.models import AuditEvent, DailyMetric, ImportRun, LifetimeValueFit, Transaction
from tests.decisions.data.transaction_files import START, csv_of, simulated
from tests.factories import CampaignFactory, DailyMetricFactory

pytestmark = pytest.mark.django_db


def run_import(content: bytes, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.csv"
        path.write_bytes(content)
        call_command("import_transactions", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_bytes(content: bytes, **kwargs):
    return transactions.import_transactions(stream=io.BytesIO(content), filename="t.csv", **kwargs)


def test_it_imports_transactions_credits_campaigns_and_fits_the_model():
    CampaignFactory(external_id="A"), CampaignFactory(external_id="B")
    out, _ = run_import(simulated(["A", "B"]))
    count = Transaction.objects.count()
    assert f"imported {count} transactions of 600 customers" in out
    assert "+ Gamma-Gamma) fitted on 600 customers" in out
    fit = LifetimeValueFit.objects.get()
    assert fit.error == "" and fit.acquired == 600 and fit.customers == 600 and fit.mean_value > 0
    assert fit.params["model"] in ("BG/NBD", "Pareto/NBD") and {"r", "alpha", "p", "q", "gamma"} <= set(fit.params)
    assert Transaction.objects.filter(campaign__external_id="A").exists()
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.rows_written) == ("transactions", "succeeded", count)
    event = AuditEvent.objects.get(action="data.imported")
    assert (event.actor_label, event.human_payload["rows"]) == ("command line", count)


def test_every_bad_row_is_reported_by_line_and_nothing_is_written():
    CampaignFactory(external_id="A")
    content = csv_of(
        [
            ["c1", "2026-01-02", "10.00", "A"],
            ["", "2026-01-02", "10.00", "A"],
            ["c2", "yesterday", "10.00", ""],
            ["c3", "2026-01-03", "-4", ""],
            ["c4", "2026-01-03", "", ""],
        ]
    )
    with pytest.raises(CommandError, match="4 problem") as failure:
        run_import(content)
    assert "nothing was written" in str(failure.value)
    outcome = import_bytes(content)
    assert outcome.problem_lines() == [
        "line 3: customer_id: : required",
        "line 4: date: yesterday: not a date (expected YYYY-MM-DD)",
        "line 5: amount: -4: must not be negative",
        "line 6: amount: : required",
    ]
    assert (Transaction.objects.count(), LifetimeValueFit.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


def test_a_file_without_the_required_columns_is_refused():
    outcome = import_bytes(b"customer_id,when,amount\nc1,2026-01-02,10\n")
    assert outcome.problem_lines() == ["line 1: date: : required column missing"]


def test_a_dry_run_checks_and_writes_nothing():
    out, _ = run_import(simulated(["A"], customers=50), "--dry-run")
    assert "would import" in out and "Dry run: nothing was written." in out
    assert (Transaction.objects.count(), ImportRun.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


def test_importing_a_file_again_replaces_its_days_instead_of_counting_them_twice():
    content = simulated(["A"], customers=200)
    import_bytes(content)
    first = Transaction.objects.count()
    again = import_bytes(content)
    assert again.replaced == first and Transaction.objects.count() == first


def test_an_unknown_campaign_id_is_warned_about_and_its_customers_kept():
    outcome = import_bytes(csv_of([["c1", "2026-01-02", "10.00", "NOPE"], ["c1", "2026-01-09", "12.00", ""]]))
    assert outcome.ok and "match no campaign (NOPE)" in outcome.warnings[0]
    assert Transaction.objects.filter(campaign_ref="NOPE", campaign=None).count() == 1


def test_too_few_customers_to_fit_is_said_and_no_campaign_gets_a_value():
    CampaignFactory(external_id="A")
    out, _ = run_import(csv_of([["c1", "2026-01-02", "10.00", "A"], ["c2", "2026-01-03", "12.00", "A"]]))
    assert "No lifetime value model: no customer has bought twice" in out
    assert not DailyMetric.objects.filter(customer_lifetime_value__isnull=False).exists()


def test_each_campaign_day_gets_the_value_of_the_customers_it_acquired_and_0_on_days_it_acquired_none():
    a, b = CampaignFactory(external_id="A"), CampaignFactory(external_id="B")
    quiet_day = START + dt.timedelta(days=100)  # acquisitions happen in the first 60 days
    DailyMetricFactory(campaign=a, date=quiet_day)
    outside = DailyMetricFactory(campaign=a, date=START - dt.timedelta(days=3))
    outcome = import_bytes(simulated(["A", "B"], customers=400))
    fit = outcome.fit
    total = DailyMetric.objects.aggregate(total=Sum("customer_lifetime_value"))["total"]
    assert float(total) == pytest.approx(fit.mean_value * fit.customers, rel=1e-4)
    assert DailyMetric.objects.get(campaign=a, date=quiet_day).customer_lifetime_value == Decimal(0)
    outside.refresh_from_db()
    assert outside.customer_lifetime_value is None  # before the first transaction: unknown, not 0
    # A customer's value is credited on their first purchase's day, to the campaign it names.
    first = Transaction.objects.filter(campaign=b).order_by("date").first()
    assert DailyMetric.objects.get(campaign=b, date=first.date).customer_lifetime_value > 0
