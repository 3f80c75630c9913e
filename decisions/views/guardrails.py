"""The guardrail pages and policy as a file: guardrail admins change, everyone else reads.

Every write is a form POST with a reason, handed to one service in
objectives.services (which versions, audits and announces it; decisions
re-checks the queue on `policy_changed`) and answered with a redirect; an
invalid form answers 422, a stale one 409. The pages live in decisions, not
objectives, because they show decisions' data: the backtest replays past
proposals and the list says when each guardrail last triggered.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from decisions import access as roles
from decisions.review import backtest as backtesting
from decisions.review import selectors as campaign_selectors
from decisions.views import objectives as objective_pages
from objectives import policy, selectors, services
from objectives.forms import DeactivateForm, GuardrailForm, PolicyImportForm
from objectives.guardrails import SCOPE_KEYS, KnownCampaigns, match_scope, scopes
from objectives.models import Guardrail

LIST_PAGE = "objectives/guardrails.html"
FORM_PAGE = "objectives/guardrail_form.html"
DETAIL_PAGE = "objectives/guardrail.html"
IMPORT_PAGE = "objectives/policy_import.html"

admin_only = roles.role_required(roles.GUARDRAIL_ADMIN)


# --- the guardrails page --------------------------------------------------------------------


def _describe(guardrail: Guardrail) -> Guardrail:
    guardrail.scope_text = selectors.describe_scope(guardrail.scope, guardrail.kind)
    guardrail.params_text = selectors.describe_params(guardrail.params)
    return guardrail


@require_GET
def guardrails(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    listed = [_describe(g) for g in backtesting.with_activity(list(selectors.guardrails()), now=now)]
    known = campaign_selectors.known_campaigns()
    for guardrail in listed:
        # A scope saved before scopes were checked (or whose campaigns were archived since) may match nothing.
        guardrail.scope_match = match_scope(guardrail.scope, known)
    context = {
        "guardrails": listed,
        "stale": backtesting.stale(listed, now=now),
        "stale_days": backtesting.STALE_DAYS,
        "import_form": PolicyImportForm(),
    }
    return render(request, LIST_PAGE, context)


@require_GET
def guardrail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    guardrail = _describe(get_object_or_404(Guardrail, pk=pk))
    context = {
        "guardrail": guardrail,
        "history": selectors.guardrail_history(guardrail),
        "deactivate_form": DeactivateForm(),
    }
    return render(request, DETAIL_PAGE, context)


# --- create and edit ----------------------------------------------------------------------------


def _form_context(form: GuardrailForm, guardrail: Guardrail | None, **extra) -> dict:
    action = (
        reverse("objectives:guardrail-edit", args=[guardrail.pk]) if guardrail else reverse("objectives:guardrail-new")
    )
    backtest_url = reverse("objectives:guardrail-backtest")
    if guardrail is not None:
        backtest_url += f"?guardrail={guardrail.pk}"
    context = {"form": form, "guardrail": guardrail, "action": action, "backtest_url": backtest_url, **extra}
    if guardrail is not None:
        context["history"] = selectors.guardrail_history(guardrail)
    scope_type, scope_value = _entered_scope(form)
    context.update(_scope_context(scope_type, scope_value, form.known))
    return context


# --- the scope, checked against the campaigns that exist ---------------------------------------------

# A datalist longer than this helps nobody pick; past it, typing a few letters finds the campaign.
MAX_SCOPE_OPTIONS = 500


def _entered_scope(form: GuardrailForm) -> tuple[str, str]:
    source = form.data if form.is_bound else form.initial
    return str(source.get("scope_type") or ""), str(source.get("scope_value") or "")


def _scope_options(scope_type: str, known: KnownCampaigns) -> list[dict]:
    """What the scope field offers to pick: the chosen kind of value, or every kind (labelled) before one is chosen."""
    counts: dict[tuple[str, str], int] = {}
    for facts in known.campaigns:
        for key, values in (("channel", (facts.channel,)), ("tag", facts.tags)):
            for value in values:
                if value:
                    counts[key, value] = counts.get((key, value), 0) + 1
    options = []
    for key in SCOPE_KEYS:
        if scope_type and key != scope_type:
            continue
        prefix = "" if scope_type else f"{key} · "
        if key == "campaign":
            options += [{"value": i, "label": f"{prefix}{known.name_of(i)}"} for i in known.external_ids]
        else:
            options += [
                {"value": v, "label": f"{prefix}{counts[key, v]} campaign{'s' if counts[key, v] != 1 else ''}"}
                for v in known.values(key)
            ]
    return options[:MAX_SCOPE_OPTIONS]


def _scope_hint(scope_type: str, scope_value: str, known: KnownCampaigns) -> tuple[str, bool]:
    """(what the form says under the scope field, whether it is a problem): "matches 12 campaigns", or why not."""
    if scope_type not in SCOPE_KEYS:
        return f"Applies to every campaign: {match_scope({}, known).summary}.", False
    if not scope_value.strip():
        if scope_type == "campaign":
            return "Type or pick a campaign, by id or by name.", False
        values = known.values(scope_type)
        listed = f": {', '.join(values)}" if 0 < len(values) <= scopes.LIST_ALL_UP_TO else ""
        return f"Type or pick a {scope_type}{listed}.", False
    match = match_scope({scope_type: scope_value.strip()}, known)
    if match.matches_nothing:
        refusal = scopes.nothing_matched(match, known)
        return refusal if refusal.endswith("?") else f"{refusal}.", True
    said = match.summary[0].upper() + match.summary[1:]
    if match.canonical and match.canonical != scope_value.strip():
        shown = f"{match.canonical} ({known.name_of(match.canonical)})" if scope_type == "campaign" else match.canonical
        said += f"; saved as “{shown}”, as the campaigns spell it"
    return f"{said}.", False


def _scope_context(scope_type: str, scope_value: str, known: KnownCampaigns | None) -> dict:
    known = known if known is not None else campaign_selectors.known_campaigns()
    hint, problem = _scope_hint(scope_type, scope_value, known)
    return {
        "scope_type": scope_type,
        "scope_value": scope_value,
        "scope_options": _scope_options(scope_type if scope_type in SCOPE_KEYS else "", known),
        "scope_hint": hint,
        "scope_problem": problem,
        "scope_url": reverse("objectives:guardrail-scope"),
    }


@require_GET
@admin_only
def guardrail_scope(request: HttpRequest) -> HttpResponse:
    """What the typed scope matches, as the admin types (htmx); the form says the same on submit without JavaScript.

    When the kind of scope changes, the values to pick from come too (out of band), so the list offers channels,
    tags or campaigns as chosen; the field itself is never redrawn, so nothing typed meanwhile is lost.
    """
    context = _scope_context(
        request.GET.get("scope_type", ""), request.GET.get("scope_value", ""), campaign_selectors.known_campaigns()
    )
    if request.htmx and request.htmx.trigger_name == "scope_type":
        return render(request, f"{FORM_PAGE}#scope-changed", {**context, "oob": True})
    return render(request, f"{FORM_PAGE}#scope-hint", context)


def _say_what_the_rule_meets(request: HttpRequest, form: GuardrailForm, name: str) -> None:
    """After a save: the spelling the scope was saved in, and whether today's campaigns already break the rule."""
    if form.respelled:
        messages.info(request, f"The {form.respelled}.")
    broken = scopes.broken_today(form.rule(), form.known) if form.known is not None else ""
    if broken:
        messages.warning(request, f"“{name}” is {broken}.")


def _render_form(request: HttpRequest, form: GuardrailForm, guardrail: Guardrail | None, *, status=200, **extra):
    context = _form_context(form, guardrail, **extra)
    if request.htmx and request.htmx.target == "kind-params":
        return render(request, f"{FORM_PAGE}#kind-params", context)
    return render(request, FORM_PAGE, context, status=status)


def _switched_form(request: HttpRequest, guardrail: Guardrail | None) -> GuardrailForm:
    """A GET with ?kind=…: the same entries with the parameter fields of another kind (htmx or the plain button)."""
    initial = GuardrailForm.initial_for(guardrail) if guardrail else {"severity": "block"}
    if request.GET.get("kind"):
        carried = ("name", "kind", "severity", "scope_type", "scope_value", "reason", "version")
        initial.update({key: request.GET[key] for key in carried if key in request.GET})
    kind = initial.get("kind")
    if guardrail is not None and kind == guardrail.kind:
        return GuardrailForm(initial=initial, guardrail=guardrail)
    # Another kind's parameters start empty: the old ones mean something else.
    initial = {key: value for key, value in initial.items() if not key.startswith("param_")}
    return GuardrailForm(initial=initial, guardrail=guardrail, kind=kind)


@require_http_methods(["GET", "POST"])
@admin_only
def guardrail_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_form(request, _switched_form(request, None), None)
    form = GuardrailForm(request.POST, known=campaign_selectors.known_campaigns())
    if not form.is_valid():
        return _render_form(request, form, None, status=422)
    try:
        guardrail = services.guardrail_create(**form.values, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        form.add_error(None, error)
        return _render_form(request, form, None, status=422)
    messages.success(request, f"Guardrail “{guardrail.name}” created.")
    _say_what_the_rule_meets(request, form, guardrail.name)
    return redirect("objectives:guardrail", pk=guardrail.pk)


@require_http_methods(["GET", "POST"])
@admin_only
def guardrail_edit(request: HttpRequest, pk: int) -> HttpResponse:
    guardrail = get_object_or_404(Guardrail, pk=pk)
    if request.method == "GET":
        return _render_form(request, _switched_form(request, guardrail), guardrail)
    form = GuardrailForm(request.POST, guardrail=guardrail, known=campaign_selectors.known_campaigns())
    if not form.is_valid():
        return _render_form(request, form, guardrail, status=422)
    started_from = form.cleaned_data.get("version")
    if started_from is not None and started_from != guardrail.version:
        form.add_error(
            None,
            f"Someone saved version {guardrail.version} while you edited version {started_from}; "
            "reload the page to see it, then make your change again.",
        )
        return _render_form(request, form, guardrail, status=409)
    changes = {key: value for key, value in form.values.items()}
    if not guardrail.is_active and request.POST.get("reactivate"):
        changes["is_active"] = True
    saved = services.guardrail_update(
        guardrail=guardrail, actor=request.user, reason=form.cleaned_data["reason"], **changes
    )
    if saved.version == guardrail.version:
        messages.info(request, "Nothing changed; no new version was written.")
    else:
        messages.success(request, f"Saved version {saved.version} of “{saved.name}”.")
        _say_what_the_rule_meets(request, form, saved.name)
    return redirect("objectives:guardrail", pk=saved.pk)


@require_POST
@admin_only
def guardrail_backtest(request: HttpRequest) -> HttpResponse:
    """Replay the last 30 days' proposals with the form's values in place of the saved guardrail; writes nothing."""
    guardrail = None
    if request.GET.get("guardrail"):
        guardrail = get_object_or_404(Guardrail, pk=request.GET["guardrail"])
    known = campaign_selectors.known_campaigns()
    form = GuardrailForm(request.POST, guardrail=guardrail, for_backtest=True, known=known)
    result, broken = None, ""
    if form.is_valid():
        replaces = guardrail.name if guardrail else None
        active = guardrail.is_active or bool(request.POST.get("reactivate")) if guardrail else True
        result = backtesting.backtest(candidate=form.rule(), replaces=replaces, active=active)
        broken = scopes.broken_today(form.rule(), known)
    found = {"backtest": result, "form": form, "scope_match": form.scope_match(), "broken_today": broken}
    if request.htmx:
        # 200 even when invalid: htmx swaps only successful answers, and the box says what to fix.
        return render(request, f"{FORM_PAGE}#backtest", found)
    context = _form_context(form, guardrail, **{key: value for key, value in found.items() if key != "form"})
    return render(request, FORM_PAGE, context, status=200 if result else 422)


@require_POST
@admin_only
def guardrail_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    guardrail = get_object_or_404(Guardrail, pk=pk)
    form = DeactivateForm(request.POST)
    if not guardrail.is_active:
        messages.error(request, f"“{guardrail.name}” is already inactive.")
        return _detail_with_status(request, guardrail, form, 409)
    if not form.is_valid():
        return _detail_with_status(request, guardrail, form, 422)
    services.guardrail_deactivate(guardrail=guardrail, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, f"“{guardrail.name}” is switched off; its history stays.")
    return redirect("objectives:guardrail", pk=guardrail.pk)


def _detail_with_status(request: HttpRequest, guardrail: Guardrail, form: DeactivateForm, status: int):
    _describe(guardrail)
    context = {"guardrail": guardrail, "history": selectors.guardrail_history(guardrail), "deactivate_form": form}
    return render(request, DETAIL_PAGE, context, status=status)


# --- policy as a file ----------------------------------------------------------------------------


@require_GET
def policy_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(policy.export_policy_json(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="waypoint-policy-{policy.policy_version()}.json"'
    return response


@require_http_methods(["GET", "POST"])
@admin_only
def policy_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (a dry run: what would be created, updated, switched off) → confirm."""
    if request.method == "GET":
        return render(request, IMPORT_PAGE, {"form": PolicyImportForm()})
    form = PolicyImportForm(request.POST, request.FILES, known=campaign_selectors.known_campaigns())
    if not form.is_valid():
        return render(request, IMPORT_PAGE, {"form": form}, status=422)
    version = policy.policy_version()
    plan = policy.plan_import(form.policy)
    if not form.cleaned_data["confirm"]:
        confirm = PolicyImportForm(
            initial={**form.cleaned_data, "policy_file": None, "seen_version": version, "confirm": True}
        )
        context = {
            "form": confirm,
            "plan": plan,
            "warnings": form.policy.warnings,
            "preview": True,
            # What the whole imported policy would have done to the last 30 days' proposals, against today's rules.
            "backtest": backtesting.backtest_policy(rules=policy.rules_of(form.policy)),
        }
        return render(request, IMPORT_PAGE, context)
    if form.cleaned_data["seen_version"] != version:
        form.add_error(None, "The guardrails or objective changed since this preview; preview the file again.")
        return render(request, IMPORT_PAGE, {"form": form}, status=409)
    before = objective_pages.before_objective_change()
    done = policy.import_policy(policy=form.policy, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, f"Policy imported: {done.summary()}.")
    if done.objective_changed:
        # The import announced the new objective (policy_changed), which started a run, as the objective page does.
        objective_pages.say_what_the_change_started(request, selectors.active_objective(), before)
    return redirect("objectives:guardrails")
