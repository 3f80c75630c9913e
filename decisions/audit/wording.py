"""Audit events in plain words: one describer per action, registered in decisions/audit/actions.py.

A describer takes an AuditEvent and returns (summary, details): what happened in a
sentence and a few short lines (guardrail messages, changes, attempts). Payloads are
read defensively: rows written years ago stay readable, whatever keys they carry.

Campaigns are named by their names and money carries its currency (objectives/formatting.py):
decisions/audit/timeline.py attaches `campaign_names` (external id → name) and `unit` (what the
proposal's objective is counted in) to the events it describes; without them a describer falls
back to the stored ids and to the expected metric's own unit.
"""

from __future__ import annotations

from collections.abc import Callable

from decisions.models import AuditEvent, Review
from objectives import formatting
from objectives import selectors as objective_words
from objectives.guardrails import fields

Description = tuple[str, list[str]]
Describer = Callable[[AuditEvent], Description]


def format_change(
    change: dict, *, short: bool = False, names: dict[str, str] | None = None, chosen: dict | None = None
) -> str:
    """Like "Search – Brand daily budget: $100 → $120"; `short` leaves out the field when it is the usual one,
    the budget. With `chosen` (the reviewer's version of this change) the reviewer's value stands where the
    change went and the machine's beside it: "$143 → $120 (proposed $99.94)"."""
    field = str(change.get("field", ""))
    label = "" if short and field == fields.BUDGET else f" {field_label(field)}"
    # A workflow's change names it by id and carries the name it had when proposed.
    identity = change.get("campaign") or change.get("workflow_id") or "?"
    name = (names or {}).get(identity) or change.get("name") or identity
    if fields.target_of(change) == fields.AUDIENCE_TARGET:
        from decisions.audiences import segment_words  # imports the audit events, which import this module

        segment = change.get("segment") if isinstance(change.get("segment"), dict) else {}
        name = f"{change.get('experiment')}, {segment_words(segment)}"
    before, machine = field_value(field, change.get("from")), field_value(field, change.get("to"))
    after = machine if chosen is None else field_value(field, chosen.get("to"))
    proposed = f" (proposed {machine})" if after != machine else ""
    return f"{name}{label}: {before} → {after}{proposed}"


def campaign_name(external_id: str, names: dict[str, str] | None) -> str:
    return (names or {}).get(external_id) or external_id


def field_label(field: str) -> str:
    try:
        return fields.get(field).label
    except fields.UnknownField:
        return field.replace("_", " ")


def field_value(field: str, value) -> str:
    """A campaign field's value as people read it: money with its currency, anything else as stored."""
    if field == fields.BUDGET and isinstance(value, int | float) and not isinstance(value, bool):
        return formatting.money(value)
    return _value(value)


def named(message: str, names: dict[str, str] | None) -> str:
    """A guardrail message stored before verdicts named campaigns ("SIM-0020: budget …"), with the names."""
    for external_id, name in (names or {}).items():
        if name and name != external_id and f"{external_id}: " in message:
            message = message.replace(f"{external_id}: ", f"{name}: ")
    return message


def _names(event: AuditEvent) -> dict[str, str]:
    return getattr(event, "campaign_names", None) or {}


def _value(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.2f}".removesuffix(".00")
    return "—" if value is None else str(value)


def edit_diff(event: AuditEvent) -> list[dict]:
    """What the machine proposed next to what the reviewer chose, per campaign and field."""
    human = {(c.get("campaign"), c.get("field")): c for c in event.human_payload.get("final_changes", [])}
    rows = []
    for change in event.machine_payload.get("changes", []):
        chosen = human.get((change.get("campaign"), change.get("field")), {})
        field = str(change.get("field", ""))
        machine, reviewer = field_value(field, change.get("to")), field_value(field, chosen.get("to"))
        rows.append(
            {
                "campaign": campaign_name(change.get("campaign"), _names(event)),
                "field": field_label(field),
                "current": field_value(field, change.get("from")),
                "machine": machine,
                "human": reviewer,
                "changed": reviewer != machine,
            }
        )
    return rows


def expected_impact(payload: dict) -> dict:
    """The expected impact a payload carries: `expected` since the event builders, `expected_impact` before."""
    return payload.get("expected") or payload.get("expected_impact") or {}


def labelled(label: str) -> Describer:
    """For actions with nothing more to say than their label."""

    def describe(event: AuditEvent) -> Description:
        return label, []

    return describe


def _verdict_lines(event: AuditEvent) -> list[str]:
    return [
        f"{v.get('name')}: {named(str(v.get('message')), _names(event))}"
        for v in event.machine_payload.get("verdicts", [])
        if not v.get("passed")
    ]


def _unit(event: AuditEvent, metric: str) -> formatting.Unit:
    return getattr(event, "unit", None) or formatting.objective_unit(metric)


def expected_text(expected: dict, unit: formatting.Unit) -> str:
    """An expected impact with its unit and interval: "+$160/week (80% range −$20 to +$340)"."""
    per = expected.get("per", "week")
    mean, low, high = (expected.get(key) for key in ("mean", "low", "high"))
    if not isinstance(mean, int | float):
        return "—"
    text = f"{unit.amount(mean)}/{per}"
    if isinstance(low, int | float) and isinstance(high, int | float):
        text += f" (80% range {unit.amount(low)} to {unit.amount(high)})"
    return text


# --- proposals -------------------------------------------------------------------------


def created(event: AuditEvent) -> Description:
    expected = expected_impact(event.machine_payload)
    lines = [format_change(c, names=_names(event)) for c in event.machine_payload.get("changes", [])]
    if expected:
        metric = expected.get("metric", "")
        unit = _unit(event, metric)
        objective = getattr(event, "objective_label", "") or formatting.metric_label(metric)
        lines.append(f"Expected {expected_text(expected, unit)} of {objective.lower()}")
    return "Proposed by the engine", lines


def approved(event: AuditEvent) -> Description:
    bulk = event.human_payload.get("bulk")
    return ("Approved as proposed, in a bulk approval" if bulk else "Approved as proposed"), []


def edited(event: AuditEvent) -> Description:
    return "Edited the values, then approved", []


def rejected(event: AuditEvent) -> Description:
    code = event.human_payload.get("reason_code", "")
    label = Review.Reason(code).label if code in Review.Reason.values else code
    return f"Rejected (reason: {label or 'none given'})", []


def override_warn(event: AuditEvent) -> Description:
    return "Approved over a warning guardrail", _verdict_lines(event)


def override_block(event: AuditEvent) -> Description:
    return "Approved over a blocking guardrail (guardrail admin)", _verdict_lines(event)


def expired(event: AuditEvent) -> Description:
    return "Expired: nobody decided before the deadline", []


def superseded(event: AuditEvent) -> Description:
    newer = event.machine_payload.get("superseded_by")
    return (f"Superseded by proposal #{newer}" if newer else "Superseded by a newer proposal"), []


def auto_approved(event: AuditEvent) -> Description:
    version = event.human_payload.get("policy_version")
    return "Approved by the auto-approval policy" + (f" (v{version})" if version else ""), []


def rolled_back(event: AuditEvent) -> Description:
    return "Rolled back: the reverse change was queued", [
        format_change(c, names=_names(event)) for c in event.human_payload.get("inverse_changes", [])
    ]


def bulk_approval_undone(event: AuditEvent) -> Description:
    done = event.human_payload
    rolled = len(done.get("rolled_back", []))
    lines = []
    if moved := done.get("moved_campaigns"):
        lines.append(f"Not rolled back, moved since: {', '.join(moved)}")
    if waiting := done.get("not_applied"):
        lines.append(f"Not rolled back, not applied yet: {_count(len(waiting), 'proposal')}")
    return f"Undid a bulk approval: {_count(rolled, 'proposal')} rolled back", lines


# --- applying through a connector ---------------------------------------------------------


def _direction(event: AuditEvent) -> str:
    return "rollback" if event.machine_payload.get("direction") == "rollback" else "change"


def platform_label(platform: str) -> str:
    return PLATFORMS.get(platform) or (platform.replace("_", " ").title() if platform else "the ad platform")


PLATFORMS = {
    "google_ads": "Google Ads",
    "microsoft_ads": "Microsoft Ads",
    "meta": "Meta Ads",
    "linkedin": "LinkedIn Ads",
    "youtube": "YouTube (Google Ads)",
    "dv360": "Display & Video 360",
    "tiktok": "TikTok Ads",
}


def application_succeeded(event: AuditEvent) -> Description:
    """Where the change went: the ledger records it in Waypoint only; the webhook sends it out."""
    payload = event.machine_payload
    connector, platform = payload.get("connector", ""), platform_label(payload.get("platform", ""))
    what = "The rollback" if _direction(event) == "rollback" else "The change"
    if connector == "ledger":
        act = "undo it" if what == "The rollback" else "apply it"
        return f"{what} was recorded in Waypoint (ledger connector) — {act} in {platform} by hand", []
    if connector == "webhook":
        return f"{what} was sent to the ad platform's webhook ({platform})", []
    return f"{what} was sent to {platform} through the {connector or 'configured'} connector", []


def application_attempt_failed(event: AuditEvent) -> Description:
    attempts = event.machine_payload.get("attempts", "?")
    return f"Applying the {_direction(event)} failed (attempt {attempts}); it will be retried", []


def application_failed(event: AuditEvent) -> Description:
    attempts = event.machine_payload.get("attempts", "?")
    return f"Applying the {_direction(event)} failed for good after {attempts} attempts", []


def application_retried(event: AuditEvent) -> Description:
    return f"Applying the {_direction(event)} was put back in the queue", []


# --- a spend test's course (decisions/spend_tests.py) ---------------------------------------------


def spend_test_started(event: AuditEvent) -> Description:
    payload = event.machine_payload
    return (
        f"Spend test started: its {payload.get('days', '?')} days run from {payload.get('started_on', '?')}, "
        f"and its budget returns on {payload.get('returns_on', '?')}",
        [],
    )


def spend_test_ended(event: AuditEvent) -> Description:
    payload = event.machine_payload
    return f"Spend test ended on {payload.get('ended_on', '?')}: the return was queued", [
        format_change(c, names=_names(event)) for c in payload.get("changes", [])
    ]


# --- policy, data, runs and access: the History page's change log ---------------------------------
#
# These read what each event builder (decisions/audit/events.py) stores, with .get() throughout: a row
# written before a key existed still says what it can.


def _count(number, noun: str) -> str:
    plural = noun if number == 1 else f"{noun}s"
    return f"{_value(number)} {plural}"


def _guardrail_called(event: AuditEvent) -> str:
    name = event.human_payload.get("name") or event.machine_payload.get("name")
    return f"Guardrail “{name}”" if name else "A guardrail"


_GUARDRAIL_STATE = {"name": "", "kind": "", "severity": "", "scope": {}, "params": {}, "is_active": True}


def _guardrail_changes(event: AuditEvent) -> list[str]:
    """Each changed field in words: "pct 30 → 25", "scope all campaigns → channel display", "switched off"."""
    if not event.machine_payload or not event.human_payload:
        return []
    before = {**_GUARDRAIL_STATE, **event.machine_payload}
    after = {**_GUARDRAIL_STATE, **event.human_payload}
    return [line.replace(": ", " ", 1) if "→" in line else line for line in objective_words.version_diff(before, after)]


def guardrail_created(event: AuditEvent) -> Description:
    return f"{_guardrail_called(event)} created: {objective_words.describe_guardrail(event.human_payload)}", []


def guardrail_updated(event: AuditEvent) -> Description:
    called, changes = _guardrail_called(event), _guardrail_changes(event)
    return (f"{called}: {', '.join(changes)}" if changes else f"{called} changed"), []


def guardrail_deactivated(event: AuditEvent) -> Description:
    was = objective_words.describe_guardrail(event.machine_payload)
    return f"{_guardrail_called(event)} switched off", [f"was {was}"]


def objective_created(event: AuditEvent) -> Description:
    return f"Objective set: {objective_words.describe_objective(event.human_payload)}", []


def objective_changed(event: AuditEvent) -> Description:
    before, after = event.machine_payload, event.human_payload
    changes = ", ".join(objective_words.objective_changes(before, after))
    restored = " (an earlier objective restored)" if after.get("restored_from") else ""
    details = [f"now {objective_words.describe_objective(after)}"] if before and after else []
    return f"Objective{restored}: {changes}", details


_AUTO_APPROVAL_WORDS = {
    "max_change_pct": ("largest move", "%"),
    "max_p_loss": ("largest P(loss)", ""),
    "kinds": ("kinds", ""),
    "channels": ("channels", ""),
}


def _listed(value, *, empty: str) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or empty
    return _value(value)


def _auto_approval_changes(before: dict, after: dict) -> list[str]:
    lines = []
    if before.get("is_enabled") != after.get("is_enabled"):
        lines.append("switched on" if after.get("is_enabled") else "switched off")
    for key, (label, unit) in _AUTO_APPROVAL_WORDS.items():
        if key in after and before.get(key) != after.get(key):
            empty = "all" if key == "channels" else "none"
            was, now = _listed(before.get(key), empty=empty), _listed(after.get(key), empty=empty)
            lines.append(f"{label} {was}{unit} → {now}{unit}")
    return lines


def auto_approval_changed(event: AuditEvent) -> Description:
    version = event.human_payload.get("version")
    changes = _auto_approval_changes(event.machine_payload, event.human_payload)
    return f"Auto-approval policy{f' v{version}' if version else ''}: {', '.join(changes) or 'no change'}", []


def auto_approval_stopped(event: AuditEvent) -> Description:
    version = event.human_payload.get("version")
    return f"Auto-approval switched off{f' (policy v{version})' if version else ''}", []


def _run(event: AuditEvent) -> str:
    run = event.machine_payload.get("run")
    return f"Engine run #{run}" if run else "An engine run"


def generation_started(event: AuditEvent) -> Description:
    payload = event.machine_payload
    metric = payload.get("metric")
    optimising = f" for {objective_words.metric_label(metric)}" if metric else ""
    data = f", data up to {payload['window_end']}" if payload.get("window_end") else ", no data yet"
    return f"{_run(event)} started{optimising}{data}", []


def generation_succeeded(event: AuditEvent) -> Description:
    counts = event.machine_payload.get("counts") or {}
    said = [_count(counts.get("proposals", 0), "proposal")]
    if counts.get("superseded"):
        said.append(f"{_value(counts['superseded'])} older superseded")
    return f"{_run(event)} finished: {', '.join(said)}", []


def generation_failed(event: AuditEvent) -> Description:
    errors = event.machine_payload.get("errors") or []
    lines = [str(e.get("error", e)) if isinstance(e, dict) else str(e) for e in errors[:3]]
    return f"{_run(event)} failed", lines


def data_imported(event: AuditEvent) -> Description:
    payload = event.human_payload
    filename = payload.get("filename") or "a file"
    said = [_count(payload.get("rows", 0), "row")]
    if "campaigns_created" in payload:
        said.append(_count(payload["campaigns_created"], "new campaign"))
    if payload.get("rows_skipped"):
        said.append(f"{_count(payload['rows_skipped'], 'row')} skipped (unknown campaign ids)")
    if payload.get("first") and payload.get("last"):
        said.append(f"days {payload['first']} to {payload['last']}")
    columns = payload.get("columns") or []
    return f"Imported {filename}: {', '.join(said)}", [f"columns: {', '.join(columns)}"] if columns else []


def import_failed(event: AuditEvent) -> Description:
    filename = event.human_payload.get("filename") or "a file"
    return f"Import of {filename} failed", [event.reason] if event.reason else []


def _campaign_called(event: AuditEvent) -> str:
    payload = event.human_payload
    external_id, name = payload.get("external_id", "?"), payload.get("name")
    return f"Campaign {name} ({external_id})" if name and name != external_id else f"Campaign {external_id}"


def campaign_archived(event: AuditEvent) -> Description:
    days = event.machine_payload.get("days")
    kept = [f"its {_count(days, 'day')} of data kept"] if days else []
    return f"{_campaign_called(event)} archived: left out of runs, guardrail scopes and the Data list", kept


def campaign_restored(event: AuditEvent) -> Description:
    return f"{_campaign_called(event)} restored", []


def deals_imported(event: AuditEvent) -> Description:
    counts = event.machine_payload
    filename = event.human_payload.get("filename") or "a deals export"
    said = [
        _count(counts.get("deals", 0), "deal"),
        f"{counts.get('created', 0)} new, {counts.get('restaged', 0)} re-staged",
        f"{counts.get('matched', 0)} matched, {counts.get('unmatched', 0)} unmatched, "
        f"{counts.get('without_campaign', 0)} without a campaign",
    ]
    details = [
        f"daily figures: {counts.get('cells_written', 0)} written, {counts.get('cells_kept', 0)} kept from other files"
    ]
    return f"Imported CRM deals from {filename}: {'; '.join(said)}", details


def _alias_said(event: AuditEvent) -> str:
    payload = event.human_payload
    campaign = payload.get("campaign_name") or payload.get("campaign", "?")
    return f"“{payload.get('reference', '?')}” → {campaign} ({payload.get('campaign', '?')})"


def campaign_alias_added(event: AuditEvent) -> Description:
    deals = event.machine_payload.get("deals", 0)
    return f"Campaign alias added: {_alias_said(event)}", [f"{_count(deals, 'stored deal')} now matched"]


def campaign_alias_removed(event: AuditEvent) -> Description:
    deals = event.machine_payload.get("deals", 0)
    return f"Campaign alias removed: {_alias_said(event)}", [f"{_count(deals, 'stored deal')} unmatched again"]


def learning_retrained(event: AuditEvent) -> Description:
    payload = event.machine_payload
    auc = payload.get("auc")
    fit = f" (AUC {auc:.2f})" if isinstance(auc, int | float) else ""
    rescored = payload.get("rescored")
    again = f"; {_count(rescored, 'pending proposal')} re-scored" if rescored is not None else ""
    return f"Acceptance model retrained on {_count(payload.get('n', 0), 'decision')}{fit}{again}", []


def role_granted(event: AuditEvent) -> Description:
    role = str(event.human_payload.get("role", "a role")).replace("_", " ")
    return f"Granted {role} to {event.human_payload.get('user', 'someone')}", []


def experiment_imported(event: AuditEvent) -> Description:
    payload, counts = event.human_payload, event.machine_payload
    arms = counts.get("arm_sizes") or {}
    said = ", ".join(f"{arm} {count:,}" for arm, count in arms.items())
    details = [f"arms: {said}"] if said else []
    if payload.get("follows"):
        details.append(f"a follow-up of {payload['follows']}")
    return (
        f"Imported the experiment {payload.get('name', '?')} from {payload.get('filename') or 'a file'}: "
        f"{_count(counts.get('customers', 0), 'customer')}, control {payload.get('control', '?')}",
        details,
    )


def experiment_action_changed(event: AuditEvent) -> Description:
    before, after = event.machine_payload, event.human_payload
    lines = [
        f"{label}: {before.get(key) or '(none)'} → {after.get(key) or '(none)'}"
        for key, label in (("name", "name"), ("subject_line", "subject line"), ("message", "message"))
        if before.get(key) != after.get(key)
    ]
    return f"Changed the action {after.get('name', '?')} of the experiment {after.get('experiment', '?')}", lines


def experiment_reanalysed(event: AuditEvent) -> Description:
    payload = event.human_payload
    return (
        f"Asked for the experiment {payload.get('experiment', '?')} to be analysed again, judged in "
        f"{payload.get('metric_label') or payload.get('metric', '?')}",
        [f"last analysed in {payload['previous_metric_label']}"] if payload.get("previous_metric_label") else [],
    )


def workflows_imported(event: AuditEvent) -> Description:
    counts = event.machine_payload
    filename = event.human_payload.get("filename") or "a workflow export"
    source = event.human_payload.get("source") or "workflows"
    workflows = _count(counts.get("workflows", 0), "workflow")
    said = f"{workflows} ({counts.get('created', 0)} new, {counts.get('updated', 0)} updated)"
    return f"Imported {said} from {filename} ({source})", []


def workflow_audit_changed(event: AuditEvent) -> Description:
    before = event.machine_payload.get("stale_after_days", "?")
    after = event.human_payload.get("stale_after_days", "?")
    return f"Workflow audit: stale after {before} → {after} days without firing", []


def _audience_list_said(event: AuditEvent) -> tuple[str, list[str]]:
    payload = event.machine_payload
    customers = _count(payload.get("customers", 0), "customer")
    said = f"{payload.get('action', '?')} to {customers} of the test {payload.get('experiment', '?')}"
    details = []
    if payload.get("without_id"):
        details.append(f"{_count(payload['without_id'], 'customer')} of the audience had no id in the test's file")
    if payload.get("by_proposal") and event.proposal_id and payload["by_proposal"] != event.proposal_id:
        details.append(f"by the application of proposal #{payload['by_proposal']}")
    return said, details


def audience_list_published(event: AuditEvent) -> Description:
    said, details = _audience_list_said(event)
    return f"Published the audience list: {said}", details


def audience_list_withdrawn(event: AuditEvent) -> Description:
    said, details = _audience_list_said(event)
    return f"Withdrew the audience list: {said}", details


def experiment_follow_up_recorded(event: AuditEvent) -> Description:
    payload = event.machine_payload
    comparisons = payload.get("comparisons") or []
    lines = [str(c.get("sentence")) for c in comparisons if c.get("sentence")]
    return (
        f"Measured {_count(len(comparisons), 'audience action')} of {payload.get('follows', '?')} "
        f"in the follow-up test {payload.get('experiment', '?')}",
        lines,
    )
