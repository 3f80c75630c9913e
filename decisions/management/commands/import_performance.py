from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from decisions.data import importing


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
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        with file.open("rb") as stream:
            outcome = importing.import_performance(
                stream=stream,
                filename=file.name,
                dry_run=dry_run,
                size_bytes=file.stat().st_size,
                label="command line",
                create_campaigns=create_campaigns,
            )
        for warning in outcome.warnings:
            self.stderr.write(f"warning: {warning}")
        if not outcome.ok:
            for problem in outcome.problem_lines():
                self.stderr.write(problem)
            raise CommandError(f"{outcome.problem_count} problem(s) in {file.name}; nothing was written.")
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
