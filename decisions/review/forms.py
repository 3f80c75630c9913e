"""Forms for review decisions: they parse and validate input; the services in decisions.review.transitions decide."""

from django import forms
from django.urls import reverse

from decisions.models import Experiment, Proposal, Review
from decisions.review import audience_edits, kinds
from objectives import formatting
from objectives.guardrails import fields


class ApproveForm(forms.Form):
    """What approving over a failing guardrail needs: a confirmation (warn) or a written reason (block)."""

    confirm_warnings = forms.BooleanField(required=False, label="I have read the warnings and approve anyway")
    override_reason = forms.CharField(
        required=False,
        label="Why this block-level guardrail may be overridden",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EditForm(ApproveForm):
    """The proposal's target values, one field per change, plus a note; the machine's values stay on the proposal."""

    note = forms.CharField(
        required=False, label="Why these values (optional)", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, proposal: Proposal, names: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        names = names or {}
        for index, change in enumerate(proposal.changes):
            # A workflow's change names it by workflow_id and carries its name (decisions/targets.py).
            identity = change.get("campaign") or change.get("workflow_id")
            name = names.get(identity) or change.get("name") or identity
            self.fields[self.field_name(index)] = self._field_for(change, name)
            self.initial.setdefault(self.field_name(index), change["to"])
        # Order: the values first, then the note and the guardrail answers.
        ordered = [self.field_name(i) for i in range(len(proposal.changes))]
        self.order_fields(ordered + ["note", "confirm_warnings", "override_reason"])

    @staticmethod
    def field_name(index: int) -> str:
        return f"change_{index}"

    @staticmethod
    def _field_for(change: dict, campaign_name: str) -> forms.Field:
        """The input for one change, by the kind of value its campaign field holds; its help says where the
        campaign is now and what the machine proposed, so the reviewer types beside both."""
        field = fields.of(change)
        label = f"{campaign_name}: {field.label}"
        shown = formatting.money if isinstance(field, fields.MoneyField) else field.show
        help_text = f"Now {shown(change['from'])} · the engine proposes {shown(change['to'])}"
        if isinstance(field, fields.MoneyField):
            return forms.DecimalField(
                min_value=0,
                max_digits=14,
                decimal_places=2,
                label=label,
                help_text=help_text,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "class": "change-input"}),
            )
        if isinstance(field, fields.ChoiceField):
            choices = [(value, value.capitalize()) for value in field.choices]
            return forms.ChoiceField(choices=choices, label=label, help_text=help_text)
        return forms.CharField(max_length=getattr(field, "max_length", 128), label=label, help_text=help_text)

    def value_fields(self) -> list[forms.BoundField]:
        return [self[self.field_name(i)] for i in range(len(self.proposal.changes))]

    def final_changes(self) -> list[dict]:
        """The reviewer's values as changes; call after is_valid()."""
        changes = []
        for index, change in enumerate(self.proposal.changes):
            value = self.cleaned_data[self.field_name(index)]
            changes.append({**change, "to": kinds.clean_target(change, value)})
        return changes

    def partial_changes(self) -> list[dict] | None:
        """The values typed so far, for the live re-check; None while any of them is not a usable number yet."""
        self.is_valid()
        if any(self.field_name(i) in self.errors for i in range(len(self.proposal.changes))):
            return None
        return self.final_changes()


class AudienceEditForm(ApproveForm):
    """An audience action's edit: its audience narrowed (each of the engine's conditions: a number's range, or
    some of its category values) and its action (one of the test's arms, by name); widening is refused
    (decisions/review/audience_edits.py). Each input re-checks the guardrails and the estimate as it changes."""

    note = EditForm.base_fields["note"]

    def __init__(self, *args, proposal: Proposal, names: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        self.machine = proposal.changes[0]
        self.experiment = Experiment.objects.filter(name=self.machine.get("experiment")).first()
        live = {
            "hx-post": reverse("decisions:proposal-check", args=[proposal.pk]),
            "hx-trigger": "input changed delay:300ms, change",
            "hx-target": f"#verdicts-{proposal.pk}",
            "hx-select": f"#verdicts-{proposal.pk} > *",
            "hx-swap": "innerHTML",
            "hx-include": "closest form",
        }
        self._value_names = ["action"]
        arms = self._arm_choices()
        self.fields["action"] = forms.ChoiceField(
            choices=arms,
            label="Action",
            help_text=f"The engine proposes {dict(arms).get(self.machine.get('to'), self.machine.get('to'))}",
            widget=forms.Select(attrs=live),
        )
        self.initial.setdefault("action", self.machine.get("to"))
        for name, condition in (self.machine.get("segment") or {}).items():
            label = name.replace("_", " ")
            if isinstance(condition, dict):
                for bound, words in (("min", "from (at least)"), ("max", "to (under)")):
                    key = self.condition_field(name, bound)
                    engine = condition.get(bound)
                    self.fields[key] = forms.CharField(
                        required=False,
                        label=f"Audience: {label} {words}",
                        help_text="The engine's audience: "
                        + ("no limit" if engine is None else f"{engine:g}")
                        + (" · may only go up" if bound == "min" else " · may only go down"),
                        widget=forms.TextInput(attrs={**live, "inputmode": "decimal", "size": 8}),
                    )
                    self.initial.setdefault(key, "" if engine is None else f"{engine:g}")
                    self._value_names.append(key)
            else:
                key = self.condition_field(name, "in")
                values = [str(value) for value in condition]
                self.fields[key] = forms.MultipleChoiceField(
                    required=False,
                    choices=[(value, value) for value in values],
                    label=f"Audience: {label} is one of",
                    help_text="Untick values to leave them out; the engine's audience has these.",
                    widget=forms.CheckboxSelectMultiple(attrs=live),
                )
                self.initial.setdefault(key, values)
                self._value_names.append(key)
        self.order_fields(self._value_names + ["note", "confirm_warnings", "override_reason"])

    @staticmethod
    def condition_field(name: str, bound: str) -> str:
        return f"segment__{name}__{bound}"

    def _arm_choices(self) -> list[tuple[str, str]]:
        if self.experiment is None:
            return [(self.machine.get("to"), self.machine.get("to"))]
        names = dict(self.experiment.actions.values_list("arm", "name"))
        arms = sorted(set(self.experiment.arm_sizes) | {self.experiment.control_arm})
        control = self.experiment.control_arm
        return [(arm, names.get(arm, arm) + (" (the control)" if arm == control else "")) for arm in arms]

    def value_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self._value_names]

    @property
    def unusable_message(self) -> str:
        """Why the live check cannot judge what is typed (a widened audience, say)."""
        return " ".join(str(error) for errors in self.errors.values() for error in errors)

    def _edited(self) -> dict:
        segment = {}
        for name, condition in (self.machine.get("segment") or {}).items():
            if isinstance(condition, dict):
                segment[name] = {
                    bound: (self.cleaned_data.get(self.condition_field(name, bound)) or "").strip() or None
                    for bound in ("min", "max")
                }
            else:
                segment[name] = list(self.cleaned_data.get(self.condition_field(name, "in")) or [])
        return {**self.machine, "segment": segment, "to": self.cleaned_data.get("action")}

    def clean(self):
        cleaned = super().clean()
        if "action" in cleaned:
            try:
                self._final = audience_edits.clean(self.machine, self._edited())
            except audience_edits.InvalidEdit as error:
                self.add_error(None, str(error))
        return cleaned

    def final_changes(self) -> list[dict]:
        """The reviewer's audience and action as the proposal's one change; call after is_valid()."""
        return [self._final]

    def partial_changes(self) -> list[dict] | None:
        return self.final_changes() if self.is_valid() else None


def edit_form(*args, proposal: Proposal, names: dict[str, str] | None = None, **kwargs) -> EditForm | AudienceEditForm:
    """The edit form of the proposal's kind: its target values, or (an audience action) its audience and action."""
    if kinds.get(proposal.kind).target == fields.AUDIENCE_TARGET:
        return AudienceEditForm(*args, proposal=proposal, names=names, **kwargs)
    return EditForm(*args, proposal=proposal, names=names, **kwargs)


class RejectForm(forms.Form):
    reason_code = forms.ChoiceField(
        choices=Review.Reason.choices,
        widget=forms.RadioSelect,
        label="Reason",
        error_messages={"required": "Choose a reason for the rejection."},
    )
    note = forms.CharField(required=False, label="Note (optional)", widget=forms.Textarea(attrs={"rows": 2}))


class RollbackForm(forms.Form):
    reason = forms.CharField(
        label="Why roll back",
        max_length=2000,
        error_messages={"required": "Write why this change is rolled back."},
    )
