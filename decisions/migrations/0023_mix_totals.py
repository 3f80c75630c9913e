from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("decisions", "0020_bulk_approval_and_leaner_audit_indexes")]

    operations = [
        migrations.AddField(model_name="dailytotal", name="leads", field=models.FloatField(blank=True, null=True)),
        migrations.AddField(
            model_name="dailytotal", name="period_days", field=models.PositiveSmallIntegerField(default=1)
        ),
        migrations.AddField(model_name="dailytotal", name="controls", field=models.JSONField(blank=True, default=dict)),
        migrations.AlterField(
            model_name="importrun",
            name="kind",
            field=models.CharField(
                choices=[
                    ("performance", "Performance"),
                    ("deals", "Deals"),
                    ("workflows", "Workflows"),
                    ("transactions", "Transactions"),
                    ("experiment", "Experiment"),
                    ("totals", "Totals"),
                ],
                default="performance",
                max_length=16,
            ),
        ),
    ]
