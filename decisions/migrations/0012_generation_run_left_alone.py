from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0011_application_platform_sending_since"),
    ]

    operations = [
        migrations.AddField(
            model_name="generationrun",
            name="left_alone",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
