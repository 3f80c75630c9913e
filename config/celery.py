import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("waypoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# decisions keeps some tasks beside the code they drive, not in tasks.py.
for module in ("outbox_tasks", "report_tasks", "outcome_tasks", "learning_tasks"):
    app.autodiscover_tasks(["decisions"], related_name=module)
