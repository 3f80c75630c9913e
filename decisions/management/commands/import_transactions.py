from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from decisions.data import transactions


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
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        with file.open("rb") as stream:
            outcome = transactions.import_transactions(
                stream=stream, filename=file.name, dry_run=dry_run, size_bytes=file.stat().st_size, label="command line"
            )
        for warning in outcome.warnings:
            self.stderr.write(f"warning: {warning}")
        if not outcome.ok:
            for problem in outcome.problem_lines():
                self.stderr.write(problem)
            raise CommandError(f"{outcome.problem_count} problem(s) in {file.name}; nothing was written.")
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
