"""The workflow audit: the automation inventory (Workflow), its threshold, and workflow imports as ImportRuns."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0020_bulk_approval_and_leaner_audit_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkflowAuditSetting",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stale_after_days", models.PositiveIntegerField(default=90)),
                ("changed_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.AlterField(
            model_name="importrun",
            name="kind",
            field=models.CharField(
                choices=[("performance", "Performance"), ("deals", "Deals"), ("workflows", "Workflows")],
                default="performance",
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="Workflow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("platform", models.CharField(max_length=32)),
                ("workflow_id", models.CharField(help_text="The platform's id of the workflow.", max_length=64)),
                ("name", models.CharField(blank=True, max_length=255)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("enabled", "Enabled"),
                            ("disabled", "Disabled"),
                            ("draft", "Draft"),
                            ("retired", "Retired"),
                        ],
                        default="enabled",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(blank=True, null=True)),
                ("last_triggered_at", models.DateTimeField(blank=True, null=True)),
                ("activity_known", models.BooleanField(default=True)),
                ("enrolled_90d", models.PositiveIntegerField(blank=True, null=True)),
                ("used_by", models.JSONField(blank=True, default=list)),
                ("tags", models.JSONField(blank=True, default=list)),
                ("trigger", models.CharField(blank=True, max_length=255)),
                ("goal", models.CharField(blank=True, max_length=255)),
                ("raw", models.JSONField(blank=True, default=dict)),
                ("imported_at", models.DateTimeField(auto_now=True)),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["platform", "name", "workflow_id"],
                "constraints": [
                    models.UniqueConstraint(fields=("platform", "workflow_id"), name="one_workflow_per_platform_id")
                ],
            },
        ),
    ]
