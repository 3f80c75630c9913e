"""Importing outcome totals per day or week (the channel mix mode's outcome) with control variables.

A file has `date` (a day, or the first day of a week), one or more objective metric columns
(`pipeline_value`, `closed_revenue`, `leads`) and any other numeric columns, which are control variables
(demand, price, promotions, holidays, weather…). Rows are upserted by date into `DailyTotal` rows of source
"totals". The rules are the performance import's: every bad row reported by line, nothing written, one
transaction, one audit event; the grain (daily or weekly) is read from the dates and stored on each row.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from django.db import transaction

from decisions.audit import events as audit_events
from decisions.data import importing
from decisions.data.health import data_health_check_on_commit
from decisions.data.importing import ImportOutcome, Problem, RollBack, finish_run
from decisions.models import DailyTotal, ImportRun

SOURCE = "totals"
METRIC_COLUMNS = ("pipeline_value", "closed_revenue", "leads")
MAX_CONTROLS = 30
MAX_BYTES = 20 * 1024 * 1024  # ten years of days is well under a megabyte


@dataclass
class TotalsOutcome(ImportOutcome):
    grain: str = ""  # "daily" | "weekly" | "" (too few rows to tell)
    metrics: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    first_date: object = None
    last_date: object = None


@dataclass(frozen=True)
class TotalsRow:
    line: int
    date: object
    metrics: dict
    controls: dict


def parse_totals(stream: BinaryIO, outcome: TotalsOutcome) -> list[TotalsRow]:
    """Every valid row; problems are added to `outcome` (each bad cell, by line)."""
    raw = stream.read(MAX_BYTES + 1)
    outcome.bytes_read = len(raw)
    if len(raw) > MAX_BYTES:
        return _refuse(outcome, Problem(0, "file", "", "larger than 20 MB: a totals file has one row per day or week"))
    if b"\x00" in raw[:4096]:
        return _refuse(outcome, Problem(1, "file", "", "not a text file (CSV expected)"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _refuse(outcome, Problem(1, "file", "", "not UTF-8 text; save the file as CSV (UTF-8)"))
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        return _refuse(outcome, Problem(1, "file", "", "empty file"))
    names = [importing.normalise_header(cell).replace(" ", "_") for cell in header]
    labels = {name: cell.strip() for name, cell in zip(names, header, strict=True)}
    if "date" not in names:
        return _refuse(outcome, Problem(1, "date", "", "missing required column"))
    metrics = [name for name in METRIC_COLUMNS if name in names]
    if not metrics:
        return _refuse(
            outcome,
            Problem(1, "header", ", ".join(header), "no outcome column (pipeline_value, closed_revenue or leads)"),
        )
    controls = [name for name in names if name != "date" and name not in METRIC_COLUMNS and name]
    if len(controls) > MAX_CONTROLS:
        return _refuse(outcome, Problem(1, "header", "", f"more than {MAX_CONTROLS} control columns"))
    outcome.metrics, outcome.controls = metrics, [labels[name] for name in controls]
    outcome.columns = [labels[name] for name in names if name]
    index = {name: i for i, name in enumerate(names)}
    rows, seen = [], {}
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        outcome.rows_read += 1
        row = _parse_row(reader.line_num, cells, index, metrics, controls, labels, outcome)
        if row is None:
            continue
        if row.date in seen:
            _problem(
                outcome, Problem(row.line, "date", row.date.isoformat(), f"named twice (also line {seen[row.date]})")
            )
            continue
        seen[row.date] = row.line
        rows.append(row)
    if outcome.rows_read == 0:
        _problem(outcome, Problem(1, "file", "", "no data rows below the header"))
    return rows


def _parse_row(line, cells, index, metrics, controls, labels, outcome) -> TotalsRow | None:
    def cell(name):
        i = index[name]
        return cells[i].strip() if i < len(cells) else ""

    ok = True
    try:
        day = importing.parse_date(cell("date"))
    except ValueError as exc:
        _problem(outcome, Problem(line, "date", cell("date"), str(exc)))
        ok, day = False, None
    values = {}
    for name in metrics:
        parse = importing.parse_quantity if name == "leads" else importing.parse_money
        try:
            values[name] = parse(cell(name))
        except ValueError as exc:
            _problem(outcome, Problem(line, name, cell(name), str(exc)))
            ok = False
    if ok and all(value is None for value in values.values()):
        _problem(outcome, Problem(line, ", ".join(metrics), "", "no outcome figure in this row"))
        ok = False
    found = {}
    for name in controls:
        text = cell(name).replace(",", "")
        try:
            number = float(text)
            if text == "" or number != number or abs(number) in (float("inf"),) or abs(number) >= 1e12:
                raise ValueError
        except ValueError:
            reason = "required: a control needs a value in every row" if text == "" else "not a number"
            _problem(outcome, Problem(line, labels[name], cell(name), reason))
            ok = False
            continue
        found[labels[name]] = number
    return TotalsRow(line, day, values, found) if ok else None


def _problem(outcome: ImportOutcome, problem: Problem) -> None:
    outcome.problem_count += 1
    if len(outcome.problems) < importing.MAX_REPORTED_PROBLEMS:
        outcome.problems.append(str(problem))


def _refuse(outcome: ImportOutcome, problem: Problem) -> list:
    _problem(outcome, problem)
    return []


def detect_grain(dates) -> str:
    """ "weekly" when consecutive dates are whole weeks apart, "daily" when mostly a day apart, else ""."""
    days = sorted(dates)
    if len(days) < 2:
        return ""
    gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    if all(gap % 7 == 0 for gap in gaps):
        return "weekly"
    if sum(gap == 1 for gap in gaps) >= 0.8 * len(gaps):
        return "daily"
    return ""


def import_totals(
    *,
    stream: BinaryIO,
    filename: str,
    actor=None,
    dry_run: bool = False,
    run: ImportRun | None = None,
    size_bytes: int = 0,
    label: str | None = None,
    on_progress=None,
) -> TotalsOutcome:
    """Validate and upsert a totals file in one transaction; any problem writes nothing, nor does a dry run."""
    outcome = TotalsOutcome(filename=filename, dry_run=dry_run)
    rows = parse_totals(stream, outcome)
    if rows:
        outcome.grain = detect_grain([row.date for row in rows])
        outcome.first_date, outcome.last_date = min(r.date for r in rows), max(r.date for r in rows)
        if not outcome.grain and len(rows) > 1:
            outcome.warnings.append(
                "The dates are neither consecutive days nor whole weeks apart; each row is read as one day."
            )
    if on_progress is not None:
        on_progress(outcome.bytes_read, outcome.rows_read)
    if not outcome.ok:
        return outcome
    scope = contextlib.nullcontext() if dry_run else transaction.atomic()
    try:
        with scope:
            outcome.rows_written = _upsert(rows, 7 if outcome.grain == "weekly" else 1, dry_run=dry_run)
            if dry_run:
                raise RollBack
            run = finish_run(
                run or ImportRun(filename=filename, size_bytes=size_bytes, uploaded_by=actor, kind="totals"), outcome
            )
            audit_events.data_imported(
                actor=actor,
                label=label,
                filename=filename,
                rows=outcome.rows_written,
                campaigns_created=0,
                columns=outcome.columns,
                import_run=run.pk,
                bytes_read=outcome.bytes_read,
                rows_read=outcome.rows_read,
            )
            data_health_check_on_commit(trigger="totals import")
    except RollBack:
        pass
    return outcome


def _upsert(rows: list[TotalsRow], period_days: int, *, dry_run: bool) -> int:
    if dry_run:
        return len(rows)
    existing = {t.date: t for t in DailyTotal.objects.filter(source=SOURCE, date__in=[r.date for r in rows])}
    new, changed = [], []
    for row in rows:
        total = existing.get(row.date) or DailyTotal(date=row.date, source=SOURCE)
        for name, value in row.metrics.items():
            setattr(total, name, value if not isinstance(value, Decimal) else value)
        total.controls = row.controls
        total.period_days = period_days
        (changed if total.pk else new).append(total)
    DailyTotal.objects.bulk_create(new, batch_size=1000)
    DailyTotal.objects.bulk_update(changed, [*METRIC_COLUMNS, "controls", "period_days"], batch_size=1000)
    return len(rows)


def totals_run_execute(*, run: ImportRun, stream: BinaryIO | None = None) -> TotalsOutcome:
    """Import the run's totals file, keeping the run's status and problems up to date (the upload page)."""
    return importing.run_execute(run, stream, import_totals, outcome_type=TotalsOutcome)
