import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("waypoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each step of decisions/ keeps its tasks beside the code it drives (decisions/<step>/tasks.py).
app.autodiscover_tasks(
    [f"decisions.{step}" for step in ("data", "generation", "review", "delivery", "outcomes", "learning", "audit")]
)
app.autodiscover_tasks(["decisions.reports"], related_name="email")
