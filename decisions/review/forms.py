"""Forms for review decisions: they parse and validate input; the services in decisions.review.transitions decide."""

from django import forms

from decisions.models import Proposal, Review
from decisions.review import kinds
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
