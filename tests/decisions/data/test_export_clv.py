"""`manage.py export_clv`: exactly the documented keys, the as-of cut, CSV, and clear refusals."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from decisions.data import transactions
from tests.decisions.data.transaction_files import START, simulated

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    outcome = transactions.import_transactions(stream=io.BytesIO(simulated(["A"], customers=300)), filename="t.csv")
    assert outcome.ok
    return outcome


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_clv", *args, stdout=out)
    return out.getvalue()


def test_it_prints_exactly_the_documented_keys_as_of_the_last_imported_day(imported):
    document = json.loads(export("--horizon-days", "90"))
    assert list(document) == ["as_of", "horizon_days", "customers"]
    assert document["as_of"] == imported.last_day.isoformat() and document["horizon_days"] == 90
    assert len(document["customers"]) == 300
    for customer in document["customers"]:
        assert list(customer) == ["customer_id", "expected_purchases", "expected_value", "p_alive"]
        assert customer["expected_purchases"] >= 0 and customer["expected_value"] >= 0
        assert 0 <= customer["p_alive"] <= 1


def test_only_transactions_up_to_the_as_of_day_are_used(imported):
    as_of = START + dt.timedelta(days=30)
    document = json.loads(export("--horizon-days", "30", "--as-of", as_of.isoformat()))
    assert document["as_of"] == as_of.isoformat()
    acquired_by_then = transactions.Transaction.objects.filter(date__lte=as_of).values("customer_id").distinct()
    assert {c["customer_id"] for c in document["customers"]} == {row["customer_id"] for row in acquired_by_then}
    later = json.loads(export("--horizon-days", "30"))
    assert len(later["customers"]) > len(document["customers"])


def test_a_longer_horizon_expects_more(imported):
    short = json.loads(export("--horizon-days", "30"))["customers"]
    long = json.loads(export("--horizon-days", "365"))["customers"]
    assert sum(c["expected_value"] for c in long) > sum(c["expected_value"] for c in short)


def test_csv_has_the_same_columns(imported):
    rows = list(csv.DictReader(io.StringIO(export("--horizon-days", "90", "--format", "csv"))))
    assert len(rows) == 300 and list(rows[0]) == ["customer_id", "expected_purchases", "expected_value", "p_alive"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon-days", "0"], "--horizon-days must be"),
        (["--horizon-days", "30", "--as-of", "31/12/2026"], "not a date"),
        (["--horizon-days", "30", "--as-of", "2020-01-01"], "no transactions on or before 2020-01-01"),
    ],
)
def test_bad_options_are_refused_clearly(imported, args, message):
    with pytest.raises(CommandError, match=message):
        export(*args)


def test_without_transactions_it_says_what_to_import(db):
    with pytest.raises(CommandError, match="no transactions imported"):
        export("--horizon-days", "30")


def test_a_missing_horizon_or_unknown_format_exits_non_zero(imported):
    with pytest.raises(CommandError):
        export()
    with pytest.raises(CommandError):
        export("--horizon-days", "30", "--format", "xml")
