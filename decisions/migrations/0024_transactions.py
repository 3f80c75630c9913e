import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("decisions", "0020_bulk_approval_and_leaner_audit_indexes")]

    operations = [
        migrations.AddField(
            model_name="dailymetric",
            name="customer_lifetime_value",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True),
        ),
        migrations.AlterField(
            model_name="importrun",
            name="kind",
            field=models.CharField(
                choices=[
                    ("performance", "Performance"),
                    ("deals", "Deals"),
                    ("workflows", "Workflows"),
                    ("transactions", "Transactions"),
                ],
                default="performance",
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Transaction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("customer_id", models.CharField(max_length=128)),
                ("date", models.DateField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("campaign_ref", models.CharField(blank=True, max_length=64)),
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="decisions.campaign",
                    ),
                ),
            ],
            options={
                "ordering": ["customer_id", "date", "pk"],
                "indexes": [
                    models.Index(fields=["date"], name="decisions_t_date_664bc9_idx"),
                    models.Index(fields=["customer_id", "date"], name="decisions_t_custome_389d7d_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gte", 0)), name="transaction_amount_not_negative"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LifetimeValueFit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("fitted_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("as_of", models.DateField(blank=True, null=True)),
                ("lifetime_days", models.PositiveIntegerField()),
                ("customers", models.PositiveIntegerField(default=0)),
                ("acquired", models.PositiveIntegerField(default=0)),
                ("transactions", models.PositiveIntegerField(default=0)),
                ("params", models.JSONField(blank=True, default=dict)),
                ("mean_value", models.FloatField(blank=True, null=True)),
                ("error", models.TextField(blank=True)),
            ],
            options={"ordering": ["-fitted_at", "-pk"]},
        ),
    ]
