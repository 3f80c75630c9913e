import pytest
from django.core.management import CommandError, call_command

from decisions import access as roles
from decisions.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grant_role_adds_the_group_and_records_it(capsys):
    user = UserFactory(username="sam")
    call_command("grant_role", "sam", "guardrail-admin")
    assert roles.is_guardrail_admin(user.__class__.objects.get(pk=user.pk))
    event = AuditEvent.objects.get(action="role.granted")
    assert event.human_payload == {"user": "sam", "role": "guardrail_admin"}
    assert "sam is now a guardrail_admin" in capsys.readouterr().out


def test_granting_a_role_twice_changes_nothing(capsys):
    UserFactory(username="sam", role=roles.VIEWER)
    call_command("grant_role", "sam", "viewer")
    assert "already" in capsys.readouterr().out
    assert not AuditEvent.objects.exists()


def test_it_refuses_an_unknown_role():
    UserFactory(username="sam")
    with pytest.raises(CommandError, match='unknown role "boss"'):
        call_command("grant_role", "sam", "boss")
    assert not AuditEvent.objects.exists()


def test_it_refuses_an_unknown_user():
    with pytest.raises(CommandError, match='no user "ghost"'):
        call_command("grant_role", "ghost", "viewer")


def test_a_viewer_can_neither_review_nor_administer():
    user = UserFactory(role=roles.VIEWER)
    assert not roles.can_review(user)
    assert not roles.is_guardrail_admin(user)


def test_a_guardrail_admin_can_also_review():
    assert roles.can_review(UserFactory(role=roles.GUARDRAIL_ADMIN))
