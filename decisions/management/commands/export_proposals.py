from django.core.management.base import BaseCommand, CommandError

from decisions.models import Proposal
from decisions.review import exporting


class Command(BaseCommand):
    help = "Print proposals as JSON (default) or CSV; the fields are documented in the README."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=Proposal.Status.values, help="only proposals in this status")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, status: str | None, format: str, **options):
        proposals = exporting.proposals_for_export(status).iterator(chunk_size=500)
        if format == "csv":
            exporting.write_csv(proposals, self.stdout)
        else:
            exporting.write_json(proposals, self.stdout)

    def execute(self, *args, **options):
        # Data goes to stdout untouched: no colour codes, no trailing newline added by Django.
        options["no_color"] = True
        try:
            return super().execute(*args, **options)
        except BrokenPipeError:  # `export_proposals | head` is fine
            raise CommandError("output closed early") from None
