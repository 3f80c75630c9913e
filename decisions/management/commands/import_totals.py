from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from decisions.data.totals import import_totals


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
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        with file.open("rb") as stream:
            outcome = import_totals(
                stream=stream, filename=file.name, dry_run=dry_run, size_bytes=file.stat().st_size, label="command line"
            )
        for warning in outcome.warnings:
            self.stderr.write(f"warning: {warning}")
        if not outcome.ok:
            for problem in outcome.problem_lines():
                self.stderr.write(problem)
            raise CommandError(f"{outcome.problem_count} problem(s) in {file.name}; nothing was written.")
        verb = "would write" if dry_run else "wrote"
        grain = {"weekly": "weekly totals", "daily": "daily totals"}.get(outcome.grain, "totals")
        controls = ", ".join(outcome.controls) or "none"
        self.stdout.write(
            f"{file.name}: {outcome.rows_read} rows read, {verb} {outcome.rows_written} {grain} "
            f"({outcome.first_date} to {outcome.last_date}); outcome: {', '.join(outcome.metrics)}; "
            f"controls: {controls}{' (dry run: nothing written)' if dry_run else ''}."
        )
