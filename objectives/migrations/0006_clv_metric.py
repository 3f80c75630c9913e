from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("objectives", "0004_auto_approval_policy_names")]

    operations = [
        migrations.AlterField(
            model_name="objective",
            name="metric",
            field=models.CharField(
                choices=[
                    ("pipeline_value", "Pipeline value"),
                    ("closed_revenue", "Closed revenue"),
                    ("customer_lifetime_value", "Customer lifetime value"),
                    ("leads", "Leads"),
                    ("platform_revenue", "Platform-reported revenue (ROAS)"),
                    ("platform_conversions", "Platform-reported conversions"),
                    ("clicks", "Clicks"),
                ],
                default="pipeline_value",
                max_length=32,
            ),
        ),
    ]
