from pathlib import Path

from django.core.management.base import BaseCommand

from decisions.data import importing
from decisions.management.file_import import import_file


class Command(BaseCommand):
    help = (
        "Import daily campaign performance from a CSV: the generic layout (date, campaign_id, metrics…) or a "
        "Google Ads campaign report. Any bad row: every problem is listed, nothing is written, exit status 1. "
        "A file without spend, daily_budget, campaign_name or channel columns (a CRM export) creates no campaigns: "
        "rows of ids that match none are skipped and listed with the closest known ids, unless --create-campaigns."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")
        parser.add_argument(
            "--create-campaigns",
            action="store_true",
            help="create a campaign for every id that matches none, even from a file of figures only (a CRM export)",
        )

    def handle(self, *args, path: str, dry_run: bool, create_campaigns: bool = False, **options):
        outcome = import_file(
            self, importing.import_performance, path, dry_run=dry_run, create_campaigns=create_campaigns
        )
        file = Path(path)
        verb = "would write" if dry_run else "wrote"
        skipped = (
            f", skipped {outcome.rows_skipped} rows of {len(outcome.unmatched)} unknown campaign ids (see warnings)"
            if outcome.rows_skipped
            else ""
        )
        self.stdout.write(
            f"{file.name}: {outcome.rows_read} rows read, {verb} {outcome.rows_written} daily rows, "
            f"{outcome.campaigns_created} new campaigns{skipped}{' (dry run: nothing written)' if dry_run else ''}."
        )
