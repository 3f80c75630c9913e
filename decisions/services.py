"""Writes that change who may do what. Proposal transitions join this module with the review dashboard."""

from django.contrib.auth.models import Group, User
from django.db import transaction

from decisions import audit, roles


class UnknownRole(ValueError):
    pass


@transaction.atomic
def role_grant(*, user: User, role: str, actor: User | None = None) -> bool:
    """Add `user` to the role's group; returns False when they already had it (nothing recorded)."""
    name = roles.normalise_role(role)
    if name not in roles.ROLES:
        raise UnknownRole(f'unknown role "{role}"; expected one of: {", ".join(roles.ROLES)}')
    group, _ = Group.objects.get_or_create(name=name)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    audit.record(
        action="role.granted",
        actor=actor,
        human_payload={"user": user.get_username(), "role": name},
    )
    return True
