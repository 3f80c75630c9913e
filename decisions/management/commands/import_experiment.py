from pathlib import Path

from django.core.management.base import BaseCommand

from decisions.data import experiments
from decisions.management.file_import import import_file


class Command(BaseCommand):
    help = (
        "Import a randomised test: one row per customer with `arm` (the action they were given), outcome columns "
        "(closed_revenue, pipeline_value, leads), optional customer_id, and any other columns as customer "
        "attributes. The uplift analysis runs after the import. Any bad row: every problem is listed, nothing is "
        "written, exit status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--name", required=True, help="the experiment's name, e.g. 'Spring e-mail test'")
        parser.add_argument("--control", required=True, help="the arm that is the control, e.g. 'No e-mail'")
        parser.add_argument(
            "--follows",
            default="",
            help="the earlier experiment this one follows up: its applied audience actions are measured here",
        )
        parser.add_argument("--dry-run", action="store_true", help="check the file and report; write nothing")

    def handle(self, *args, path: str, name: str, control: str, dry_run: bool, follows: str = "", **options):
        outcome = import_file(
            self, experiments.import_experiment, path, dry_run=dry_run, name=name, control=control, follows=follows
        )
        file = Path(path)
        arms = ", ".join(f"{arm} {count:,}" for arm, count in outcome.arm_sizes.items())
        attributes = ", ".join(f"{name} ({kind})" for name, kind in outcome.attributes.items()) or "none"
        verb = "would store" if dry_run else "stored"
        self.stdout.write(
            f"{file.name}: {verb} {outcome.rows_written:,} customers of the experiment {name} (control {control}); "
            f"arms: {arms}; outcomes: {', '.join(outcome.outcomes)}; attributes: {attributes}."
        )
        if follows:
            self.stdout.write(f"Follows up {follows}: its applied audience actions are measured once this is analysed.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
