import time

from django.core.management.base import BaseCommand

from decisions.generation import service as generating
from decisions.generation import tasks
from decisions.models import GenerationRun
from decisions.queueing import WORKERS_AWAY, queue_follow_up


class Command(BaseCommand):
    help = "Run the proposal engine over the latest data window and print the run's summary."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="with a Celery worker: wait for the run to finish")
        parser.add_argument("--force", action="store_true", help="run even if this data window was already covered")
        parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait with --wait (default 1800)")

    def handle(self, *args, wait: bool, force: bool, timeout: int, **options):
        started = generating.generation_start(force=force)
        run = started.run
        if not started.created:
            self.stdout.write(f"Run #{run.pk} already covers this data window, objective and policy; nothing new.")
        elif not queue_follow_up(tasks.generate_proposals, run.pk):
            # The run is saved; the stuck-work sweep queues it again once the broker is back.
            self.stderr.write(f"Run #{run.pk}: {WORKERS_AWAY}")
        elif wait:
            run = self.wait_for(run, timeout)
        run.refresh_from_db()
        self.print_summary(run)

    def wait_for(self, run: GenerationRun, timeout: int) -> GenerationRun:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status != GenerationRun.Status.RUNNING:
                return run
            self.stderr.write(f"  run #{run.pk}: {run.chunks_done}/{run.chunks_total} chunks fitted…")
            time.sleep(2)
        self.stderr.write(f"still running after {timeout} s; follow it on the Runs page")
        return run

    def print_summary(self, run: GenerationRun) -> None:
        self.stdout.write(f"Run #{run.pk}: {run.status}")
        self.stdout.write(f"  window: {run.window_start} to {run.window_end}, objective: {run.metric}")
        self.stdout.write(f"  policy version: {run.policy_version}, model: {run.model_version}")
        for name, value in (run.counts or {}).items():
            self.stdout.write(f"  {name.replace('_', ' ')}: {value}")
        for name, value in (run.timings or {}).items():
            self.stdout.write(f"  {name}: {value}")
        for error in run.errors or []:
            self.stdout.write(self.style.WARNING(f"  error: {error}"))
        if run.status == GenerationRun.Status.RUNNING:
            self.stdout.write("  still running: rerun with --wait, or follow it on the Runs page")
