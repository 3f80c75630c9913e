# Joins the five migrations that each started from 0020 (data health, workflows, channel-mix totals, transactions,
# experiments), and gives the import run the whole list of kinds each of them added one of.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0021_data_health"),
        ("decisions", "0022_workflows"),
        ("decisions", "0023_mix_totals"),
        ("decisions", "0024_transactions"),
        ("decisions", "0025_experiments"),
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
                    ("totals", "Totals"),
                ],
                default="performance",
                max_length=16,
            ),
        ),
    ]
