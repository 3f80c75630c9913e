"""Beat schedule: verify the audit log and anchor its head in a signed checkpoint, every day at 03:30."""

from django.db import migrations

from decisions.migrations._schedule import crontab_entry

create_schedule, remove_schedule = crontab_entry(
    "Verify the audit log and write a checkpoint",
    "decisions.audit.checkpoint_audit_log",
    minute="30",
    hour="3",
)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0014_audit_truncate_trigger"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
