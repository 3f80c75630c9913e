from django.core.management.base import BaseCommand

from decisions import sweeping


class Command(BaseCommand):
    help = (
        "Queue again (once) the generation runs and imports silent past WAYPOINT_STUCK_AFTER_MINUTES, and fail "
        "(audited, with the reason) those still silent after that. The beat task does the same every five minutes."
    )

    def handle(self, *args, **options):
        swept = sweeping.stuck_work_sweep()
        self.stdout.write(f"Stuck work: {swept}.")
