from pathlib import Path

from django.core.management.base import BaseCommand

from decisions.management.file_import import import_file
from decisions.workflows import services


class Command(BaseCommand):
    help = (
        "Import an automation inventory — the generic workflow CSV (workflow_id, name, platform, status, created_at, "
        "updated_at, last_triggered_at, enrolled_90d, used_by, tags), HubSpot workflows JSON, Braze canvas details "
        "JSON or Marketo smart campaigns JSON, told apart by the content — upserted by (platform, workflow id). "
        "Any bad record: every problem is listed, nothing is written, exit status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV or JSON file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")

    def handle(self, *args, path: str, dry_run: bool, **options):
        outcome = import_file(self, services.import_workflows, path, dry_run=dry_run)
        file = Path(path)
        verb = "would upsert" if dry_run else "upserted"
        self.stdout.write(
            f"{file.name} ({outcome.source_label}): {outcome.rows_read} read, {verb} {outcome.rows_written} workflows "
            f"({outcome.created} new, {outcome.updated} updated)."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
