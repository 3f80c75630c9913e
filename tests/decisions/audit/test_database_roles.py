"""The README's database roles hold: the app's role appends and reads audit events, but can neither rewrite nor
empty the log nor switch its triggers off.

The statements are read from the README itself and run inside the test's transaction, under role names of
the test's own (roles are cluster-wide); the rollback at the end takes roles, grants and ownership away again.
"""

import re
import secrets
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from decisions import audit
from decisions.models import AuditEvent, Proposal
from tests.factories import ProposalFactory

README = Path(__file__).resolve().parents[3] / "README.md"
TABLE = AuditEvent._meta.db_table


def readme_statements(owner: str, app: str) -> tuple[list[str], list[str]]:
    """The audit section's two SQL blocks (as a superuser; then as the owner), split into statements."""
    section = README.read_text().split("## The audit log", 1)[1].split("\n## ", 1)[0]
    superuser_block, owner_block = re.findall(r"```sql\n(.*?)```", section, flags=re.S)

    def statements(block: str) -> list[str]:
        named = block.replace("waypoint_owner", owner).replace("waypoint_app", app)
        return [statement.strip() for statement in named.split(";") if statement.strip()]

    return statements(superuser_block), statements(owner_block)


@pytest.fixture
def app_role(require_postgres):
    """Set the README's roles up in this database, give every table to the owner, and act as the app."""
    owner, app = f"wp_test_owner_{secrets.token_hex(4)}", f"wp_test_app_{secrets.token_hex(4)}"
    as_superuser, as_owner = readme_statements(owner, app)
    with connection.cursor() as cursor:
        for statement in as_superuser:
            if not statement.startswith("CREATE DATABASE"):  # this test's database stands in for it
                cursor.execute(statement)
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{table}" OWNER TO {owner}')
        cursor.execute(f"SET ROLE {owner}")
        for statement in as_owner:
            cursor.execute(statement)
        cursor.execute(f"SET ROLE {app}")
    try:
        yield app
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def refused_to_the_app(sql: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_the_readme_names_both_blocks_of_statements():
    as_superuser, as_owner = readme_statements("o", "a")
    assert any(statement.startswith("CREATE ROLE a") for statement in as_superuser)
    assert f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM a" in as_owner


def test_the_app_role_appends_reads_and_verifies_the_log(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role
    proposal = ProposalFactory()
    audit.record(action="test.event", proposal=proposal)
    audit.record(action="test.event", proposal=proposal)
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.APPROVED)  # other tables stay writable
    assert audit.verify_chain() is None


def test_the_app_role_cannot_rewrite_or_empty_the_log(app_role):
    audit.record(action="test.event")
    refused_to_the_app(f"UPDATE {TABLE} SET reason = 'edited'", "permission denied")
    refused_to_the_app(f"DELETE FROM {TABLE}", "permission denied")
    refused_to_the_app(f"TRUNCATE {TABLE}", "permission denied")
    assert AuditEvent.objects.count() == 1


def test_the_app_role_cannot_switch_the_triggers_off(app_role):
    refused_to_the_app(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER", "must be owner")
    refused_to_the_app(f"DROP TRIGGER decisions_auditevent_append_only ON {TABLE}", "must be owner")
    refused_to_the_app(f"DROP TRIGGER decisions_auditevent_no_truncate ON {TABLE}", "must be owner")
    refused_to_the_app("DROP FUNCTION waypoint_audit_append_only() CASCADE", "must be owner")
