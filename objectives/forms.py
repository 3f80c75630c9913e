"""Forms for guardrails, the objective and policy import: they parse and validate; services write.

The guardrail form grows one set of parameter fields per kind, so switching
the kind (htmx, or a plain "Show fields" button) redraws only those fields.
Validation is the services' own (`validate_guardrail`, `validate_objective`),
mapped back onto the fields, so the page and a policy file say the same words.
The campaigns that exist (`known`, read by decisions and passed in by the view)
let a scope be checked and saved in the campaigns' own spelling.
"""

from __future__ import annotations

from functools import partial

from django import forms
from django.core.exceptions import ValidationError

from objectives import guardrails, policy, services
from objectives.guardrails import KnownCampaigns, scopes
from objectives.models import VANITY_METRICS, Attribution, Guardrail, Metric, Severity

REASON_HELP = "Required for every change; kept with the version and in the audit log."

SCOPE_CHOICES = [
    ("", "All campaigns"),
    ("channel", "One channel"),
    ("tag", "Campaigns with a tag"),
    ("campaign", "One campaign (external id)"),
]


def _number(param: guardrails.Number) -> forms.FloatField:
    limits = {"min": f"{param.low:g}"} | ({"max": f"{param.high:g}"} if param.high is not None else {})
    widget = forms.NumberInput(attrs={"step": "any", **limits})
    return forms.FloatField(label=param.label, required=not param.optional, widget=widget, help_text=param.help)


def _whole(param: guardrails.WholeNumber) -> forms.IntegerField:
    widget = forms.NumberInput(attrs={"step": "1", "min": str(param.low)})
    return forms.IntegerField(label=param.label, required=not param.optional, widget=widget, help_text=param.help)


def _text(param: guardrails.Text) -> forms.CharField:
    return forms.CharField(
        label=param.label, required=not param.optional, max_length=param.max_length, help_text=param.help
    )


def _lines(param: guardrails.Phrases) -> forms.CharField:
    return forms.CharField(
        label=param.label,
        required=not param.optional,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"{param.help} One per line." if param.help else "One per line.",
    )


# One form field per kind of parameter; the kind classes say which parameters they take.
_FIELD_FOR_PARAM = {
    guardrails.Number: _number,
    guardrails.WholeNumber: _whole,
    guardrails.Text: _text,
    guardrails.Phrases: _lines,
}


def _field_maker(param: guardrails.Param):
    return partial(_FIELD_FOR_PARAM[type(param)], param)


# kind → [(params key, field factory)]; keys are the policy file's, so an export round-trips.
PARAM_FIELDS = {kind.name: [(param.key, _field_maker(param)) for param in kind.params] for kind in guardrails.REGISTRY}
LIST_PARAMS = {
    param.key for kind in guardrails.REGISTRY for param in kind.params if isinstance(param, guardrails.Phrases)
}


def param_field_name(key: str) -> str:
    return f"param_{key}"


def _plain(value):
    # 20.0 from a number input is the 20 an admin typed; keep policy files readable.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class GuardrailForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=guardrails.kind_choices)
    severity = forms.ChoiceField(
        choices=Severity.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Block: only a guardrail admin can approve over it, with a reason. "
            "Warn: shown, and approving over it is an override."
        ),
    )
    scope_type = forms.ChoiceField(choices=SCOPE_CHOICES, required=False, label="Applies to")
    scope_value = forms.CharField(max_length=128, required=False, label="Channel, tag or campaign")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP)
    # The version the admin started from: saving over someone else's newer version is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # What the backtest calls a guardrail that has no name yet.
    UNNAMED = "this guardrail"

    def __init__(
        self,
        *args,
        guardrail: Guardrail | None = None,
        kind: str | None = None,
        for_backtest=False,
        known: KnownCampaigns | None = None,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.guardrail = guardrail
        self.known = known
        self.for_backtest = for_backtest
        if for_backtest:
            # The backtest needs the rule, not its name or the reason for saving it.
            self.fields["name"].required = False
            self.fields["reason"].required = False
        # Not `self.kind`: in a template `form.kind` is the bound field, so no option would ever match it.
        self.kind_name = self._chosen_kind(kind)
        self.fields["kind"].initial = self.kind_name
        for key, make in PARAM_FIELDS[self.kind_name]:
            self.fields[param_field_name(key)] = make()

    def _chosen_kind(self, kind: str | None) -> str:
        """The kind whose parameter fields the form holds: the one submitted, else asked for, else the guardrail's."""
        wanted = self.data.get("kind") if self.is_bound else kind or self.initial.get("kind")
        if wanted in PARAM_FIELDS:
            return wanted
        if self.guardrail is not None and self.guardrail.kind in PARAM_FIELDS:
            return self.guardrail.kind
        return guardrails.KINDS[0]

    @classmethod
    def initial_for(cls, guardrail: Guardrail) -> dict:
        scope_type, scope_value = next(iter(guardrail.scope.items()), ("", ""))
        initial = {
            "name": guardrail.name,
            "kind": guardrail.kind,
            "severity": guardrail.severity,
            "scope_type": scope_type,
            "scope_value": scope_value,
            "version": guardrail.version,
        }
        for key, value in guardrail.params.items():
            initial[param_field_name(key)] = "\n".join(value) if isinstance(value, list) else value
        return initial

    @property
    def kind_label(self) -> str:
        return guardrails.kind_named(self.kind_name).label

    def param_fields(self) -> list[forms.BoundField]:
        return [self[param_field_name(key)] for key, _ in PARAM_FIELDS[self.kind_name]]

    def _params(self) -> dict:
        params = {}
        optional = {p.key: p for p in guardrails.kind_named(self.kind_name).params if p.optional}
        for key, _ in PARAM_FIELDS[self.kind_name]:
            value = self.cleaned_data.get(param_field_name(key))
            if key in LIST_PARAMS:
                value = [line.strip() for line in (value or "").splitlines() if line.strip()]
                # An optional list left empty is left out, unless the kind keeps an empty one (brand_voice's).
                if value or not (key in optional and not getattr(optional[key], "may_be_empty", False)):
                    params[key] = value
            elif value is not None and not (key in optional and value == ""):
                params[key] = _plain(value)
        return params

    def _scope(self) -> dict:
        scope_type = self.cleaned_data.get("scope_type")
        if not scope_type:
            return {}
        return {scope_type: (self.cleaned_data.get("scope_value") or "").strip()}

    def scope_match(self) -> guardrails.ScopeMatch | None:
        """What the entered scope reaches among the known campaigns; None when they were not given."""
        if self.known is None:
            return None
        if self.is_bound:
            scope_type, value = self.data.get("scope_type", ""), self.data.get("scope_value", "")
        else:
            scope_type, value = self.initial.get("scope_type", ""), self.initial.get("scope_value", "")
        scope = {scope_type: str(value).strip()} if scope_type in guardrails.SCOPE_KEYS and str(value).strip() else {}
        return guardrails.match_scope(scope, self.known)

    def missing_fields(self) -> list[str]:
        """Labels of the required fields left empty: the live backtest asks for them instead of calling them errors."""
        return [
            self[name].label
            for name, errors in self.errors.as_data().items()
            if name in self.fields and any(error.code == "required" for error in errors)
        ]

    def touched_errors(self) -> list[str]:
        """Errors about what was typed (not about fields still empty), as "Label: message"."""
        found = [
            f"{self[name].label}: {message}"
            for name, errors in self.errors.as_data().items()
            if name in self.fields
            for error in errors
            if error.code != "required"
            for message in error
        ]
        return found + list(self.non_field_errors())

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        scope = self._scope()
        self.values = {
            "name": cleaned["name"].strip() or (self.guardrail.name if self.guardrail else self.UNNAMED),
            "kind": self.kind_name,
            "scope": scope,
            "severity": cleaned["severity"],
            "params": self._params(),
        }
        try:
            services.validate_guardrail(**self.values, known=self.known)
        except ValidationError as error:
            self._place(error)
        # Saved as the campaigns spell it ("Display" → "display"): the checker compares scopes exactly.
        self.values["scope"] = scopes.canonical_scope(scope, self.known)
        self.values["params"] = scopes.canonical_params(self.kind_name, self.values["params"], self.known)
        taken = Guardrail.objects.filter(name=self.values["name"])
        if self.guardrail is not None:
            taken = taken.exclude(pk=self.guardrail.pk)
        if taken.exists() and cleaned["name"].strip():
            self.add_error("name", "Another guardrail already has this name.")
        return cleaned

    @property
    def respelled(self) -> str:
        """'channel “Display” is saved as “display”, as the campaigns spell it' when the spelling changed; else ""."""
        typed = self._scope() if hasattr(self, "cleaned_data") else {}
        saved = getattr(self, "values", {}).get("scope", {})
        if not typed or typed == saved:
            return ""
        (key, before), (_, after) = next(iter(typed.items())), next(iter(saved.items()))
        return f"{key} “{before}” is saved as “{after}”, as the campaigns spell it"

    def _place(self, error: ValidationError) -> None:
        """Put each service message on the field it concerns ("pct: must be …" → the pct field)."""
        for field, messages in error.message_dict.items():
            for message in messages:
                key, _, rest = message.partition(": ")
                if field == "params" and param_field_name(key) in self.fields:
                    self.add_error(param_field_name(key), rest)
                elif field == "scope":
                    self.add_error("scope_value", message)
                elif field in self.fields:
                    self.add_error(field, message)
                else:
                    self.add_error(None, f"{field}: {message}")

    def rule(self) -> guardrails.Rule:
        return guardrails.Rule(**self.values)


class DeactivateForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP)


VANITY_WARNING = {
    Metric.CLICKS: "Clicks reward curiosity, not buyers: the engine would chase cheap traffic.",
    Metric.PLATFORM_CONVERSIONS: "The platform counts its own conversions, generously; pipeline is what sales can see.",
    Metric.PLATFORM_REVENUE: "Platform ROAS credits the platform with revenue that would often have come anyway.",
}


class ObjectiveForm(forms.Form):
    metric = forms.ChoiceField(choices=Metric.choices, widget=forms.RadioSelect, label="Optimise")
    horizon_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=7,
        label="Horizon (days)",
        help_text="How far ahead an expected impact is judged.",
    )
    attribution = forms.ChoiceField(
        choices=Attribution.choices,
        initial=Attribution.CAMPAIGN,
        widget=forms.RadioSelect,
        label="Attribution",
        required=False,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP)
    # The second step of choosing a vanity metric: the metric the admin confirmed, carried by the confirm button.
    confirm_vanity = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for metric in Metric:
            self.fields[self.weight_name(metric)] = forms.FloatField(
                required=False,
                min_value=0,
                label=f"plus × {metric.label}",
                widget=forms.NumberInput(attrs={"step": "any", "min": "0", "placeholder": "0"}),
            )

    @staticmethod
    def weight_name(metric: str) -> str:
        return f"weight_{metric}"

    @classmethod
    def initial_for(cls, objective) -> dict:
        if objective is None:
            return {"metric": Metric.PIPELINE_VALUE, "horizon_days": 7}
        initial = {
            "metric": objective.metric,
            "horizon_days": objective.horizon_days,
            "attribution": objective.attribution,
        }
        initial.update({cls.weight_name(key): value for key, value in objective.weights.items()})
        return initial

    def metric_choices(self) -> list[dict]:
        """Each metric with its radio, vanity flag and the one-line warning, for the template."""
        radios = {str(radio.data["value"]): radio for radio in self["metric"]}
        return [
            {
                "metric": metric,
                "radio": radios[metric.value],
                "vanity": metric in VANITY_METRICS,
                "warning": VANITY_WARNING.get(metric, ""),
            }
            for metric in Metric
        ]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[self.weight_name(metric)] for metric in Metric]

    @property
    def needs_vanity_confirmation(self) -> bool:
        """A valid choice of a vanity metric not yet confirmed (for this very metric) in a second step."""
        return needs_vanity_confirmation(self.values["metric"], self.cleaned_data.get("confirm_vanity", ""))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        metric = cleaned["metric"]
        weights = {}
        for other in Metric:
            value = cleaned.get(self.weight_name(other))
            if not value:
                continue
            if other == metric:
                self.add_error(self.weight_name(other), "This is already the metric optimised; leave it empty.")
            weights[other.value] = _plain(value)
        self.values = {"metric": metric, "weights": weights, "horizon_days": cleaned["horizon_days"]}
        if cleaned.get("attribution") == Attribution.MIX:
            self.values["attribution"] = Attribution.MIX
        try:
            services.validate_objective(**self.values)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


def needs_vanity_confirmation(metric: str, confirmed: str) -> bool:
    return metric in VANITY_METRICS and confirmed != metric


class ObjectiveRestoreForm(forms.Form):
    """Restoring an earlier objective is a change like any other: a reason, and a second step for a vanity metric."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP)
    confirm_vanity = forms.CharField(required=False, widget=forms.HiddenInput)


class PolicyImportForm(forms.Form):
    """Step one uploads (or pastes) and previews; step two confirms the same text against the same policy."""

    policy_file = forms.FileField(required=False, label="Policy file (JSON)")
    policy_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="…or paste it")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP)
    # The policy fingerprint the preview was made against; a change since then makes the preview stale.
    seen_version = forms.CharField(required=False, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    MAX_BYTES = 1_000_000

    def __init__(self, *args, known: KnownCampaigns | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known = known

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("policy_file")
        text = cleaned.get("policy_text") or ""
        if upload is not None:
            if upload.size > self.MAX_BYTES:
                raise ValidationError("The policy file is larger than 1 MB.")
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError("The policy file is not UTF-8 text.") from None
        if not text.strip():
            raise ValidationError("Choose a policy file or paste its JSON.")
        try:
            self.policy = policy.parse_policy(text, known=self.known)
        except policy.PolicyError as error:
            raise ValidationError(error.named) from None
        cleaned["policy_text"] = text
        return cleaned
