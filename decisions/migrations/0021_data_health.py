import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("decisions", "0020_bulk_approval_and_leaner_audit_indexes")]

    operations = [
        migrations.CreateModel(
            name="DataHealthCheck",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("checked_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("trigger", models.CharField(blank=True, max_length=64)),
                ("window_end", models.DateField(blank=True, null=True)),
                ("metric", models.CharField(blank=True, max_length=32)),
                ("findings", models.JSONField(blank=True, default=list)),
            ],
            options={"ordering": ["-checked_at", "-pk"]},
        ),
        migrations.AddField(model_name="importrun", name="rows_changed", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(
            model_name="importrun", name="changed_first", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(model_name="importrun", name="changed_last", field=models.DateField(blank=True, null=True)),
        migrations.AddField(model_name="importrun", name="newest_day", field=models.DateField(blank=True, null=True)),
    ]
