"""The auto-approval policy page: guardrail admins set the limits; any reviewer can pull the kill switch."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions.models import Campaign
from decisions.review import autoapproval, kinds
from objectives import services as objective_services

TEMPLATE = "decisions/auto_approval.html"


def _context(**extra) -> dict:
    return {
        "policy": autoapproval.current_policy(),
        "kinds": kinds.choices(),
        "channels": sorted(set(Campaign.objects.exclude(channel="").values_list("channel", flat=True))),
        **extra,
    }


@require_GET
def auto_approval(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, _context())


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def auto_approval_update(request: HttpRequest) -> HttpResponse:
    try:
        changes = {
            "is_enabled": request.POST.get("is_enabled") == "on",
            "max_change_pct": float(request.POST.get("max_change_pct", "")),
            "max_p_loss": float(request.POST.get("max_p_loss", "")),
            "kinds": request.POST.getlist("kinds"),
            "channels": request.POST.getlist("channels"),
        }
        objective_services.auto_approval_update(actor=request.user, reason=request.POST.get("reason", ""), **changes)
    except ValueError:
        return render(request, TEMPLATE, _context(errors=["Limits must be numbers."], posted=request.POST), status=400)
    except ValidationError as error:
        return render(request, TEMPLATE, _context(errors=error.messages, posted=request.POST), status=400)
    messages.success(request, "Auto-approval policy saved.")
    return redirect("decisions:auto-approval")


@require_POST
@roles.role_required(roles.MARKETER, roles.GUARDRAIL_ADMIN)
def auto_approval_stop(request: HttpRequest) -> HttpResponse:
    """The kill switch: any reviewer may turn auto-approval off at once (turning it on is an admin's call)."""
    reason = request.POST.get("reason", "").strip() or "kill switch"
    objective_services.auto_approval_update(actor=request.user, reason=reason, is_enabled=False)
    messages.success(request, "Auto-approval is off. Every proposal now waits for a person.")
    return redirect("decisions:auto-approval")
