import csv
import json

from django.core.management.base import BaseCommand

from decisions.csvsafe import safe_row
from decisions.data.mix_inputs import export_document, read_mix
from objectives.selectors import active_objective

CSV_COLUMNS = (
    "metric",
    "period",
    "periods",
    "channel",
    "spend",
    "contribution",
    "roas_mean",
    "roas_low",
    "roas_high",
    "marginal_roas_mean",
    "marginal_roas_low",
    "marginal_roas_high",
    "adstock_half_life",
    "warnings",
    "holdout_mape",
)


class Command(BaseCommand):
    help = (
        "Print the channel mix model fitted on the imported totals: per channel its spend, contribution, ROAS and "
        "marginal ROAS with 80% intervals, adstock half-life (days) and warnings; the held-out fit quality."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument("--metric", help="pipeline_value, closed_revenue or leads (default: the objective's)")

    def handle(self, *args, format: str, metric: str | None = None, **options):
        objective = active_objective()
        metric = metric or (objective.metric if objective else "pipeline_value")
        document = export_document(read_mix(metric))
        if format == "json":
            self.stdout.write(json.dumps(document, indent=2))
            return
        writer = csv.writer(self.stdout)
        writer.writerow(CSV_COLUMNS)
        for channel in document["channels"]:
            # Channel names and warnings come from imported files: a leading = must not become a formula.
            writer.writerow(
                safe_row(
                    [
                        document["metric"],
                        document["period"],
                        document["periods"],
                        channel["channel"],
                        channel["spend"],
                        channel["contribution"],
                        *(channel["roas"][key] for key in ("mean", "low", "high")),
                        *(channel["marginal_roas"][key] for key in ("mean", "low", "high")),
                        channel["adstock_half_life"],
                        " | ".join(channel["warnings"]),
                        document["fit"]["holdout_mape"],
                    ]
                )
            )
