import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0020_bulk_approval_and_leaner_audit_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
                ],
                default="performance",
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Experiment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120, unique=True)),
                ("control_arm", models.CharField(max_length=64)),
                ("outcomes", models.JSONField(default=list)),
                ("attributes", models.JSONField(default=dict)),
                ("arm_sizes", models.JSONField(default=dict)),
                ("customers", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("balance", models.JSONField(blank=True, null=True)),
                ("analysis", models.JSONField(blank=True, null=True)),
                ("analysis_error", models.TextField(blank=True)),
                ("analysed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "import_run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="decisions.importrun",
                    ),
                ),
                (
                    "imported_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-pk"]},
        ),
        migrations.CreateModel(
            name="ExperimentAction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("arm", models.CharField(max_length=64)),
                ("name", models.CharField(max_length=120)),
                ("subject_line", models.CharField(blank=True, max_length=200)),
                ("message", models.TextField(blank=True)),
                ("revision", models.PositiveIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "experiment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="actions", to="decisions.experiment"
                    ),
                ),
            ],
            options={
                "ordering": ["experiment", "arm"],
                "constraints": [
                    models.UniqueConstraint(fields=("experiment", "arm"), name="one_action_per_experiment_arm")
                ],
            },
        ),
        migrations.CreateModel(
            name="ExperimentCustomer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("customer_id", models.CharField(blank=True, max_length=128)),
                ("arm", models.CharField(max_length=64)),
                ("closed_revenue", models.FloatField(blank=True, null=True)),
                ("pipeline_value", models.FloatField(blank=True, null=True)),
                ("leads", models.FloatField(blank=True, null=True)),
                ("attributes", models.JSONField(default=dict)),
                (
                    "experiment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="rows", to="decisions.experiment"
                    ),
                ),
            ],
            options={"ordering": ["experiment", "pk"]},
        ),
    ]
