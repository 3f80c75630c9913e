"""Beat schedule: retrain the acceptance model every Sunday at 23:00, before Monday's proposals and report."""

from django.db import migrations

from decisions.migrations._schedule import crontab_entry

# Celery's crontab counts Sunday as day 0.
create_schedule, remove_schedule = crontab_entry(
    "Retrain the acceptance model weekly",
    "decisions.learning_tasks.retrain_acceptance_model",
    minute="0",
    hour="23",
    day_of_week="0",
)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0008_outcome_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
