"""Beat refreshes outcomes every morning at 05:00, before the 06:00 proposal run reads them."""

from django.db import migrations

from decisions.migrations._schedule import crontab_entry

create_schedule, remove_schedule = crontab_entry(
    "Refresh outcomes every morning", "decisions.outcome_tasks.refresh_outcomes", minute="0", hour="5"
)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0007_weekly_report_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
