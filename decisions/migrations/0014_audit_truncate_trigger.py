"""On PostgreSQL, refuse TRUNCATE on the audit log too: the row triggers of 0002 never see it.

It reuses 0002's function, which names the refused operation. Only the table's owner (or a superuser)
can disable or drop the triggers; README "The audit log" says which role should own the table.
"""

from django.db import migrations

CREATE = """
CREATE TRIGGER decisions_auditevent_no_truncate
    BEFORE TRUNCATE ON decisions_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION waypoint_audit_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS decisions_auditevent_no_truncate ON decisions_auditevent;"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("decisions", "0013_auditevent_hash_scheme")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
