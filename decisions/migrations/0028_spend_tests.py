"""Beat sends the return of finished spend tests every hour (decisions.outbox_tasks.end_spend_tests): a test's
last day ends at midnight, and the hour after is when its return goes out."""

from django.db import migrations

from decisions.migrations._schedule import crontab_entry

create_schedule, remove_schedule = crontab_entry(
    "End finished spend tests every hour", "decisions.outbox_tasks.end_spend_tests", minute="15", hour="*"
)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0027_audience_lists"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
