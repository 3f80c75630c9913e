import csv
import json

from django.core.management.base import BaseCommand, CommandError

from decisions.csvsafe import safe_row
from decisions.data import health

COLUMNS = ("campaign_id", "check", "severity", "message", "since")


class Command(BaseCommand):
    help = (
        "Check the imported data's health now and print the findings as JSON (default) or CSV: "
        '{"checked_at", "checks": [{"campaign_id", "check", "severity", "message", "since"}]}; '
        "campaign_id is null for a finding about a whole source."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--latest", action="store_true", help="print the newest stored check instead of checking again"
        )

    def handle(self, *args, format: str, latest: bool, **options):
        check = health.latest_check() if latest else health.data_health_check(trigger="on demand")
        if check is None:
            raise CommandError("No data-health check yet: run the command without --latest.")
        rows = [{column: finding.get(column) for column in COLUMNS} for finding in check.findings]
        if format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow(safe_row("" if row[c] is None else row[c] for c in COLUMNS))
        else:
            self.stdout.write(json.dumps({"checked_at": check.checked_at.isoformat(), "checks": rows}, indent=2))

    def execute(self, *args, **options):
        # Data goes to stdout untouched: no colour codes.
        options["no_color"] = True
        try:
            return super().execute(*args, **options)
        except BrokenPipeError:  # `export_data_health | head` is fine
            raise CommandError("output closed early") from None
