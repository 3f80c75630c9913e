"""Who may do what: the three roles, kept as Django groups, the checks views use, and granting a role."""

from functools import wraps

from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from decisions.audit import events as audit_events

MARKETER = "marketer"
GUARDRAIL_ADMIN = "guardrail_admin"
VIEWER = "viewer"
ROLES = (MARKETER, GUARDRAIL_ADMIN, VIEWER)
ROLE_DESCRIPTIONS = {
    MARKETER: "reviews proposals: approve, edit, reject",
    GUARDRAIL_ADMIN: "edits guardrails and objectives, imports data, and can also review",
    VIEWER: "reads everything, changes nothing",
}


def normalise_role(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


ROLE_LABELS = {MARKETER: "Marketer", GUARDRAIL_ADMIN: "Guardrail admin", VIEWER: "Viewer"}


def role_names(user) -> set[str]:
    """The user's roles, read once per request and kept on the user object."""
    names = getattr(user, "_waypoint_roles", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._waypoint_roles = names
    return names


def has_role(user, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(role_names(user).intersection(roles))


def can_review(user) -> bool:
    return has_role(user, MARKETER, GUARDRAIL_ADMIN)


def is_guardrail_admin(user) -> bool:
    return has_role(user, GUARDRAIL_ADMIN)


def role_required(*roles: str):
    """403 unless the user holds one of the roles (login is enforced by middleware)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class UnknownRole(ValueError):
    pass


@transaction.atomic
def role_grant(*, user: User, role: str, actor: User | None = None) -> bool:
    """Add `user` to the role's group; returns False when they already had it (nothing recorded)."""
    name = normalise_role(role)
    if name not in ROLES:
        raise UnknownRole(f'unknown role "{role}"; expected one of: {", ".join(ROLES)}')
    group, _ = Group.objects.get_or_create(name=name)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    audit_events.role_granted(user=user, role=name, actor=actor)
    return True
