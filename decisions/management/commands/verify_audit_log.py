from django.core.management.base import BaseCommand, CommandError

from decisions import audit
from decisions.audit.checkpoints import checkpoint_path, write_checkpoint


class Command(BaseCommand):
    help = (
        "Check the audit log: every row's link and keyed hash, and its head against the signed checkpoints "
        "(rows deleted from the end, an emptied table). Exit 1 naming the first problem; otherwise append a "
        "checkpoint of the verified head."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-checkpoint",
            action="store_true",
            help="only check; do not append a checkpoint (e.g. when checking a restored copy of the database)",
        )

    def handle(self, *args, **options):
        report = audit.check_chain()
        if report.problem is not None:
            raise CommandError(str(report.problem))
        self.stdout.write(f"audit log intact: {report.head.count} events, hash chain verified.")
        self.stdout.write(self._anchors_checked(report.checkpoints))
        if not options["no_checkpoint"]:
            try:
                written = write_checkpoint(report.head)
            except OSError as error:
                raise CommandError(f"audit log intact, but the checkpoint could not be written: {error}") from error
            self.stdout.write(f"checkpoint written to {checkpoint_path()}: {written.head.count} events.")

    def _anchors_checked(self, checkpoints) -> str:
        if not checkpoints:
            return f"no checkpoint yet in {checkpoint_path()}: nothing to hold the head against."
        furthest = max(checkpoints, key=lambda checkpoint: (checkpoint.head.count, checkpoint.line))
        return (
            f"head checked against {len(checkpoints)} signed checkpoint{'s' if len(checkpoints) > 1 else ''}; "
            f"the furthest, {furthest}, recorded {furthest.head.count} events."
        )
