"""Beat schedule: retrain the acceptance model every Sunday at 23:00, before Monday's proposals and report."""

import json

from django.db import migrations

NAME = "Retrain the acceptance model weekly"
TASK = "decisions.learning_tasks.retrain_acceptance_model"


def create_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    # Celery's crontab counts Sunday as day 0.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="23", day_of_week="0", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "args": json.dumps([]), "crontab": crontab})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        # Both schedules before this one: depending on the two makes this the single leaf either way.
        ("decisions", "0007_weekly_report_schedule"),
        ("decisions", "0008_outcome_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
