import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("waypoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# decisions keeps its apply/outbox tasks beside the outbox code, not in tasks.py.
app.autodiscover_tasks(["decisions"], related_name="outbox_tasks")
