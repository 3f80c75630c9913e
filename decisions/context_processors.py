from decisions import access as role_checks
from decisions.review import autoapproval


def roles(request) -> dict:
    """Expose what the signed-in user may do, so templates show only the buttons that work."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can_review": role_checks.can_review(user),
        "is_guardrail_admin": role_checks.is_guardrail_admin(user),
        "role_labels": [role_checks.ROLE_LABELS[r] for r in role_checks.ROLES if r in role_checks.role_names(user)],
        # A callable: the template calls it (one query) only where the top bar shows it.
        "auto_approval_on": _auto_approval_on,
    }


def _auto_approval_on() -> bool:
    return autoapproval.current_policy().is_enabled
