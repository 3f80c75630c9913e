from pathlib import Path

from django.core.management.base import BaseCommand

from decisions.data import transactions
from decisions.management.file_import import import_file


class Command(BaseCommand):
    help = (
        "Import customer transactions (customer_id, date, amount, optional campaign_id: the campaign that acquired "
        "the customer), replacing those stored on the days the file covers, then fit the lifetime value model. "
        "Any bad row: every problem is listed, nothing is written, exit status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")

    def handle(self, *args, path: str, dry_run: bool, **options):
        outcome = import_file(self, transactions.import_transactions, path, dry_run=dry_run)
        file = Path(path)
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{file.name}: {outcome.rows_read} rows read, {verb} {outcome.rows_read} transactions of "
            f"{outcome.customers} customers from {outcome.first_day} to {outcome.last_day}."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        self.stdout.write(f"Replaced {outcome.replaced} stored transactions on those days.")
        fit = outcome.fit
        if fit.error:
            self.stdout.write(f"No lifetime value model: {fit.error}.")
        else:
            self.stdout.write(
                f"Lifetime value model ({fit.params['model']} + Gamma-Gamma) fitted on {fit.customers} customers "
                f"up to {fit.as_of}: a customer is worth "
                f"${fit.mean_value:,.2f} over their first {fit.lifetime_days} days on average; {fit.acquired} "
                "customers credited to a campaign."
            )
