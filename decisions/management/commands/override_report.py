from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string

from decisions.reports import weekly as reports


class Command(BaseCommand):
    help = "Print the weekly override report for an ISO week (default: the last complete week) as JSON, HTML or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the last complete week)")
        parser.add_argument("--format", choices=["json", "html", "csv"], default="json")

    def handle(self, *args, week: str | None, format: str, **options):
        week = week or reports.previous_week()
        try:
            report = reports.weekly_report(week)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if format == "csv":
            self.stdout.write(reports.to_csv(report), ending="")
        elif format == "html":
            self.stdout.write(render_to_string("emails/weekly_report.html", {"report": report}))
        else:
            self.stdout.write(reports.to_json(report))

    def execute(self, *args, **options):
        options["no_color"] = True
        return super().execute(*args, **options)
