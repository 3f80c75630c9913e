"""Beat sends the weekly override report on Mondays at 07:00 (the week that just ended); admins can edit it."""

import json

from django.db import migrations

NAME = "Send the weekly override report"
TASK = "decisions.report_tasks.send_weekly_report"


def create_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="7", day_of_week="1", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "args": json.dumps([]), "crontab": crontab})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0006_outcomes_reports_learning"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
