import csv
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from decisions.csvsafe import safe_cell
from decisions.data import transactions

FIELDS = ("customer_id", "expected_purchases", "expected_value", "p_alive")


class Command(BaseCommand):
    help = (
        "Print each customer's expected purchases and value over the next N days and the probability they are "
        "still a customer, from the transactions up to the as-of day (default: the last imported day)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="YYYY-MM-DD; only transactions up to this day are used")
        parser.add_argument("--horizon-days", type=int, required=True, help="how many days ahead to predict")
        parser.add_argument("--format", choices=("json", "csv"), default="json")

    def handle(self, *args, as_of: str | None, horizon_days: int, format: str, **options):
        if not 1 <= horizon_days <= 3650:
            raise CommandError("--horizon-days must be a whole number of days from 1 to 3650")
        day = _day(as_of) if as_of else transactions.last_transaction_day()
        if day is None:
            raise CommandError("no transactions imported: run manage.py import_transactions FILE.csv first")
        try:
            prediction = transactions.customer_predictions(as_of=day, horizon_days=horizon_days)
        except ValueError as error:
            raise CommandError(f"no lifetime value model: {error}") from error
        customers = [
            {
                "customer_id": str(customer),
                "expected_purchases": round(float(purchases), 4),
                "expected_value": round(float(value), 2),
                "p_alive": round(float(alive), 4),
            }
            for customer, purchases, value, alive in zip(
                prediction.customer_ids,
                prediction.expected_purchases,
                prediction.expected_value,
                prediction.p_alive,
                strict=True,
            )
        ]
        if format == "csv":
            writer = csv.DictWriter(self.stdout, fieldnames=FIELDS, lineterminator="\n")
            writer.writeheader()
            # A customer id such as "=HYPERLINK(…)" must not run as a formula in a spreadsheet.
            writer.writerows({**row, "customer_id": safe_cell(row["customer_id"])} for row in customers)
            return
        document = {"as_of": day.isoformat(), "horizon_days": horizon_days, "customers": customers}
        self.stdout.write(json.dumps(document, indent=2))


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of {text!r}: not a date (expected YYYY-MM-DD)") from None
