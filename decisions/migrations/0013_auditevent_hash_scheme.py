"""Audit rows say how their hash was computed: rows already written keep plain SHA-256, new ones are keyed.

The column arrives with the database default "sha256", so every existing row reads as what it is without
being rewritten (PostgreSQL stores a constant default in the catalogue; the append-only trigger, which
refuses UPDATE, is never asked). The default then becomes "hmac-sha256" for every row written after.
"""

from django.db import migrations, models

SCHEMES = [("sha256", "SHA-256 (before the chain was keyed)"), ("hmac-sha256", "HMAC-SHA256 with WAYPOINT_AUDIT_KEY")]


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0012_generation_run_left_alone"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="hash_scheme",
            field=models.CharField(choices=SCHEMES, db_default="sha256", default="sha256", max_length=16),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_scheme",
            field=models.CharField(choices=SCHEMES, db_default="hmac-sha256", default="hmac-sha256", max_length=16),
        ),
    ]
