"""Beat sends the weekly override report on Mondays at 07:00 (the week that just ended); admins can edit it."""

from django.db import migrations

from decisions.migrations._schedule import crontab_entry

create_schedule, remove_schedule = crontab_entry(
    "Send the weekly override report",
    "decisions.report_tasks.send_weekly_report",
    minute="0",
    hour="7",
    day_of_week="1",
)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0006_outcomes_reports_learning"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
