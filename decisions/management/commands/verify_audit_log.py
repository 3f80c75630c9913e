from django.core.management.base import BaseCommand, CommandError

from decisions.audit import verify_chain
from decisions.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit 1 and name the first bad row if it was tampered with."

    def handle(self, *args, **options):
        problem = verify_chain()
        if problem is not None:
            raise CommandError(f"audit log broken at event {problem.event_id}: {problem.problem}")
        self.stdout.write(f"audit log intact: {AuditEvent.objects.count()} events, hash chain verified.")
