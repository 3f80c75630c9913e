"""Account pages that stand in for the data: signed in without a role, and locked out after failed logins.

Logging in proves who someone is; a role (decisions/access.py) says what they may read. Without the
middleware below, every page and export would open to any account an administrator created but forgot
to give a role. It is checked once, after login, so no page or export can forget it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions import access as roles

NO_ROLE_TEMPLATE = "registration/no_role.html"
LOCKED_OUT_TEMPLATE = "registration/locked_out.html"
# The admin checks staff status itself; logging out must stay possible for the user we turn away.
OPEN_NAMESPACES = frozenset({"admin"})
OPEN_URL_NAMES = frozenset({"logout"})


class RoleRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if _is_open(request, view_func) or not request.user.is_authenticated:
            return None  # anonymous visitors are LoginRequiredMiddleware's to send to the login page
        if roles.has_role(request.user, *roles.ROLES):
            return None
        return no_role_page(request)


def _is_open(request: HttpRequest, view_func) -> bool:
    """Pages anyone may see (login, marked with @login_not_required), the admin, and logging out."""
    if getattr(view_func, "login_required", True) is False:
        return True
    match = request.resolver_match
    return match is not None and (match.namespace in OPEN_NAMESPACES or match.url_name in OPEN_URL_NAMES)


def no_role_page(request: HttpRequest) -> HttpResponse:
    context = {
        "contact": settings.WAYPOINT_ROLE_CONTACT,
        "roles": [(role, roles.ROLE_LABELS[role], roles.ROLE_DESCRIPTIONS[role]) for role in roles.ROLES],
    }
    return render(request, NO_ROLE_TEMPLATE, context, status=403)


def lockout_page(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What django-axes answers once a username has failed too often from one address (AXES_LOCKOUT_CALLABLE)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
    }
    return render(request, LOCKED_OUT_TEMPLATE, context, status=429)
