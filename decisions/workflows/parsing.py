"""Reading an automation inventory export into workflow records, whatever the platform wrote.

The format is told from the content, not the file name:

- a CSV whose header has workflow_id, name, platform and status: the generic inventory
  (created_at, updated_at, last_triggered_at — empty means never — enrolled_90d, used_by and tags, both lists
  separated by semicolons; trigger and goal where the team keeps them);
- JSON, a list of records or an object holding one (HubSpot's "results", Marketo's "result", Braze's "canvases"):
  - HubSpot v3 workflows (id, name, type, enabled, insertedAt, updatedAt, contactListIds and, where given, an
    enrolment performance series whose last period with enrolments is the last time it fired);
  - Braze canvas details (name, created_at, updated_at, archived, draft, enabled, first_entry, last_entry, tags;
    the canvas id as id or canvas_id);
  - Marketo smart campaigns (id, name, status, type, isActive, createdAt, updatedAt). Marketo's list does not say
    when a campaign last ran, so those workflows are never judged stale unless the export adds lastRunAt.

Every problem is collected with the line (CSV) or record (JSON) it is on; the importer writes nothing when there
is one. Pure apart from the date limits read from settings (the earliest year, tomorrow).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from decisions.data.importing import plausible_day

STATUSES = ("enabled", "disabled", "draft", "retired")
CSV_REQUIRED = ("workflow_id", "name", "platform", "status")
CSV_COLUMNS = CSV_REQUIRED + (
    "created_at",
    "updated_at",
    "last_triggered_at",
    "enrolled_90d",
    "used_by",
    "tags",
    "trigger",
    "goal",
)
TEXT_LIMITS = {"workflow_id": 64, "name": 255, "platform": 32, "trigger": 255, "goal": 255}
FORMAT_LABELS = {
    "csv": "generic CSV",
    "hubspot": "HubSpot workflows",
    "braze": "Braze canvases",
    "marketo": "Marketo smart campaigns",
}
MAX_PROBLEMS = 1000


@dataclass
class Record:
    where: str  # "line 4", "record 2"
    platform: str
    workflow_id: str
    name: str
    status: str
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    last_triggered_at: dt.datetime | None = None
    activity_known: bool = True
    enrolled_90d: int | None = None
    used_by: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    trigger: str = ""
    goal: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class Parsed:
    format: str = ""
    records: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows_read: int = 0

    @property
    def label(self) -> str:
        return FORMAT_LABELS.get(self.format, "unknown format")


class _Bad(ValueError):
    """One field's problem: (column, value, reason)."""

    def __init__(self, column: str, value, reason: str):
        self.column, self.value, self.reason = column, value, reason
        super().__init__(reason)


def parse(data: bytes) -> Parsed:
    """The records in an export, or the problems that keep it from being imported."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(problems=["file: not UTF-8 text; save the export as UTF-8"])
    stripped = text.lstrip()
    if not stripped:
        return Parsed(problems=["file: empty"])
    if stripped[0] in "[{":
        return _parse_json(stripped)
    return _parse_csv(text)


# --- values ------------------------------------------------------------------------------------


def _moment(value, column: str, *, required: bool = False) -> dt.datetime | None:
    """An ISO date or date-time (a "Z" allowed), or epoch milliseconds; not after tomorrow, not before the
    earliest year. Empty is None."""
    if value in (None, ""):
        if required:
            raise _Bad(column, "", "required")
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            moment = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
        else:
            text = str(value).strip()
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise _Bad(column, value, "not a date (expected YYYY-MM-DD or an ISO date-time)") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        plausible_day(timezone.localdate(moment))
    except ValueError as error:
        raise _Bad(column, value, str(error)) from None
    return moment


def _count(value, column: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).replace(",", "").strip())
    except ValueError:
        raise _Bad(column, value, "not a whole number") from None
    if number < 0:
        raise _Bad(column, value, "negative")
    return number


def _text(value, column: str, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if not text and required:
        raise _Bad(column, "", "required")
    if len(text) > TEXT_LIMITS[column]:
        raise _Bad(column, text, f"longer than {TEXT_LIMITS[column]} characters")
    return text


def _list(value, column: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        items = [str(item).strip() for item in value]
    else:
        items = [item.strip() for item in str(value).split(";")]
    return list(dict.fromkeys(item for item in items if item))


def _flag(value, column: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise _Bad(column, value, "not true or false")


def _problem(where: str, error: _Bad) -> str:
    value = str(error.value)
    value = value if len(value) <= 60 else value[:57] + "..."
    return f"{where}: {error.column}: {value}: {error.reason}" if value else f"{where}: {error.column}: {error.reason}"


def _collect(parsed: Parsed, where: str, build: Callable[[], Record]) -> None:
    parsed.rows_read += 1
    try:
        record = build()
    except _Bad as error:
        if len(parsed.problems) < MAX_PROBLEMS:
            parsed.problems.append(_problem(where, error))
        return
    parsed.records.append(record)


def _no_duplicates(parsed: Parsed) -> None:
    seen: dict[tuple[str, str], str] = {}
    for record in parsed.records:
        key = (record.platform, record.workflow_id)
        if key in seen:
            parsed.problems.append(
                f"{record.where}: workflow_id: {record.workflow_id}: the same {record.platform} workflow as "
                f"{seen[key]}; each workflow once"
            )
        seen.setdefault(key, record.where)


# --- the generic CSV ------------------------------------------------------------------------------


def _parse_csv(text: str) -> Parsed:
    parsed = Parsed(format="csv")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    columns = [name.strip().lower().replace(" ", "_") for name in header]
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if missing:
        parsed.format = ""
        parsed.problems.append(
            f"line 1: header: not a workflow export this version reads: a CSV needs the columns "
            f"{', '.join(CSV_REQUIRED)} (missing {', '.join(missing)}); JSON from HubSpot, Braze or Marketo is "
            f"told apart by its content"
        )
        return parsed
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            parsed.rows_read += 1
            parsed.problems.append(f"line {number}: row: {len(cells)} cells for {len(columns)} columns")
            continue
        row = dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=True))
        _collect(parsed, f"line {number}", lambda row=row, number=number: _csv_record(row, f"line {number}"))
    _no_duplicates(parsed)
    return parsed


def _status(value, column: str = "status") -> str:
    text = str(value or "").strip().lower()
    if text not in STATUSES:
        raise _Bad(column, value, f"expected one of {', '.join(STATUSES[:3])}")
    return text


def _csv_record(row: dict, where: str) -> Record:
    return Record(
        where=where,
        platform=_text(row["platform"], "platform", required=True).lower(),
        workflow_id=_text(row["workflow_id"], "workflow_id", required=True),
        name=_text(row["name"], "name", required=True),
        status=_status(row["status"]),
        created_at=_moment(row.get("created_at"), "created_at"),
        updated_at=_moment(row.get("updated_at"), "updated_at"),
        last_triggered_at=_moment(row.get("last_triggered_at"), "last_triggered_at"),
        enrolled_90d=_count(row.get("enrolled_90d"), "enrolled_90d"),
        used_by=_list(row.get("used_by"), "used_by"),
        tags=_list(row.get("tags"), "tags"),
        trigger=_text(row.get("trigger"), "trigger"),
        goal=_text(row.get("goal"), "goal"),
        raw={key: value for key, value in row.items() if value != ""},
    )


# --- JSON exports -----------------------------------------------------------------------------------

_LISTS = ("results", "result", "canvases", "workflows", "campaigns", "data")


def _parse_json(text: str) -> Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return Parsed(problems=[f"line {error.lineno}: file: not valid JSON ({error.msg})"])
    items = document
    if isinstance(document, dict):
        found = next((document[key] for key in _LISTS if isinstance(document.get(key), list)), None)
        items = found if found is not None else [document]  # Braze's details endpoint answers one canvas
    if not isinstance(items, list) or not items:
        return Parsed(problems=["file: no workflows in it (expected a list of records)"])
    records = [item for item in items if isinstance(item, dict)]
    kind = _json_format(records[0] if records else {})
    if not kind:
        keys = ", ".join(sorted(records[0])[:12]) if records else "none"
        return Parsed(
            problems=[
                f"record 1: format: not a workflow export this version reads (keys: {keys}); expected HubSpot "
                f"workflows (insertedAt, enabled), Braze canvases (first_entry, last_entry) or Marketo smart "
                f"campaigns (isActive, createdAt)"
            ]
        )
    parsed = Parsed(format=kind)
    build = {"hubspot": _hubspot_record, "braze": _braze_record, "marketo": _marketo_record}[kind]
    for number, item in enumerate(items, start=1):
        where = f"record {number}"
        if not isinstance(item, dict):
            parsed.rows_read += 1
            parsed.problems.append(f"{where}: record: not an object")
            continue
        _collect(parsed, where, lambda item=item, where=where: build(item, where))
    _no_duplicates(parsed)
    return parsed


def _json_format(item: dict) -> str:
    if "insertedAt" in item or "contactListIds" in item:
        return "hubspot"
    if "first_entry" in item or "last_entry" in item or "archived" in item:
        return "braze"
    if "isActive" in item or ("createdAt" in item and "status" in item):
        return "marketo"
    return ""


def _performance(item: dict) -> tuple[dt.datetime | None, int | None, bool]:
    """(last period with enrolments, enrolments in its last 90 days, whether the export gave a series)."""
    series = item.get("enrollmentPerformance") or item.get("performance")
    if not isinstance(series, list):
        return None, None, False
    periods = []
    for point in series:
        if not isinstance(point, dict):
            raise _Bad("performance", point, "each period must be an object with a date and a count")
        moment = _moment(point.get("date") or point.get("period") or point.get("periodStart"), "performance date")
        count = _count(point.get("enrollments", point.get("enrolled", point.get("count"))), "performance count")
        if moment is None:
            raise _Bad("performance", point, "a period without a date")
        periods.append((moment, count or 0))
    fired = [moment for moment, count in periods if count > 0]
    last = max(fired) if fired else None
    since = timezone.now() - dt.timedelta(days=90)
    recent = sum(count for moment, count in periods if moment >= since)
    return last, recent, True


def _hubspot_record(item: dict, where: str) -> Record:
    last, recent, known = _performance(item)
    lists = _list(item.get("contactListIds") or [], "contactListIds")
    return Record(
        where=where,
        platform="hubspot",
        workflow_id=_text(item.get("id"), "workflow_id", required=True),
        name=_text(item.get("name"), "name", required=True),
        status="enabled" if _flag(item.get("enabled"), "enabled") else "disabled",
        created_at=_moment(item.get("insertedAt"), "insertedAt"),
        updated_at=_moment(item.get("updatedAt"), "updatedAt"),
        last_triggered_at=last,
        activity_known=known,
        enrolled_90d=recent,
        trigger=_text(
            f"{item.get('type', '')} lists {', '.join(lists)}".strip() if lists else item.get("type"), "trigger"
        ),
        goal=_text(item.get("goalCriteria") if isinstance(item.get("goalCriteria"), str) else "", "goal"),
        raw=item,
    )


def _braze_record(item: dict, where: str) -> Record:
    if _flag(item.get("archived"), "archived"):
        status = "retired"
    elif _flag(item.get("draft"), "draft"):
        status = "draft"
    else:
        status = "enabled" if _flag(item.get("enabled"), "enabled") else "disabled"
    first = _moment(item.get("first_entry"), "first_entry")
    tags = item.get("tags") or []
    return Record(
        where=where,
        platform="braze",
        workflow_id=_text(item.get("id") or item.get("canvas_id"), "workflow_id", required=True),
        name=_text(item.get("name"), "name", required=True),
        status=status,
        created_at=_moment(item.get("created_at"), "created_at"),
        updated_at=_moment(item.get("updated_at"), "updated_at"),
        last_triggered_at=_moment(item.get("last_entry"), "last_entry") or first,
        enrolled_90d=_count(item.get("entries_90d"), "entries_90d"),
        tags=_list([t.get("name", "") if isinstance(t, dict) else t for t in tags], "tags"),
        raw=item,
    )


def _marketo_record(item: dict, where: str) -> Record:
    status_text = str(item.get("status") or "").strip().lower()
    active = _flag(item.get("isActive"), "isActive")
    last_run = _moment(item.get("lastRunAt"), "lastRunAt")
    never = status_text == "never run"
    return Record(
        where=where,
        platform="marketo",
        workflow_id=_text(item.get("id"), "workflow_id", required=True),
        name=_text(item.get("name"), "name", required=True),
        status="enabled" if active else "disabled",
        created_at=_moment(item.get("createdAt"), "createdAt"),
        updated_at=_moment(item.get("updatedAt"), "updatedAt"),
        last_triggered_at=last_run,
        activity_known=last_run is not None or never,
        trigger=_text(item.get("type"), "trigger"),
        raw=item,
    )
