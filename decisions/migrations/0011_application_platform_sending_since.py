"""Outbox rows per platform: the platform a row goes to, and when a worker claimed it for sending."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0010_proposal_kind_choices"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="platform",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="application",
            name="sending_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
