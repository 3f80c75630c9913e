"""Importing daily campaign performance from CSV: a generic layout or a Google Ads campaign report.

Parsing (`PerformanceFile`) is pure: bytes in, valid rows, problems and warnings out, one line at a time
so memory stays flat however large the file is. `import_performance` upserts the rows in batches inside
one transaction and writes one audit event; any problem rolls everything back. A successful import queues
its own follow-ups on commit (outcomes, the queue's verdicts), so the upload page, the command and the
Celery task behave the same. `import_run_execute` wraps it for the upload page and the task, which follow an
`ImportRun`.

A file that only adds figures (no spend, budget, name or channel column: a CRM export) never creates a
campaign: an id it names that matches none is listed with the closest known ids and its rows are skipped,
unless the import is asked to create campaigns. Rows that parse but look implausible (spend far above the
day's budget, a day ten times the campaign's usual) are warned about by line; they are still imported.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import re
import statistics
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import BinaryIO

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from decisions import date_window
from decisions.audit import events as audit_events
from decisions.data import guardrail_figures
from decisions.models import METRIC_FIELDS, MONEY_FIELDS, SHARE_FIELDS, Campaign, DailyMetric, ImportRun
from decisions.queueing import queue_after_commit, queue_follow_up_on_commit
from decisions.review.selectors import known_campaigns
from objectives.guardrails.base import number_text
from objectives.guardrails.scopes import shown_value, suggestions

REQUIRED_COLUMNS = ("date", "campaign_id")
ATTRIBUTE_COLUMNS = ("campaign_name", "channel", "platform", "audience", "tags", "daily_budget")
# Delivery: how much of its budget and of the auctions it could enter a campaign reached that day. Shares are
# stored on the day's row beside its metrics; a status column is read only for "Limited by budget".
STATUS_COLUMNS = ("status", "campaign_status")
DELIVERY_COLUMNS = SHARE_FIELDS + STATUS_COLUMNS
KNOWN_COLUMNS = REQUIRED_COLUMNS + ATTRIBUTE_COLUMNS + METRIC_FIELDS + DELIVERY_COLUMNS
# Campaign model field for each attribute column.
ATTRIBUTE_FIELDS = {"campaign_name": "name", **{name: name for name in ATTRIBUTE_COLUMNS if name != "campaign_name"}}

# Headers as a Google Ads campaign report names them (compared after normalising case and spacing).
GOOGLE_ADS_ALIASES = {
    "day": "date",
    "campaign id": "campaign_id",
    "campaign": "campaign_name",
    "cost": "spend",
    "impr.": "impressions",
    "conversions": "platform_conversions",
    "conv. value": "platform_revenue",
    "budget": "daily_budget",
    "search impr. share": "impression_share",
    "search lost is (budget)": "lost_is_budget",
    "search lost is (rank)": "lost_is_rank",
}
ALIASES = {name.replace("_", " "): name for name in KNOWN_COLUMNS} | GOOGLE_ADS_ALIASES

HEADER_SEARCH_ROWS = 10  # a report's title preamble is a line or two; the header must come soon after
BATCH_ROWS = 2000
MAX_LINE_BYTES = 1024 * 1024
MAX_REPORTED_PROBLEMS = 1000  # beyond this, problems are counted, not listed, so memory stays flat
MAX_REPORTED_WARNINGS = 100
MAX_MONEY = Decimal("1e12")  # DecimalField(max_digits=14, decimal_places=2)
MAX_BIGINT = 2**63 - 1
TEXT_LIMITS = {"campaign_id": 64, "campaign_name": 255, "channel": 64, "platform": 64, "audience": 128}
EMPTY_MARKERS = ("", "--")  # Google Ads writes "--" where it has no figure
DATE_FORMATS = ("%Y/%m/%d", "%b %d, %Y", "%B %d, %Y", "%a, %b %d, %Y")
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?")
_TOTAL = re.compile(r"\s*total\b", re.IGNORECASE)
# Google Ads writes shares as "85.31%", and bounds it cannot resolve as "< 10%" or "> 90%".
_PERCENT = re.compile(r"([<>]\s*)?(\d+(\.\d+)?)\s*%")

# A file with none of these columns adds figures to campaigns that exist (a CRM export with
# date,campaign_id,pipeline_value): an id it names that matches no campaign is a typo or another system's id,
# not a new campaign, so its rows are skipped unless the import is asked to create campaigns.
CAMPAIGN_DEFINING_COLUMNS = ("campaign_name", "channel", "daily_budget", "spend")
MAX_LISTED_UNMATCHED = 50

# Implausible rows are warned about, never refused: a launch day or a big deal can be real.
SPEND_OVER_BUDGET = 2.0  # a day's spend above this many times the campaign's daily budget
OUTLIER_FACTOR = 10.0  # a day's figure above this many times the campaign's median day
BASELINE_DAYS = 90  # the median is taken over at most this many days, stored ones first, then the file's
MIN_BASELINE_DAYS = 7  # fewer days than this are too few to call anything unusual


def normalise_header(name: str) -> str:
    return " ".join(name.replace("_", " ").strip().lower().split())


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f"line {self.line}: {self.column}: {value}: {self.reason}"


@dataclass(frozen=True)
class Row:
    line: int
    date: dt.date
    campaign_id: str
    attributes: dict  # attribute columns with a value in this row, keyed by Campaign field name
    metrics: dict  # every metric column in the file; None is "unknown"
    delivery: dict = field(default_factory=dict)  # the day's delivery fields (DailyMetric's names) the file has


# --- cell parsers: each returns the value or None for an empty cell, or raises ValueError(reason) ---


def _number(text: str) -> Decimal | None:
    if text in EMPTY_MARKERS:
        return None
    if not _NUMBER.fullmatch(text) or not any(ch.isdigit() for ch in text):
        raise ValueError("not a number")
    return Decimal(text.replace(",", ""))


def _not_negative(value):
    if value is not None and value < 0:
        raise ValueError("must not be negative")
    return value


def parse_money(text: str) -> Decimal | None:
    value = _not_negative(_number(text))
    if value is None:
        return None
    # Checked before rounding too: quantizing a value with more digits than the context holds raises.
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if value < MAX_MONEY else value
    if rounded >= MAX_MONEY:  # 999999999999.995 rounds up to 10^12, one digit more than the column holds
        raise ValueError("too large")
    return rounded


def parse_count(text: str) -> int | None:
    value = _not_negative(_number(text))
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ValueError("must be a whole number")
    if value > MAX_BIGINT:
        raise ValueError("too large")
    return int(value)


def parse_quantity(text: str) -> float | None:
    value = _not_negative(_number(text))
    if value is not None and value >= MAX_MONEY:
        raise ValueError("too large")
    return None if value is None else float(value)


def parse_share(text: str) -> float | None:
    """A share of 0–1, written as a fraction (0.85) or a percentage ("85%", "< 10%", "> 90%").

    A bound is stored as the bound itself ("< 10%" → 0.10): the platform knows no more, and the figure is read
    against thresholds far from either end.
    """
    if text in EMPTY_MARKERS:
        return None
    percent = _PERCENT.fullmatch(text)
    value = float(percent.group(2)) / 100 if percent else None
    if percent is None and _NUMBER.fullmatch(text) and any(ch.isdigit() for ch in text):
        value = float(text.replace(",", ""))
    if value is None or not 0 <= value <= 1:
        raise ValueError("must be a share between 0 and 1, or a percentage between 0% and 100%")
    return value


def parse_status(text: str) -> bool | None:
    """A serving status as Google Ads words it: True when it says "Limited by budget", False for another
    serving status ("Eligible", "Limited (bid strategy)"), None when it says nothing about delivery
    ("Enabled", "Paused")."""
    said = text.strip().lower()
    if "limited by budget" in said:
        return True
    if "eligible" in said or "limited" in said:
        return False
    return None


def parse_date(text: str) -> dt.date:
    return plausible_day(_calendar_date(text))


def _calendar_date(text: str) -> dt.date:
    if text in EMPTY_MARKERS:
        raise ValueError("required")
    with contextlib.suppress(ValueError):
        return dt.date.fromisoformat(text)
    for fmt in DATE_FORMATS:
        with contextlib.suppress(ValueError):
            return dt.datetime.strptime(text, fmt).date()
    raise ValueError("not a date (expected YYYY-MM-DD)")


def plausible_day(day: dt.date) -> dt.date:
    """Figures are for days that have happened (tomorrow allows for a platform a time zone ahead) and not
    before the earliest year: one row dated 9999-12-31 would otherwise move the engine's window there."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    if day > tomorrow:
        raise ValueError(f"after tomorrow ({tomorrow.isoformat()}): figures are for days that have happened")
    if day < date_window.first_day():
        raise ValueError(f"before {date_window.first_day().isoformat()} (WAYPOINT_EARLIEST_YEAR)")
    return day


def _text(column: str, *, required: bool = False) -> Callable[[str], str | None]:
    limit = TEXT_LIMITS[column]

    def parse(text: str) -> str | None:
        if text in EMPTY_MARKERS:
            if required:
                raise ValueError("required")
            return None
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text

    return parse


def parse_tags(text: str) -> list[str] | None:
    if text in EMPTY_MARKERS:
        return None
    return list(dict.fromkeys(tag.strip() for tag in text.split(";") if tag.strip()))


PARSERS: dict[str, Callable[[str], object]] = {
    "date": parse_date,
    "campaign_id": _text("campaign_id", required=True),
    "campaign_name": _text("campaign_name"),
    "channel": _text("channel"),
    "platform": _text("platform"),
    "audience": _text("audience"),
    "tags": parse_tags,
    "daily_budget": parse_money,
    **{name: parse_money for name in MONEY_FIELDS},
    "impressions": parse_count,
    "clicks": parse_count,
    "platform_conversions": parse_quantity,
    "leads": parse_quantity,
    **{name: parse_share for name in SHARE_FIELDS},
    **{name: parse_status for name in STATUS_COLUMNS},
}


class PerformanceFile:
    """One streaming pass over a CSV: `rows()` yields valid rows; problems and warnings collect on the side."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.bytes_read = 0
        self.rows_read = 0
        self.problem_count = 0
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.columns: dict[str, int] = {}  # canonical column → index in the row
        self.labels: dict[str, str] = {}  # canonical column → the file's own header text
        self.is_google_ads = False
        self._header_width = 0

    @property
    def metric_columns(self) -> list[str]:
        return [name for name in METRIC_FIELDS if name in self.columns]

    @property
    def delivery_fields(self) -> list[str]:
        """The DailyMetric delivery fields this file fills: the day's budget, the shares, the budget verdict."""
        found = [name for name in ("daily_budget", *SHARE_FIELDS) if name in self.columns]
        return found + (["limited_by_budget"] if any(name in self.columns for name in STATUS_COLUMNS) else [])

    @property
    def attribute_columns(self) -> list[str]:
        return [name for name in ATTRIBUTE_COLUMNS if name in self.columns]

    def problem(self, line: int, column: str, value: str, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(Problem(line, column, value, reason))

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_REPORTED_WARNINGS:
            self.warnings.append(message)

    def rows(self) -> Iterator[Row]:
        reader = csv.reader(self._lines())
        try:
            if not self._read_header(reader):
                return
            for cells in reader:
                if not any(cell.strip() for cell in cells) or self._is_total(cells):
                    continue
                self.rows_read += 1
                row = self._parse(reader.line_num, cells)
                if row is not None:
                    yield row
        except csv.Error as exc:
            self.problem(reader.line_num, "file", "", f"not readable as CSV ({exc})")
            return
        if self.rows_read == 0 and self.problem_count == 0:
            self.problem(reader.line_num, "file", "", "no data rows below the header")

    def _lines(self) -> Iterator[str]:
        """Decode line by line, so a bad byte is reported with its line number instead of a traceback."""
        number = 0
        for raw in iter(lambda: self._stream.readline(MAX_LINE_BYTES), b""):
            number += 1
            self.bytes_read += len(raw)
            if number == 1:
                if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    self.problem(1, "file", "", "the file is UTF-16 text; save it as CSV (UTF-8)")
                    return
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if b"\x00" in raw:
                self.problem(number, "file", "", "contains NUL bytes: a binary file, not a CSV")
                return
            if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
                self.problem(number, "file", "", "line longer than 1 MB: not a CSV file")
                return
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 4].hex(" ")
                self.problem(number, "file", f"bytes {bad}", "not UTF-8 text; save the file as CSV (UTF-8)")
                yield raw.decode("utf-8", errors="replace")
        if number == 0:
            self.problem(1, "file", "", "the file is empty")

    def _read_header(self, reader) -> bool:
        first_line = None
        for cells in reader:
            if first_line is None:
                first_line = (reader.line_num, ",".join(cells))
            known = [normalise_header(cell) in ALIASES for cell in cells]
            if sum(known) >= 2:
                return self._use_header(reader.line_num, cells)
            if reader.line_num >= HEADER_SEARCH_ROWS:
                break
        if first_line is not None and self.problem_count == 0:
            line, text = first_line
            self.problem(line, "header", text, "no header row with date and campaign_id columns found")
        return False

    def _use_header(self, line: int, cells: list[str]) -> bool:
        self._header_width = len(cells)
        for index, label in enumerate(cells):
            key = normalise_header(label)
            name = ALIASES.get(key)
            if name is None:
                if label.strip():
                    self.warn(f"line {line}: {label.strip()}: unknown column, ignored")
                continue
            if name in self.columns:
                self.problem(line, label.strip(), "", f"a second {name} column (also {self.labels[name]})")
                continue
            self.columns[name] = index
            self.labels[name] = label.strip()
            self.is_google_ads = self.is_google_ads or (key in GOOGLE_ADS_ALIASES and key != name.replace("_", " "))
        for name in REQUIRED_COLUMNS:
            if name not in self.columns:
                self.problem(line, name, "", "required column missing")
        return self.problem_count == 0

    def _is_total(self, cells: list[str]) -> bool:
        # "Total: Campaigns", "Total: Account" … end a Google Ads report; they carry no campaign or day.
        if not any(_TOTAL.match(cell) for cell in cells):
            return False
        campaign = self._cell(cells, "campaign_id")
        return campaign in EMPTY_MARKERS or bool(_TOTAL.match(self._cell(cells, "date")))

    def _cell(self, cells: list[str], name: str) -> str:
        index = self.columns[name]
        return cells[index].strip() if index < len(cells) else ""

    def _values(self, line: int, cells: list[str], parsers: dict) -> dict | None:
        """Each column's cell read by its parser; None (its problems recorded) when any cell cannot be read."""
        before = self.problem_count
        if len(cells) > self._header_width and any(cell.strip() for cell in cells[self._header_width :]):
            self.problem(line, "row", f"{len(cells)} fields", f"the header has {self._header_width} columns")
        values = {}
        for name in self.columns:
            text = self._cell(cells, name)
            try:
                values[name] = parsers[name](text)
            except ValueError as exc:
                self.problem(line, self.labels[name], text, str(exc))
        return values if self.problem_count == before else None

    def _parse(self, line: int, cells: list[str]) -> Row | None:
        values = self._values(line, cells, PARSERS)
        if values is None:
            return None
        return Row(
            line=line,
            date=values["date"],
            campaign_id=values["campaign_id"],
            attributes={
                ATTRIBUTE_FIELDS[name]: values[name] for name in self.attribute_columns if values[name] is not None
            },
            metrics={name: values[name] for name in self.metric_columns},
            delivery=self._delivery(values),
        )

    def _delivery(self, values: dict) -> dict:
        delivery = {name: values[name] for name in ("daily_budget", *SHARE_FIELDS) if name in values}
        verdicts = [values[name] for name in STATUS_COLUMNS if name in values and values[name] is not None]
        if any(name in values for name in STATUS_COLUMNS):
            delivery["limited_by_budget"] = any(verdicts) if verdicts else None
        return delivery


# --- writing -------------------------------------------------------------------------------------


@dataclass
class Unmatched:
    """An id a metric-only file names that matches no campaign: its rows were skipped."""

    external_id: str
    rows: int = 0
    first_line: int = 0
    last_line: int = 0
    suggestions: tuple[str, ...] = ()

    def add(self, line: int) -> None:
        self.rows += 1
        self.first_line = min(self.first_line, line) if self.first_line else line
        self.last_line = max(self.last_line, line)

    def __str__(self) -> str:
        where = (
            f"line {self.first_line}"
            if self.rows == 1
            else f"{self.rows} rows, lines {self.first_line}–{self.last_line}"
        )
        said = f"{self.external_id}: matches no campaign, skipped ({where})"
        if self.suggestions:
            said += f"; did you mean {_either(self.suggestions)}?"
        return said


_SKIPPED = re.compile(r"^[\d,]+ rows? skipped: ")


def skipped_summary(warnings: list[str]) -> str:
    """The warning that says how many rows were skipped and why (written first by `unmatched_warnings`); ""."""
    return next((warning for warning in warnings[:1] if _SKIPPED.match(warning)), "")


def _either(values) -> str:
    values = list(values)
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


class _Baseline:
    """One campaign's usual day for one metric: up to BASELINE_DAYS values, and the rows seen before it was full.

    Rows seen once it is full are judged at once against its median; those seen while it filled wait, and
    are judged when the file ends. Either way a campaign and metric hold at most 2 × BASELINE_DAYS numbers.
    """

    __slots__ = ("values", "waiting_lines", "waiting_values", "_median")

    def __init__(self):
        self.values = array("d")
        self.waiting_lines = array("q")
        self.waiting_values = array("d")
        self._median: float | None = None

    def seed(self, value: float) -> None:
        if len(self.values) < BASELINE_DAYS:
            self.values.append(value)

    def add(self, line: int, value: float, judge: Callable[[int, float, float], None]) -> None:
        if len(self.values) < BASELINE_DAYS:
            self.values.append(value)
            self.waiting_lines.append(line)
            self.waiting_values.append(value)
            return
        if self._median is None:
            self._median = statistics.median(self.values)
        judge(line, value, self._median)

    def finish(self, judge: Callable[[int, float, float], None]) -> None:
        if len(self.values) < MIN_BASELINE_DAYS:
            return
        median = self._median if self._median is not None else statistics.median(self.values)
        for line, value in zip(self.waiting_lines, self.waiting_values, strict=True):
            judge(line, value, median)


class _Plausibility:
    """Rows that parse but look wrong — spend far above the day's budget, a day's figure ten times the
    campaign's median day (over its stored history and the file) — named by line, in line order."""

    def __init__(self, metric_columns: list[str]):
        self.metric_columns = metric_columns
        # external id → one baseline per metric column, in the columns' order
        self.baselines: dict[str, list[_Baseline]] = {}
        self.judges = [functools.partial(self._judge, name) for name in metric_columns]
        self.found: list[tuple[int, str]] = []
        self.hidden = 0

    def _baselines_of(self, external_id: str) -> list[_Baseline]:
        baselines = self.baselines.get(external_id)
        if baselines is None:
            baselines = self.baselines[external_id] = [_Baseline() for _ in self.metric_columns]
        return baselines

    def _note(self, line: int, message: str) -> None:
        if len(self.found) < MAX_REPORTED_WARNINGS:
            self.found.append((line, message))
        else:
            self.hidden += 1

    def seed_history(self, campaign_pks: dict[str, int], first_days: dict[str, dt.date]) -> None:
        """Start each newly seen campaign's baselines with its stored days before the file's first day for it."""
        if not campaign_pks or not self.metric_columns:
            return
        external_ids = {pk: external_id for external_id, pk in campaign_pks.items()}
        since = min(first_days.values()) - dt.timedelta(days=BASELINE_DAYS)
        stored = (
            DailyMetric.objects.filter(campaign_id__in=external_ids, date__gte=since, date__lt=max(first_days.values()))
            .order_by("-date")
            .values_list("campaign_id", "date", *self.metric_columns)
        )
        for campaign_id, day, *values in stored.iterator(chunk_size=BATCH_ROWS):
            external_id = external_ids[campaign_id]
            if not first_days[external_id] - dt.timedelta(days=BASELINE_DAYS) <= day < first_days[external_id]:
                continue
            for baseline, value in zip(self._baselines_of(external_id), values, strict=True):
                if value is not None:
                    baseline.seed(float(value))

    def check(self, row: Row, budget: float | None) -> None:
        spend = row.metrics.get("spend")
        if spend is not None and budget and float(spend) > SPEND_OVER_BUDGET * budget:
            self._note(
                row.line,
                f"line {row.line}: spend {number_text(float(spend))} is {float(spend) / budget:.1f}× "
                f"the daily budget {number_text(budget)}",
            )
        metrics = row.metrics
        baselines = self._baselines_of(row.campaign_id)
        for name, baseline, judge in zip(self.metric_columns, baselines, self.judges, strict=True):
            value = metrics[name]
            if value is not None:
                baseline.add(row.line, float(value), judge)

    def _judge(self, name: str, line: int, value: float, median: float) -> None:
        if median > 0 and value > OUTLIER_FACTOR * median:
            self._note(
                line,
                f"line {line}: {name} {number_text(value)} is {value / median:.1f}× "
                f"the campaign's median day {number_text(median)}",
            )

    def warnings(self) -> list[str]:
        for baselines in self.baselines.values():
            for baseline, judge in zip(baselines, self.judges, strict=True):
                baseline.finish(judge)
        found = [message for _, message in sorted(self.found)]
        return found + ([f"... and {self.hidden} more implausible rows not listed"] if self.hidden else [])


class ChangedHistory:
    """What an import does to rows already stored, for data health: a figure replaced by a different one
    (filling a blank is not a change). One read of the stored rows per batch, before the upsert."""

    def __init__(self):
        self.rows_changed = 0
        self.first_changed: dt.date | None = None
        self.last_changed: dt.date | None = None
        self.newest_day: dt.date | None = None

    def compare(self, rows: list[Row], campaign_pks: dict, fields: list[str]) -> None:
        by_key = {(campaign_pks[row.campaign_id], row.date): row for row in rows}
        days = [day for _, day in by_key]
        self.newest_day = max([*days, *([self.newest_day] if self.newest_day else [])])
        if not fields:
            return
        stored = DailyMetric.objects.filter(
            campaign_id__in={pk for pk, _ in by_key}, date__gte=min(days), date__lte=max(days)
        ).values_list("campaign_id", "date", *fields)
        for campaign_pk, day, *old in stored:
            row = by_key.get((campaign_pk, day))
            if row is not None and self._differs(row, fields, old):
                self.rows_changed += 1
                self.first_changed = min(day, self.first_changed or day)
                self.last_changed = max(day, self.last_changed or day)

    @staticmethod
    def _differs(row: Row, fields: list[str], old: list) -> bool:
        new = {**row.metrics, **row.delivery}
        for name, before in zip(fields, old, strict=True):
            after = new.get(name)
            if before is None or after is None:
                continue
            if isinstance(before, bool) or isinstance(after, bool):
                if bool(before) != bool(after):
                    return True
            elif abs(float(before) - float(after)) > 0.005:
                return True
        return False


class _Writer:
    """Upserts batches of rows; creates unknown campaigns (or skips them, for a metric-only file); remembers
    each campaign's latest attributes; asks the plausibility checks about every row it writes."""

    def __init__(
        self,
        *,
        metric_columns: list[str],
        dry_run: bool,
        default_platform: str,
        may_create: bool = True,
        delivery_fields: list[str] | None = None,
    ):
        self.metric_columns = metric_columns
        # Stored like metrics, but never judged against the campaign's usual day: a share is not a volume.
        self.stored_fields = metric_columns + (delivery_fields or [])
        self.dry_run = dry_run
        self.default_platform = default_platform
        self.may_create = may_create
        self.campaign_pks: dict[str, int | None] = {}  # external id → pk (None: would be created, dry run)
        self.budgets: dict[str, float] = {}  # the stored daily budget of each campaign found
        self.latest: dict[str, tuple[dt.date, dict]] = {}
        self.unmatched: dict[str, Unmatched] = {}
        self.plausibility = _Plausibility(metric_columns)
        self.rows_written = 0
        self.rows_skipped = 0
        self.campaigns_created = 0
        self.history = ChangedHistory()

    def write(self, batch: list[Row], warn: Callable[[str], None]) -> None:
        unique: dict[tuple[str, dt.date], Row] = {}
        for row in batch:
            previous = unique.get((row.campaign_id, row.date))
            if previous is not None:
                warn(f"line {row.line}: same campaign and date as line {previous.line}; the later row is used")
            unique[(row.campaign_id, row.date)] = row
            self._remember_attributes(row)
        self._resolve_campaigns(unique.values())
        kept = []
        for row in unique.values():
            if row.campaign_id in self.unmatched:
                self.unmatched[row.campaign_id].add(row.line)
                self.rows_skipped += 1
            else:
                kept.append(row)
        for row in kept:
            budget = row.attributes.get("daily_budget")
            self.plausibility.check(row, float(budget) if budget is not None else self.budgets.get(row.campaign_id))
        self.rows_written += len(kept)
        if self.dry_run or not kept:
            return
        self.history.compare(kept, self.campaign_pks, self.stored_fields)
        objects = [
            DailyMetric(campaign_id=self.campaign_pks[row.campaign_id], date=row.date, **row.metrics, **row.delivery)
            for row in kept
        ]
        if self.stored_fields:
            DailyMetric.objects.bulk_create(
                objects, update_conflicts=True, unique_fields=["campaign", "date"], update_fields=self.stored_fields
            )
        else:
            DailyMetric.objects.bulk_create(objects, ignore_conflicts=True)
        guardrail_figures.forget()

    def unmatched_warnings(self) -> list[str]:
        """What was skipped and why, first among the warnings, each id with the closest known ids."""
        if not self.unmatched:
            return []
        known = known_campaigns()
        listed = list(self.unmatched.values())[:MAX_LISTED_UNMATCHED]
        for unmatched in listed:
            close = suggestions("campaign", unmatched.external_id, known)
            unmatched.suggestions = tuple(shown_value("campaign", external_id, known) for external_id in close)
        count = len(self.unmatched)
        summary = (
            f"{self.rows_skipped:,} row{'s' if self.rows_skipped != 1 else ''} skipped: "
            f"{count} campaign id{'s' if count != 1 else ''} match{'es' if count == 1 else ''} no campaign, "
            "and a file without spend, daily_budget, campaign_name or channel columns never creates campaigns. "
            "Correct the ids, or import again asking to create campaigns for unknown ids."
        )
        more = count - len(listed)
        return [summary, *map(str, listed)] + ([f"... and {more} more unmatched ids not listed"] if more else [])

    def _remember_attributes(self, row: Row) -> None:
        if not row.attributes:
            return
        seen = self.latest.get(row.campaign_id)
        if seen is None:
            self.latest[row.campaign_id] = (row.date, row.attributes)
        elif row.date >= seen[0]:
            self.latest[row.campaign_id] = (row.date, seen[1] | row.attributes)
        else:
            self.latest[row.campaign_id] = (seen[0], row.attributes | seen[1])

    def _resolve_campaigns(self, rows) -> None:
        seen = self.campaign_pks.keys() | self.unmatched.keys()
        wanted = {row.campaign_id: row for row in rows if row.campaign_id not in seen}
        if not wanted:
            return
        found = Campaign.objects.filter(external_id__in=wanted).values_list("external_id", "pk", "daily_budget")
        for external_id, pk, budget in found:
            self.campaign_pks[external_id] = pk
            self.budgets[external_id] = float(budget)
        first_days: dict[str, dt.date] = {}
        for row in rows:
            if row.campaign_id in wanted and row.campaign_id in self.campaign_pks:
                first_days[row.campaign_id] = min(first_days.get(row.campaign_id, row.date), row.date)
        self.plausibility.seed_history({i: self.campaign_pks[i] for i in first_days}, first_days)
        missing = [external_id for external_id in wanted if external_id not in self.campaign_pks]
        if not self.may_create:
            self.unmatched.update({external_id: Unmatched(external_id) for external_id in missing})
            return
        self.campaigns_created += len(missing)
        if self.dry_run:
            self.campaign_pks.update(dict.fromkeys(missing))
            return
        Campaign.objects.bulk_create([self._new_campaign(wanted[external_id]) for external_id in missing])
        self.campaign_pks.update(Campaign.objects.filter(external_id__in=missing).values_list("external_id", "pk"))

    def _new_campaign(self, row: Row) -> Campaign:
        attributes = {"platform": self.default_platform} | self.latest.get(row.campaign_id, (None, {}))[1]
        return Campaign(external_id=row.campaign_id, **attributes)

    def update_campaign_attributes(self) -> None:
        """Set each campaign's attributes from the latest day in the file, touching only what changed."""
        if self.dry_run or not self.latest:
            return
        external_ids = list(self.latest)
        for start in range(0, len(external_ids), BATCH_ROWS):
            chunk = external_ids[start : start + BATCH_ROWS]
            changed, fields = [], set()
            for campaign in Campaign.objects.filter(external_id__in=chunk):
                differences = {
                    name: value
                    for name, value in self.latest[campaign.external_id][1].items()
                    if getattr(campaign, name) != value
                }
                if differences:
                    for name, value in differences.items():
                        setattr(campaign, name, value)
                    campaign.updated_at = timezone.now()
                    fields.update(differences)
                    changed.append(campaign)
            if changed:
                Campaign.objects.bulk_update(changed, [*sorted(fields), "updated_at"])


@dataclass
class ImportOutcome:
    filename: str
    dry_run: bool
    history: ChangedHistory = field(default_factory=ChangedHistory)
    bytes_read: int = 0
    rows_read: int = 0
    rows_written: int = 0
    rows_skipped: int = 0  # rows of campaign ids that match no campaign, in a file that may not create any
    campaigns_created: int = 0
    unmatched: list[str] = field(default_factory=list)  # those ids
    columns: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem_lines(self) -> list[str]:
        hidden = self.problem_count - len(self.problems)
        return self.problems + ([f"... and {hidden} more problems not listed"] if hidden else [])


class RollBack(Exception):
    pass


ProgressCallback = Callable[[int, int], None]


def import_performance(
    *,
    stream: BinaryIO,
    filename: str,
    actor=None,
    dry_run: bool = False,
    run: ImportRun | None = None,
    size_bytes: int = 0,
    label: str | None = None,
    on_progress: ProgressCallback | None = None,
    create_campaigns: bool = False,
) -> ImportOutcome:
    """Validate and upsert one file in one transaction; any problem writes nothing, nor does a dry run.

    On success the audit event and the finished ImportRun (`run`, or a new one) commit with the data, and
    the follow-ups are queued for after the commit. A metric-only file creates campaigns for the ids that
    match none only with `create_campaigns`; otherwise their rows are skipped and listed.
    """
    source = PerformanceFile(stream)
    outcome = ImportOutcome(filename=filename, dry_run=dry_run)
    # A dry run only reads; an atomic block would take SQLite's write lock for nothing.
    scope = contextlib.nullcontext() if dry_run else transaction.atomic()
    try:
        with scope:
            _stream_into_database(
                source, dry_run=dry_run, outcome=outcome, on_progress=on_progress, create_campaigns=create_campaigns
            )
            if not outcome.ok or dry_run:
                raise RollBack
            run = finish_run(run or ImportRun(filename=filename, size_bytes=size_bytes, uploaded_by=actor), outcome)
            audit_events.data_imported(
                actor=actor,
                label=label,
                filename=filename,
                rows=outcome.rows_written,
                campaigns_created=outcome.campaigns_created,
                rows_skipped=outcome.rows_skipped,
                unmatched=outcome.unmatched,
                columns=outcome.columns,
                import_run=run.pk,
                bytes_read=outcome.bytes_read,
                rows_read=outcome.rows_read,
            )
            queue_follow_ups()
    except RollBack:
        pass
    return outcome


def queue_follow_ups(trigger: str = "performance import") -> None:
    """New days may complete an outcome's window and change budgets and evidence behind the queue's verdicts;
    and every import is checked for its data's health."""
    # Imported here: the tasks pull in the engine (numpy, scikit-learn), over a second that
    # `manage.py import_performance` would otherwise spend before reading its first row.
    from decisions.data.health import data_health_check_on_commit
    from decisions.outcomes.tasks import refresh_outcomes
    from decisions.review.tasks import refresh_pending_verdicts

    queue_follow_up_on_commit(refresh_outcomes)
    queue_follow_up_on_commit(refresh_pending_verdicts)
    data_health_check_on_commit(trigger=trigger)


def _stream_into_database(
    source: PerformanceFile, *, dry_run: bool, outcome: ImportOutcome, on_progress, create_campaigns: bool
) -> None:
    writer = None
    batch: list[Row] = []
    reported_at = 0
    for row in source.rows():
        if writer is None:
            writer = _Writer(
                metric_columns=source.metric_columns,
                delivery_fields=source.delivery_fields,
                dry_run=dry_run,
                default_platform="google_ads" if source.is_google_ads else "",
                may_create=create_campaigns or any(name in source.columns for name in CAMPAIGN_DEFINING_COLUMNS),
            )
        # After the first problem nothing more is written, but every row is still checked and reported.
        if source.problem_count:
            batch.clear()
        else:
            batch.append(row)
        if len(batch) >= BATCH_ROWS:
            writer.write(batch, source.warn)
            batch = []
            forget_debug_queries()
        if on_progress is not None and source.rows_read - reported_at >= BATCH_ROWS:
            reported_at = source.rows_read
            on_progress(source.bytes_read, source.rows_read)
    if writer is not None and not source.problem_count:
        if batch:
            writer.write(batch, source.warn)
        writer.update_campaign_attributes()
        outcome.rows_written = writer.rows_written
        outcome.rows_skipped = writer.rows_skipped
        outcome.campaigns_created = writer.campaigns_created
        outcome.unmatched = list(writer.unmatched)
        outcome.history = writer.history
    outcome.bytes_read = source.bytes_read
    outcome.rows_read = source.rows_read
    outcome.columns = list(source.columns)
    outcome.problems = [str(problem) for problem in source.problems]
    outcome.problem_count = source.problem_count
    outcome.warnings = source.warnings
    if not outcome.ok:
        outcome.rows_written = outcome.rows_skipped = outcome.campaigns_created = 0
        outcome.unmatched = []
    elif writer is not None:
        # What was skipped comes first: it is what the person must act on.
        outcome.warnings = writer.unmatched_warnings() + source.warnings + writer.plausibility.warnings()


def forget_debug_queries() -> None:
    # With DEBUG on, Django keeps the SQL of recent queries; bulk inserts would make memory grow with
    # the file. Query-capturing tests set force_debug_cursor and keep their log.
    if settings.DEBUG and not connection.force_debug_cursor:
        connection.queries_log.clear()


def finish_run(run: ImportRun, outcome: ImportOutcome) -> ImportRun:
    run.status = ImportRun.Status.SUCCEEDED if outcome.ok else ImportRun.Status.FAILED
    run.bytes_read = outcome.bytes_read
    run.rows_read = outcome.rows_read
    run.rows_written = outcome.rows_written
    run.campaigns_created = outcome.campaigns_created
    run.errors = outcome.problem_lines()
    run.warnings = outcome.warnings
    history = outcome.history
    run.rows_changed, run.newest_day = history.rows_changed, history.newest_day
    run.changed_first, run.changed_last = history.first_changed, history.last_changed
    run.finished_at = timezone.now()
    run.save()
    return run


# --- runs followed by the upload page ---------------------------------------------------------------


def upload_queue(upload, *, actor, dry_run: bool, kind: str, task, task_args: tuple = (), **run_fields):
    """Keep an upload too large to import inside the request, open its run, and queue `task(run.pk, *task_args)`
    once the run is committed; returns (run, publication). The stored name is ours, never the uploader's: no path
    tricks, no clashes. When the broker is away the file and run stay, and the stuck-work sweep queues it again."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{uuid.uuid4().hex}.csv"
    with stored.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    with transaction.atomic():
        run = import_run_create(
            filename=upload.name,
            size_bytes=upload.size,
            actor=actor,
            dry_run=dry_run,
            stored_path=str(stored),
            kind=kind,
            **run_fields,
        )
        publication = queue_after_commit(task, run.pk, *task_args)
    return run, publication


def import_run_create(
    *,
    filename: str,
    size_bytes: int,
    actor=None,
    dry_run: bool = False,
    stored_path: str = "",
    create_campaigns: bool = False,
    kind: str = "performance",
    options: dict | None = None,
):
    return ImportRun.objects.create(
        filename=Path(filename).name[:255] or "upload.csv",
        size_bytes=size_bytes,
        uploaded_by=actor,
        dry_run=dry_run,
        stored_path=stored_path,
        create_campaigns=create_campaigns,
        kind=kind,
        options=options or {},
    )


def import_run_execute(
    *, run: ImportRun, stream: BinaryIO | None = None, create_campaigns: bool = False
) -> ImportOutcome:
    """Import the run's performance file (or `stream`), keeping the run's status, progress and problems up to date."""
    return run_execute(run, stream, import_performance, create_campaigns=create_campaigns)


def run_execute(
    run: ImportRun,
    stream: BinaryIO | None,
    importer: Callable[..., ImportOutcome],
    *,
    outcome_type: type[ImportOutcome] = ImportOutcome,
    **options,
) -> ImportOutcome:
    """Run an upload's import (of any kind of file): `importer` reads the run's file (or `stream`) with the run's
    own filename, uploader, dry run and size, and `options` (a deals file's campaign column, an experiment's name).
    The run is marked running, its progress published, a file that cannot be read or an import that crashes
    recorded as a failure (a crash is raised again), and a refused or dry run finished here (a written one
    finishes in its follow-ups)."""

    def failed(problem: Problem) -> ImportOutcome:
        return outcome_type(filename=run.filename, dry_run=run.dry_run, problems=[str(problem)], problem_count=1)

    run.status, run.heartbeat_at = ImportRun.Status.RUNNING, timezone.now()
    ImportRun.objects.filter(pk=run.pk).update(status=run.status, heartbeat_at=run.heartbeat_at)
    try:
        with contextlib.ExitStack() as stack:
            if stream is None:
                stream = stack.enter_context(Path(run.stored_path).open("rb"))
            outcome = importer(
                stream=stream,
                filename=run.filename,
                actor=run.uploaded_by,
                dry_run=run.dry_run,
                run=run,
                size_bytes=run.size_bytes,
                on_progress=lambda bytes_read, rows_read: _report_progress(run.pk, bytes_read, rows_read),
                **options,
            )
    except OSError as exc:
        outcome = failed(Problem(0, "file", run.stored_path, f"cannot be read ({exc.strerror})"))
    except Exception as exc:
        # The transaction rolled back; the run must not look busy forever. The error still reaches the logs.
        finish_run(run, failed(Problem(0, "import", type(exc).__name__, "stopped unexpectedly")))
        forget_progress(run.pk)
        raise
    if not outcome.ok or run.dry_run:
        finish_run(run, outcome)
    forget_progress(run.pk)
    return outcome


def _report_progress(run_id: int, bytes_read: int, rows_read: int) -> None:
    publish_progress(run_id, bytes_read, rows_read)
    # Inside the import's transaction: others see it only at the end, but the row stays locked meanwhile,
    # which is what tells the stuck-work sweep (decisions/sweeping.py) that this import is alive.
    ImportRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())


# Inside the import's transaction an update of the run would stay invisible to the polling page until
# the end, and SQLite allows only one writer, so live progress goes through Redis; without Redis, tasks
# run in the request and nobody polls.


def _redis() -> redis.Redis | None:
    return _redis_client(settings.REDIS_URL) if settings.REDIS_URL else None


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


def _progress_key(run_id: int) -> str:
    return f"waypoint:import-progress:{run_id}"


def publish_progress(run_id: int, bytes_read: int, rows_read: int) -> None:
    client = _redis()
    if client is None:
        return
    with contextlib.suppress(Exception):  # progress is cosmetic; it must never fail an import
        client.set(_progress_key(run_id), f"{bytes_read}:{rows_read}", ex=24 * 3600)


def forget_progress(run_id: int) -> None:
    client = _redis()
    if client is not None:
        with contextlib.suppress(Exception):
            client.delete(_progress_key(run_id))


def with_live_progress(run: ImportRun) -> ImportRun:
    """The run with bytes and rows read so far, while its import is still running."""
    client = _redis()
    if client is None or run.is_finished:
        return run
    try:
        value = client.get(_progress_key(run.pk))
    except Exception:
        return run
    if value:
        bytes_read, rows_read = (int(part) for part in value.decode().split(":"))
        run.bytes_read, run.rows_read = max(run.bytes_read, bytes_read), max(run.rows_read, rows_read)
    return run
