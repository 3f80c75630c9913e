from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        with file.open("rb") as stream:
            outcome = services.import_workflows(
                stream=stream, filename=file.name, dry_run=dry_run, size_bytes=file.stat().st_size, label="command line"
            )
        if not outcome.ok:
            for problem in outcome.problem_lines():
                self.stderr.write(problem)
            raise CommandError(f"{outcome.problem_count} problem(s) in {file.name}; nothing was written.")
        verb = "would upsert" if dry_run else "upserted"
        self.stdout.write(
            f"{file.name} ({outcome.source_label}): {outcome.rows_read} read, {verb} {outcome.rows_written} workflows "
            f"({outcome.created} new, {outcome.updated} updated)."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
