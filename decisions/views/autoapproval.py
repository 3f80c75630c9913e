"""The auto-approval policy page: guardrail admins set the limits (after a preview of what they would approve);
any reviewer can pull the kill switch; everyone sees what the policy approved."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from decisions import access as roles
from decisions import units
from decisions.models import Campaign
from decisions.queueing import queue_follow_up_on_commit
from decisions.review import autoapproval, kinds
from decisions.review.tasks import auto_approve_pending
from objectives import services as objective_services
from objectives.models import AutoApprovalPolicy

TEMPLATE = "decisions/auto_approval.html"


def _context(**extra) -> dict:
    recent = list(autoapproval.recent_decisions())
    _with_expected_text([review.proposal for review in recent])
    return {
        "policy": autoapproval.current_policy(),
        "kinds": kinds.choices(),
        "channels": sorted(set(Campaign.objects.exclude(channel="").values_list("channel", flat=True))),
        "recent": recent,
        "preview_days": autoapproval.PREVIEW_DAYS,
        **extra,
    }


def _with_expected_text(proposals) -> None:
    for proposal in proposals:
        proposal.expected_text = units.amount(proposal.expected_mean, proposal.expected_metric, signed=True)


def _posted(request: HttpRequest) -> dict:
    """The form as posted, to fill it in again (and the preview's confirm form) exactly as it was."""
    return {
        "is_enabled": request.POST.get("is_enabled") == "on",
        "max_change_pct": request.POST.get("max_change_pct", ""),
        "max_p_loss": request.POST.get("max_p_loss", ""),
        "kinds_list": request.POST.getlist("kinds"),
        "channels_list": request.POST.getlist("channels"),
        "reason": request.POST.get("reason", ""),
    }


@require_GET
def auto_approval(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, _context())


def _posted_limits(request: HttpRequest) -> dict:
    """The form's values; ValueError when a limit is not a number."""
    return {
        "is_enabled": request.POST.get("is_enabled") == "on",
        "max_change_pct": float(request.POST.get("max_change_pct", "")),
        "max_p_loss": float(request.POST.get("max_p_loss", "")),
        "kinds": request.POST.getlist("kinds"),
        "channels": request.POST.getlist("channels"),
    }


def _worth(preview: autoapproval.Preview) -> str:
    """ "+$1,234/week" (or one amount per metric when the proposals were made for several)."""
    parts = [units.amount(value, metric, signed=True, per="week") for metric, value in sorted(preview.worth.items())]
    return " and ".join(parts) or units.amount(0, "pipeline_value", per="week")


def _preview_context(changes: dict) -> dict:
    """What these limits would approve now among the pending proposals, and among the last 30 days'."""
    candidate = AutoApprovalPolicy(**changes)
    pending, recent = autoapproval.pending_preview(candidate), autoapproval.recent_preview(candidate)
    _with_expected_text(pending.first)
    return {
        "preview": {
            "pending": pending,
            "pending_worth": _worth(pending),
            "recent": recent,
            "recent_worth": _worth(recent),
        }
    }


@require_POST
@roles.role_required(roles.GUARDRAIL_ADMIN)
def auto_approval_update(request: HttpRequest) -> HttpResponse:
    """Turning the policy on (or changing it while on) shows what it would approve first; "confirm" saves.

    Once saved on, the proposals already pending are considered too (a task, after the commit).
    """
    reason = request.POST.get("reason", "")
    try:
        changes = _posted_limits(request)
        if changes["is_enabled"] and request.POST.get("confirm") != "1":
            if not reason.strip():
                raise ValidationError("reason: say why the auto-approval policy changes")
            objective_services.validate_auto_approval(
                **{k: changes[k] for k in ("max_change_pct", "max_p_loss", "kinds", "channels")}
            )
            return render(request, TEMPLATE, _context(posted=_posted(request), **_preview_context(changes)))
        policy = objective_services.auto_approval_update(actor=request.user, reason=reason, **changes)
    except ValueError:
        return _refused(request, ["Limits must be numbers."])
    except ValidationError as error:
        return _refused(request, error.messages)
    if policy.is_enabled:
        queue_follow_up_on_commit(auto_approve_pending)
        messages.success(
            request,
            "Auto-approval policy saved and on: it now considers the pending proposals too; what it approves is "
            "listed below.",
        )
    else:
        messages.success(request, "Auto-approval policy saved.")
    return redirect("decisions:auto-approval")


def _refused(request: HttpRequest, errors: list[str]) -> HttpResponse:
    return render(request, TEMPLATE, _context(errors=errors, posted=_posted(request)), status=400)


@require_POST
@roles.role_required(roles.MARKETER, roles.GUARDRAIL_ADMIN)
def auto_approval_stop(request: HttpRequest) -> HttpResponse:
    """The kill switch: any reviewer may turn auto-approval off at once (turning it on is an admin's call)."""
    reason = request.POST.get("reason", "").strip() or "kill switch"
    objective_services.auto_approval_update(actor=request.user, reason=reason, is_enabled=False)
    messages.success(request, "Auto-approval is off. Every proposal now waits for a person.")
    return redirect("decisions:auto-approval")
