import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("waypoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each step of decisions/ keeps its tasks beside the code it drives (decisions/<step>/tasks.py).
app.autodiscover_tasks(
    [
        f"decisions.{step}"
        for step in ("data", "generation", "review", "delivery", "outcomes", "learning", "audit", "experiments")
    ]
)
app.autodiscover_tasks(["decisions.reports"], related_name="email")


@worker_init.connect
@beat_init.connect
def _refuse_unsafe_production(**kwargs) -> None:
    # Workers write the audit chain and apply changes: the same refusal as serving pages.
    from config.startup import refuse_unsafe_production

    refuse_unsafe_production()
