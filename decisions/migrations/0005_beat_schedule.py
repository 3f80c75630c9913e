"""The default Celery beat schedule, stored by django-celery-beat so admins can edit it in the admin."""

import json

from django.db import migrations

SCHEDULE = [
    # (name, task, crontab or interval)
    ("Generate proposals every morning", "decisions.tasks.generate_proposals", {"crontab": ("0", "6")}),
    ("Expire stale proposals", "decisions.tasks.expire_proposals", {"every_minutes": 15}),
    ("Re-send unsent approved changes", "decisions.outbox_tasks.sweep_outbox", {"every_minutes": 1}),
]


def create_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    for name, task, when in SCHEDULE:
        if "crontab" in when:
            minute, hour = when["crontab"]
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*"
            )
            schedule = {"crontab": crontab}
        else:
            interval, _ = IntervalSchedule.objects.get_or_create(every=when["every_minutes"], period="minutes")
            schedule = {"interval": interval}
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "args": json.dumps([]), **schedule})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0004_campaign_last_changed_run_chunks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
