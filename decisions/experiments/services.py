"""Writes of experiments: a marketer names an action and sets its copy (subject line, message), or asks for a
test to be analysed again (after the objective or the transactions changed)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.experiments import analysing
from decisions.models import Experiment, ExperimentAction


class StaleActionError(Exception):
    """Someone changed the action since the page showing it was loaded."""


COPY_FIELDS = ("name", "subject_line", "message")


@transaction.atomic
def experiment_action_update(
    *, action_id: int, revision: int, name: str, subject_line: str, message: str, actor
) -> ExperimentAction:
    """Rename an action or change its copy. `revision` is the one the editor saw: a newer one refuses the edit
    (two marketers editing at once never overwrite each other silently). Audited with before and after."""
    name, subject_line, message = name.strip(), subject_line.strip(), message.strip()
    errors = {}
    if not name:
        errors["name"] = "Give the action a name."
    elif len(name) > ExperimentAction._meta.get_field("name").max_length:
        errors["name"] = "Keep the name under 120 characters."
    if len(subject_line) > ExperimentAction._meta.get_field("subject_line").max_length:
        errors["subject_line"] = "Keep the subject line under 200 characters."
    if len(message) > 5000:
        errors["message"] = "Keep the message under 5,000 characters."
    if errors:
        raise ValidationError(errors)
    action = ExperimentAction.objects.select_related("experiment").select_for_update().get(pk=action_id)
    before = {field: getattr(action, field) for field in COPY_FIELDS}
    updated = ExperimentAction.objects.filter(pk=action_id, revision=revision).update(
        name=name, subject_line=subject_line, message=message, revision=F("revision") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise StaleActionError(
            f"{action.name} was changed by someone else since this page was loaded; here is what it says now."
        )
    action.refresh_from_db()
    audit_events.experiment_action_changed(action=action, actor=actor, before=before)
    return action


def experiment_reanalyse(*, experiment: Experiment, actor) -> str:
    """Queue the test's analysis again, judged in what the objective asks now; audited. Returns that metric."""
    metric = analysing.analysed_metric(experiment)
    audit_events.experiment_reanalysed(experiment=experiment, actor=actor, metric=metric)
    analysing.analysis_queue(experiment.pk)
    return metric
