from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("objectives", "0004_auto_approval_policy_names")]

    operations = [
        migrations.AddField(
            model_name="objective",
            name="attribution",
            field=models.CharField(
                choices=[("campaign", "Per campaign"), ("mix", "Channel mix (from totals)")],
                default="campaign",
                max_length=16,
            ),
        ),
    ]
