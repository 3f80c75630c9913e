"""Writes to objectives and guardrails; each one versions the guardrail and appends an audit event.

The audit log is the one thing objectives uses from decisions: every change
people make to the rules must sit in the same tamper-evident chain as the
decisions those rules governed. What a change must set off in decisions (a
re-check of the queue, a new run) goes the other way, through
`signals.policy_changed`, sent once the change commits.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from decisions import audit
from decisions.audit import events as audit_events
from objectives import guardrails as rules
from objectives import signals
from objectives.guardrails import KnownCampaigns, scopes
from objectives.models import Attribution, AutoApprovalPolicy, Guardrail, GuardrailVersion, Metric, Objective


def guardrail_snapshot(guardrail: Guardrail) -> dict:
    return {
        "name": guardrail.name,
        "kind": guardrail.kind,
        "scope": guardrail.scope,
        "severity": guardrail.severity,
        "params": guardrail.params,
        "is_active": guardrail.is_active,
        "version": guardrail.version,
    }


def objective_snapshot(objective: Objective | None) -> dict:
    if objective is None:
        return {}
    snapshot = {"metric": objective.metric, "weights": objective.weights, "horizon_days": objective.horizon_days}
    # Named only when it is not the default, so every snapshot and policy file written before it stays the same.
    if objective.attribution != Attribution.CAMPAIGN:
        snapshot["attribution"] = objective.attribution
    return snapshot


def validate_guardrail(*, name, kind, scope, severity, params, known: KnownCampaigns | None = None) -> None:
    """Raise ValidationError with field-keyed messages; forms and the policy file share these words.

    With `known` (the campaigns that exist, read by decisions and passed in), a scope that matches no
    campaign is refused too, with the close matches: a typo must not become a rule that guards nothing.
    """
    problems: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip():
        problems["name"] = ["must be a non-empty text"]
    elif len(name) > Guardrail._meta.get_field("name").max_length:
        problems["name"] = ["must be at most 120 characters"]
    if kind not in rules.KINDS:
        problems["kind"] = [rules.unknown_kind(kind)]
    elif found := rules.validate_params(kind, params) or scopes.param_problems(kind, params, known):
        problems["params"] = found
    if found := rules.validate_scope(scope) or scopes.scope_problems(scope, known):
        problems["scope"] = found
    if found := rules.validate_severity(severity):
        problems["severity"] = found
    if problems:
        raise ValidationError(problems)


def _write_version(*, guardrail: Guardrail, actor, reason: str) -> GuardrailVersion:
    return GuardrailVersion.objects.create(
        guardrail=guardrail,
        version=guardrail.version,
        name=guardrail.name,
        kind=guardrail.kind,
        scope=guardrail.scope,
        severity=guardrail.severity,
        params=guardrail.params,
        is_active=guardrail.is_active,
        changed_by=actor,
        changed_by_label=audit.actor_label(actor),
        reason=reason,
    )


@transaction.atomic
def guardrail_create(
    *, name: str, kind: str, params: dict, scope: dict | None = None, severity: str = "block", actor=None, reason=""
) -> Guardrail:
    scope = scope or {}
    validate_guardrail(name=name, kind=kind, scope=scope, severity=severity, params=params)
    guardrail = Guardrail.objects.create(
        name=name, kind=kind, scope=scope, severity=severity, params=params, is_active=True, version=1
    )
    _write_version(guardrail=guardrail, actor=actor, reason=reason)
    audit_events.guardrail_created(guardrail, snapshot=guardrail_snapshot(guardrail), actor=actor, reason=reason)
    signals.announce_on_commit(actor=actor)
    return guardrail


_EDITABLE = ("name", "kind", "scope", "severity", "params", "is_active")


def _save_new_version(*, guardrail: Guardrail, changes: dict, record_event, actor, reason: str) -> Guardrail:
    # Lock the row (PostgreSQL) so two editors cannot both write version n+1;
    # on SQLite the unique (guardrail, version) constraint refuses the second.
    locked = Guardrail.objects.select_for_update().get(pk=guardrail.pk)
    if all(getattr(locked, key) == value for key, value in changes.items()):
        return locked
    before = guardrail_snapshot(locked)
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save()
    _write_version(guardrail=locked, actor=actor, reason=reason)
    record_event(locked, before=before, after=guardrail_snapshot(locked), actor=actor, reason=reason)
    signals.announce_on_commit(actor=actor)
    return locked


@transaction.atomic
def guardrail_update(*, guardrail: Guardrail, actor=None, reason: str = "", **changes) -> Guardrail:
    """Change any of name, kind, scope, severity, params, is_active; no version when nothing differs."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise TypeError(f"guardrail_update() cannot change {', '.join(sorted(unknown))}")
    proposed = {key: changes.get(key, getattr(guardrail, key)) for key in _EDITABLE if key != "is_active"}
    validate_guardrail(**proposed)
    return _save_new_version(
        guardrail=guardrail, changes=changes, record_event=audit_events.guardrail_updated, actor=actor, reason=reason
    )


@transaction.atomic
def guardrail_deactivate(*, guardrail: Guardrail, actor=None, reason: str = "") -> Guardrail:
    """Switch a guardrail off; it stays, with its history, and can be switched back on by an update."""
    return _save_new_version(
        guardrail=guardrail,
        changes={"is_active": False},
        record_event=audit_events.guardrail_deactivated,
        actor=actor,
        reason=reason,
    )


def validate_objective(*, metric, weights, horizon_days, attribution=Attribution.CAMPAIGN) -> None:
    problems: dict[str, list[str]] = {}
    if attribution not in Attribution.values:
        shown = f'"{attribution}"' if isinstance(attribution, str) else repr(attribution)
        problems["attribution"] = [f"unknown attribution {shown}; expected campaign or mix"]
    if metric not in Metric.values:
        shown = f'"{metric}"' if isinstance(metric, str) else repr(metric)
        problems["metric"] = [f"unknown metric {shown}; expected one of {', '.join(Metric.values)}"]
    if not isinstance(weights, dict):
        problems["weights"] = ["must be an object of metric → weight"]
    else:
        for key, value in weights.items():
            if key not in Metric.values:
                problems.setdefault("weights", []).append(f"{key}: unknown metric")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                problems.setdefault("weights", []).append(f"{key}: must be a number of at least 0")
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or not 1 <= horizon_days <= 365:
        problems["horizon_days"] = ["must be a whole number between 1 and 365"]
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def objective_set(
    *,
    metric: str,
    weights: dict | None = None,
    horizon_days: int = 7,
    attribution: str = Attribution.CAMPAIGN,
    actor=None,
    reason: str = "",
    restored_from: Objective | None = None,
) -> Objective:
    """Make this the single active objective; the current one is reused when identical.

    `restored_from`: the earlier objective this one brings back (objective_restore), named in the audit event.
    """
    weights = weights or {}
    validate_objective(metric=metric, weights=weights, horizon_days=horizon_days, attribution=attribution)
    current = Objective.objects.select_for_update().filter(is_active=True).first()
    wanted = {"metric": metric, "weights": weights, "horizon_days": horizon_days, "attribution": attribution}
    if current is not None and objective_snapshot(current) == objective_snapshot(Objective(**wanted)):
        return current
    # The old row stays as history; only one row may be active at a time.
    Objective.objects.filter(is_active=True).update(is_active=False)
    objective = Objective.objects.create(**wanted, is_active=True, created_by=actor)
    after = objective_snapshot(objective)
    if restored_from is not None:
        after["restored_from"] = restored_from.pk
    audit_events.objective_changed(before=objective_snapshot(current), after=after, actor=actor, reason=reason)
    signals.announce_on_commit(actor=actor, objective_changed=True)
    return objective


def objective_restore(*, objective: Objective, actor=None, reason: str) -> Objective:
    """Bring an earlier objective back: a change like any other (a new active row, audited, a new run)."""
    if not reason.strip():
        raise ValidationError({"reason": ["say why the earlier objective comes back"]})
    return objective_set(
        metric=objective.metric,
        weights=objective.weights,
        horizon_days=objective.horizon_days,
        attribution=objective.attribution,
        actor=actor,
        reason=reason.strip(),
        restored_from=objective,
    )


@transaction.atomic
def objective_clear(*, actor=None, reason: str = "") -> None:
    """Leave no objective active: what a policy file with "objective": null asks for."""
    current = Objective.objects.select_for_update().filter(is_active=True).first()
    if current is None:
        return
    Objective.objects.filter(pk=current.pk).update(is_active=False)
    audit_events.objective_changed(before=objective_snapshot(current), after={}, actor=actor, reason=reason)
    signals.announce_on_commit(actor=actor, objective_changed=True)


# --- auto-approval under risk limits ------------------------------------------------

AUTO_APPROVAL_FIELDS = ("is_enabled", "max_change_pct", "max_p_loss", "kinds", "channels")


def auto_approval_snapshot(policy: AutoApprovalPolicy) -> dict:
    return {name: getattr(policy, name) for name in (*AUTO_APPROVAL_FIELDS, "version")}


def validate_auto_approval(*, max_change_pct, max_p_loss, kinds, channels) -> None:
    problems = []
    if not isinstance(max_change_pct, int | float) or not 0 < max_change_pct <= 25:
        problems.append("max_change_pct: must be a number above 0 and at most 25 (small changes only)")
    if not isinstance(max_p_loss, int | float) or not 0 <= max_p_loss <= 0.2:
        problems.append("max_p_loss: must be a probability between 0 and 0.2")
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        problems.append("kinds: must be a list of proposal kinds")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        problems.append("channels: must be a list of channel names")
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def auto_approval_update(*, actor, reason: str, **changes) -> AutoApprovalPolicy:
    """Change the auto-approval policy (a new version); a reason is required, as for every policy change."""
    if not reason.strip():
        raise ValidationError("reason: say why the auto-approval policy changes")
    unknown = set(changes) - set(AUTO_APPROVAL_FIELDS)
    if unknown:
        raise ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    policy, _ = AutoApprovalPolicy.objects.select_for_update().get_or_create(pk=1)
    before = auto_approval_snapshot(policy)
    wanted = {**{k: before[k] for k in AUTO_APPROVAL_FIELDS}, **changes}
    validate_auto_approval(**{k: wanted[k] for k in ("max_change_pct", "max_p_loss", "kinds", "channels")})
    if wanted == {k: before[k] for k in AUTO_APPROVAL_FIELDS}:
        return policy
    for name, value in wanted.items():
        setattr(policy, name, value)
    policy.version += 1
    policy.updated_by = actor
    policy.save()
    audit_events.auto_approval_changed(
        before=before, after=auto_approval_snapshot(policy), actor=actor, reason=reason.strip()
    )
    signals.announce_on_commit(actor=actor)
    return policy
