from django.core.management.base import BaseCommand

from decisions import spend_tests


class Command(BaseCommand):
    help = (
        "Send the return of every spend test whose days are over (decisions/spend_tests.py). The beat task "
        "decisions.outbox_tasks.end_spend_tests does the same every hour."
    )

    def handle(self, *args, **options):
        ended = spend_tests.spend_tests_sweep()["ended"]
        if not ended:
            self.stdout.write("No spend test is due to end.")
            return
        self.stdout.write(f"Returns sent for {len(ended)} spend test(s): {', '.join(f'#{pk}' for pk in ended)}.")
