from pathlib import Path

from django.core.management.base import BaseCommand

from decisions.data.totals import import_totals
from decisions.management.file_import import import_file


class Command(BaseCommand):
    help = (
        "Import outcome totals per day or week for the channel mix mode: date, one or more of pipeline_value, "
        "closed_revenue, leads, and any other numeric columns as control variables. Upserts by date. Any bad "
        "row: every problem is listed, nothing is written, exit status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")

    def handle(self, *args, path: str, dry_run: bool, **options):
        outcome = import_file(self, import_totals, path, dry_run=dry_run)
        file = Path(path)
        verb = "would write" if dry_run else "wrote"
        grain = {"weekly": "weekly totals", "daily": "daily totals"}.get(outcome.grain, "totals")
        controls = ", ".join(outcome.controls) or "none"
        self.stdout.write(
            f"{file.name}: {outcome.rows_read} rows read, {verb} {outcome.rows_written} {grain} "
            f"({outcome.first_date} to {outcome.last_date}); outcome: {', '.join(outcome.metrics)}; "
            f"controls: {controls}{' (dry run: nothing written)' if dry_run else ''}."
        )
