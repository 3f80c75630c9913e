"""Reads of objectives and guardrails; `decisions` reads them only through here."""

from django.db.models import QuerySet

from objectives import guardrails as rules
from objectives.guardrails import Rule, registry
from objectives.models import Guardrail, GuardrailVersion, Metric, Objective


def active_objective() -> Objective | None:
    return Objective.objects.filter(is_active=True).first()


def guardrails(*, active_only: bool = False) -> QuerySet[Guardrail]:
    queryset = Guardrail.objects.order_by("name")
    return queryset.filter(is_active=True) if active_only else queryset


def active_rules() -> list[Rule]:
    """The active guardrails as the pure checker's rules."""
    return [
        Rule(name=g.name, kind=g.kind, scope=g.scope, severity=g.severity, params=g.params)
        for g in guardrails(active_only=True)
    ]


def guardrail_names() -> dict[int, set[str]]:
    """Every name each guardrail has had: stored verdicts name guardrails, and a rename must not lose their past."""
    names: dict[int, set[str]] = {}
    for guardrail_id, name in GuardrailVersion.objects.values_list("guardrail_id", "name").distinct():
        names.setdefault(guardrail_id, set()).add(name)
    for guardrail_id, name in Guardrail.objects.values_list("id", "name"):
        names.setdefault(guardrail_id, set()).add(name)
    return names


# What an empty scope covers, in the words of what a kind judges (a contact cap judges audiences, not campaigns).
_EVERY = {"campaign": "all campaigns", "workflow": "all workflows", "audience": "all audiences of tests"}


def describe_scope(scope: dict, kind: str | None = None) -> str:
    if not scope:
        judged = registry.kind_named(kind)
        targets = judged.judged_targets() if judged is not None else ("campaign",)
        return " and ".join(_EVERY.get(target, f"all {target}s") for target in targets)
    return ", ".join(f"{key} {value}" for key, value in scope.items())


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def version_diff(before: dict | None, after: dict) -> list[str]:
    """What changed between two saved states, as lines a person reads ("pct: 20 → 10")."""
    if before is None:
        return ["created"]
    lines = []
    for key in ("name", "kind", "severity"):
        if before[key] != after[key]:
            lines.append(f"{key}: {before[key]} → {after[key]}")
    if before["scope"] != after["scope"]:
        lines.append(f"scope: {describe_scope(before['scope'])} → {describe_scope(after['scope'])}")
    old, new = before["params"], after["params"]
    for key in sorted(set(old) | set(new), key=lambda k: (k not in new, k)):
        if old.get(key) != new.get(key):
            was = _shown(old[key]) if key in old else "(not set)"
            now = _shown(new[key]) if key in new else "(removed)"
            lines.append(f"{key}: {was} → {now}")
    if before["is_active"] != after["is_active"]:
        lines.append("switched on" if after["is_active"] else "switched off")
    return lines or ["no change"]


def guardrail_history(guardrail: Guardrail) -> list[tuple[GuardrailVersion, list[str]]]:
    """Each version, newest first, with what it changed against the one before."""
    versions = list(guardrail.versions.select_related("changed_by").order_by("version"))
    history, previous = [], None
    for version in versions:
        history.append((version, version_diff(previous, version.snapshot())))
        previous = version.snapshot()
    return list(reversed(history))


def describe_params(params: dict) -> str:
    return " · ".join(f"{key}: {_shown(value)}" for key, value in params.items())


# --- the objective in words ------------------------------------------------------------


def metric_label(metric) -> str:
    """A metric's label; a name this version does not know (an old audit row) is shown as stored."""
    return Metric(metric).label if metric in Metric.values else str(metric)


def _weighted_terms(weights) -> list[str]:
    return [f"{_shown(weight)} × {metric_label(metric)}" for metric, weight in (weights or {}).items()]


def _weights_text(weights) -> str:
    return " + ".join(_weighted_terms(weights)) or "none"


def objective_value_text(snapshot: dict) -> str:
    """The metric with its composite weights, as one value: "Closed revenue + 0.3 × Pipeline value"."""
    return " + ".join([metric_label(snapshot.get("metric")), *_weighted_terms(snapshot.get("weights"))])


def describe_objective(snapshot: dict | None) -> str:
    """Like "Closed revenue + 0.3 × Pipeline value, 14-day horizon"; "none" when no objective is active."""
    if not snapshot:
        return "none"
    mix = ", channel mix from totals" if snapshot.get("attribution") == "mix" else ""
    return f"{objective_value_text(snapshot)}, {snapshot.get('horizon_days', '?')}-day horizon{mix}"


def objective_changes(before: dict | None, after: dict | None) -> list[str]:
    """What replacing one objective snapshot by another changes ("Pipeline value → Closed revenue",
    "horizon 7 → 14 days"); snapshots from old audit rows may lack keys, so each is read with .get()."""
    if not before and not after:
        return []
    if not after:
        return [f"cleared (was {describe_objective(before)})"]
    if not before:
        return [f"set to {describe_objective(after)}"]
    lines = []
    if before.get("metric") != after.get("metric"):
        lines.append(f"{metric_label(before.get('metric'))} → {metric_label(after.get('metric'))}")
    if (before.get("weights") or {}) != (after.get("weights") or {}):
        lines.append(f"weights {_weights_text(before.get('weights'))} → {_weights_text(after.get('weights'))}")
    if before.get("horizon_days") != after.get("horizon_days"):
        lines.append(f"horizon {before.get('horizon_days', '?')} → {after.get('horizon_days', '?')} days")
    if before.get("attribution", "campaign") != after.get("attribution", "campaign"):
        lines.append(f"attribution {before.get('attribution', 'campaign')} → {after.get('attribution', 'campaign')}")
    return lines or ["no change"]


def describe_guardrail(snapshot: dict) -> str:
    """Like "Max budget change %, block, channel display: pct: 20"; .get() keeps old audit rows readable."""
    kind = rules.kind_named(snapshot.get("kind"))
    label = kind.label if kind else str(snapshot.get("kind", "?"))
    scope = describe_scope(snapshot.get("scope") or {})
    params = describe_params(snapshot.get("params") or {})
    return f"{label}, {snapshot.get('severity', '?')}, {scope}" + (f": {params}" if params else "")
