"""On PostgreSQL, refuse UPDATE and DELETE on the audit log at the database level too."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION waypoint_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'decisions_auditevent is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER decisions_auditevent_append_only
    BEFORE UPDATE OR DELETE ON decisions_auditevent
    FOR EACH ROW EXECUTE FUNCTION waypoint_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS decisions_auditevent_append_only ON decisions_auditevent;
DROP FUNCTION IF EXISTS waypoint_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("decisions", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
