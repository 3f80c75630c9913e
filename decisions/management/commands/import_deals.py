from pathlib import Path

from django.core.management.base import BaseCommand

from decisions.data import deal_figures
from decisions.management.file_import import import_file


class Command(BaseCommand):
    help = (
        "Import a CRM deals export — a HubSpot deals export, a Salesforce opportunity report or the generic "
        "deals CSV (deal_id, amount, stage, created_date, close_date, won, campaign), told apart by the header — "
        "and derive each campaign's daily pipeline_value and closed_revenue from the stored deals. Any bad row: "
        "every problem is listed, nothing is written, exit status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")
        parser.add_argument(
            "--campaign-column",
            help="the column holding each deal's campaign (id or name), when the export keeps it elsewhere",
        )

    def handle(self, *args, path: str, dry_run: bool, campaign_column: str | None = None, **options):
        outcome = import_file(self, deal_figures.import_deals, path, dry_run=dry_run, campaign_column=campaign_column)
        file = Path(path)
        verb = "would upsert" if dry_run else "upserted"
        self.stdout.write(
            f"{file.name} ({outcome.source_label}): {outcome.rows_read} rows read, {verb} {outcome.rows_written} "
            f"deals ({outcome.deals_created} new, {outcome.deals_updated} updated, {outcome.restaged} changed "
            f"stage); {outcome.matched} matched a campaign, {outcome.unmatched_deals} unmatched, "
            f"{outcome.without_campaign} without a campaign."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            derived = outcome.derived
            self.stdout.write(
                f"Daily figures: {derived.cells_written} cells written, {derived.rows_created} new days, "
                f"{derived.cells_kept} kept from other files, {derived.total_days} days of unattributed totals."
            )
