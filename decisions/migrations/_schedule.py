"""Shared by the migrations that add Celery beat entries (django-celery-beat keeps them editable in the admin).

The loader skips modules whose names start with "_", so this is a helper, not a migration.
"""

import json


def crontab_entry(name: str, task: str, *, minute: str, hour: str, day_of_week: str = "*"):
    """(forward, backward) functions for RunPython that add or remove one crontab-scheduled task."""

    def create(apps, schema_editor):
        crontab, _ = apps.get_model("django_celery_beat", "CrontabSchedule").objects.get_or_create(
            minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*"
        )
        apps.get_model("django_celery_beat", "PeriodicTask").objects.get_or_create(
            name=name, defaults={"task": task, "args": json.dumps([]), "crontab": crontab}
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return create, remove
