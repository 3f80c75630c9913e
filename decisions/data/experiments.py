"""Importing a randomised test: one row per customer, the arm they were given, their outcomes, their attributes.

Columns: `arm` (required), `customer_id` (optional, unique in the file), outcome columns named after objective
metrics (`closed_revenue`, `pipeline_value`, `leads`; at least one), and any other column, which is a customer
attribute: numbers when every filled cell is a number, categories otherwise. The file is read line by line with
the performance import's decoding and bad-row reporting (decisions/data/importing.py): every bad row by line,
nothing written, as for every import.

Attributes are typed only once the whole file is read, so the rows wait in memory (a million customers of ten
attributes is a few hundred MB at most; `MAX_CUSTOMERS` bounds it). They are then written in batches.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import connection, transaction

from decisions.audit import events as audit_events
from decisions.data import importing
from decisions.data.importing import EMPTY_MARKERS, normalise_header
from decisions.models import Experiment, ExperimentAction, ExperimentCustomer, ImportRun

OUTCOME_COLUMNS = ("closed_revenue", "pipeline_value", "leads")
ARM, CUSTOMER_ID = "arm", "customer_id"
MAX_CUSTOMERS = 1_000_000
MAX_ARM = 64
MAX_CUSTOMER_ID = 128
MAX_NAME = 120
MAX_ATTRIBUTE_TEXT = 255
MAX_ATTRIBUTE_COLUMNS = 100
MIN_ARM_CUSTOMERS = 100  # fewer than this in an arm: its uplift will be too uncertain to act on; said, not refused
MAX_CATEGORIES = 30  # more values than this: an attribute no audience rule can use (an id, an e-mail address)
BATCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class CustomerRow:
    line: int
    customer_id: str
    arm: str
    outcomes: dict  # outcome column → float
    cells: tuple  # attribute texts, in ExperimentFile.attribute_names order ("" = empty)


def _number(text: str) -> float | None:
    """A plain number (a thousands comma allowed), or None."""
    with contextlib.suppress(ValueError):
        value = float(text.replace(",", ""))
        if math.isfinite(value):
            return value
    return None


class ExperimentFile(importing.PerformanceFile):
    """A streaming pass over an experiment CSV; `rows()` (the performance file's loop) yields `CustomerRow`s."""

    def __init__(self, stream: BinaryIO):
        super().__init__(stream)
        self.attribute_names: list[str] = []
        self.attribute_indexes: list[int] = []
        self.header_line = 1
        self.first_lines: dict[str, int] = {}  # customer id → the line that first named it

    @property
    def outcome_columns(self) -> list[str]:
        return [name for name in OUTCOME_COLUMNS if name in self.columns]

    def _read_header(self, reader) -> bool:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                self.header_line = reader.line_num
                return self._use_header(reader.line_num, cells)
        return False

    def _use_header(self, line: int, cells: list[str]) -> bool:
        self._header_width = len(cells)
        seen: dict[str, str] = {}
        for index, label in enumerate(cells):
            text = label.strip()
            key = normalise_header(text)
            if not key:
                self.warn(f"line {line}: column {index + 1} has no name, ignored")
                continue
            if key in seen:
                self.problem(line, text, "", f"a second column named like {seen[key]}")
                continue
            seen[key] = text
            name = key.replace(" ", "_")
            if name in (ARM, CUSTOMER_ID, *OUTCOME_COLUMNS):
                self.columns[name], self.labels[name] = index, text
            else:
                self.attribute_names.append(text)
                self.attribute_indexes.append(index)
        if ARM not in self.columns:
            self.problem(line, ARM, "", "required column missing: the arm (action) each customer was given")
        if not self.outcome_columns:
            self.problem(line, "outcome", "", f"no outcome column: name one {', '.join(OUTCOME_COLUMNS)}")
        if len(self.attribute_names) > MAX_ATTRIBUTE_COLUMNS:
            self.problem(line, "header", "", f"more than {MAX_ATTRIBUTE_COLUMNS} attribute columns")
        return self.problem_count == 0

    def _is_total(self, cells: list[str]) -> bool:
        return False

    def _parse(self, line: int, cells: list[str]) -> CustomerRow | None:
        before = self.problem_count
        if self.rows_read > MAX_CUSTOMERS:
            if self.rows_read == MAX_CUSTOMERS + 1:
                self.problem(line, "file", "", f"more than {MAX_CUSTOMERS:,} customers: split the test's file")
            return None
        if len(cells) > self._header_width and any(cell.strip() for cell in cells[self._header_width :]):
            self.problem(line, "row", f"{len(cells)} fields", f"the header has {self._header_width} columns")
        arm = self._cell(cells, ARM)
        if arm in EMPTY_MARKERS:
            self.problem(line, self.labels[ARM], "", "required: the arm this customer was given")
        elif len(arm) > MAX_ARM:
            self.problem(line, self.labels[ARM], arm, f"longer than {MAX_ARM} characters")
        customer_id = self._customer_id(line, cells)
        outcomes = {}
        for name in self.outcome_columns:
            text = self._cell(cells, name)
            if text in EMPTY_MARKERS:
                self.problem(line, self.labels[name], "", "required (write 0 for a customer who brought nothing)")
                continue
            try:
                outcomes[name] = importing.parse_quantity(text)
            except ValueError as exc:
                self.problem(line, self.labels[name], text, str(exc))
        attributes = tuple(cells[i].strip() if i < len(cells) else "" for i in self.attribute_indexes)
        for label, text in zip(self.attribute_names, attributes, strict=True):
            if len(text) > MAX_ATTRIBUTE_TEXT:
                self.problem(line, label, text, f"longer than {MAX_ATTRIBUTE_TEXT} characters")
        if self.problem_count != before:
            return None
        return CustomerRow(line=line, customer_id=customer_id, arm=arm, outcomes=outcomes, cells=attributes)

    def _customer_id(self, line: int, cells: list[str]) -> str:
        if CUSTOMER_ID not in self.columns:
            return ""
        text = self._cell(cells, CUSTOMER_ID)
        if text in EMPTY_MARKERS:
            return ""
        if len(text) > MAX_CUSTOMER_ID:
            self.problem(line, self.labels[CUSTOMER_ID], text, f"longer than {MAX_CUSTOMER_ID} characters")
            return ""
        first = self.first_lines.setdefault(text, line)
        if first != line:
            self.problem(line, self.labels[CUSTOMER_ID], text, f"named twice (first on line {first})")
        return text


def attribute_kinds(names: list[str], rows: list[CustomerRow]) -> dict[str, str]:
    """Each attribute is "number" when every filled cell is a number, else "category"."""
    kinds = {}
    for index, name in enumerate(names):
        filled = [row.cells[index] for row in rows if row.cells[index] not in EMPTY_MARKERS]
        numeric = bool(filled) and all(_number(text) is not None for text in filled)
        kinds[name] = "number" if numeric else "category"
    return kinds


def _typed(row: CustomerRow, names: list[str], kinds: dict[str, str]) -> dict:
    typed = {}
    for name, text in zip(names, row.cells, strict=True):
        if text in EMPTY_MARKERS:
            typed[name] = None
        else:
            typed[name] = _number(text) if kinds[name] == "number" else text
    return typed


@dataclass
class ExperimentImportOutcome(importing.ImportOutcome):
    experiment_id: int | None = None
    name: str = ""
    control: str = ""
    arm_sizes: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)  # name → "number" | "category"
    outcomes: list[str] = field(default_factory=list)


def _check_experiment(
    source: ExperimentFile,
    outcome: ExperimentImportOutcome,
    rows: list[CustomerRow],
    name: str,
    control: str,
    follows: str = "",
) -> None:
    """What only the whole file can tell: the control is one of its arms, there are two arms, the name is new,
    the test it follows up (if any) exists."""
    line = source.header_line
    if not name.strip():
        source.problem(line, "name", "", "the experiment needs a name")
    elif len(name) > MAX_NAME:
        source.problem(line, "name", name, f"longer than {MAX_NAME} characters")
    elif Experiment.objects.filter(name=name).exists():
        source.problem(line, "name", name, "an experiment of this name exists already; choose another name")
    if follows and not Experiment.objects.filter(name=follows).exists():
        source.problem(line, "follows", follows, "no experiment of this name to follow up")
    if not rows or source.problem_count:
        return
    sizes = Counter(row.arm for row in rows)
    outcome.arm_sizes = dict(sorted(sizes.items()))
    arms = ", ".join(sorted(sizes))
    if control not in sizes:
        source.problem(line, "control", control, f"not an arm of this file; its arms are {arms}")
    elif len(sizes) < 2:
        source.problem(line, ARM, arms, "a test needs the control and at least one other arm")
    for arm, count in sorted(sizes.items()):
        if count < MIN_ARM_CUSTOMERS:
            source.warn(f"arm {arm}: only {count} customers; its uplift will be too uncertain to act on")


def _attribute_warnings(source: ExperimentFile, rows: list[CustomerRow], kinds: dict[str, str]) -> None:
    for index, name in enumerate(source.attribute_names):
        if kinds.get(name) != "category":
            continue
        values = {row.cells[index] for row in rows} - {""}
        if len(values) > MAX_CATEGORIES:
            source.warn(
                f"{name}: {len(values):,} different values; audiences are never defined by it (too many values to "
                "read as a rule, like an id)"
            )


def import_experiment(
    *,
    stream: BinaryIO,
    filename: str,
    name: str,
    control: str,
    actor=None,
    label: str | None = None,
    dry_run: bool = False,
    run: ImportRun | None = None,
    size_bytes: int = 0,
    on_progress=None,
    analyse: bool = True,
    follows: str = "",
) -> ExperimentImportOutcome:
    """Validate and store one test in one transaction; any problem writes nothing, nor does a dry run. On success
    the audit event and the finished ImportRun commit with it, and the analysis is queued for after the commit
    (unless `analyse` is off: the demo seeder analyses its test itself)."""
    source = ExperimentFile(stream)
    outcome = ExperimentImportOutcome(filename=filename, dry_run=dry_run, name=name, control=control)
    rows = []
    reported_at = 0
    for row in source.rows():
        if not source.problem_count:
            rows.append(row)
        if on_progress is not None and source.rows_read - reported_at >= BATCH_ROWS:
            reported_at = source.rows_read
            on_progress(source.bytes_read, source.rows_read)
    if source.problem_count:
        rows = []
    _check_experiment(source, outcome, rows, name, control, follows)
    kinds = attribute_kinds(source.attribute_names, rows) if rows else {}
    _attribute_warnings(source, rows, kinds)
    outcome.bytes_read, outcome.rows_read = source.bytes_read, source.rows_read
    outcome.columns = list(source.labels.values()) + source.attribute_names
    outcome.problems = [str(problem) for problem in source.problems]
    outcome.problem_count = source.problem_count
    outcome.warnings = source.warnings
    outcome.attributes, outcome.outcomes = kinds, source.outcome_columns
    if not outcome.ok:
        outcome.arm_sizes = {}
        return outcome
    outcome.rows_written = len(rows)
    if dry_run:
        return outcome
    with transaction.atomic():
        experiment = _store(outcome, source, rows, kinds, actor=actor, follows=follows)
        run = run or ImportRun(filename=filename, size_bytes=size_bytes, uploaded_by=actor, kind="experiment")
        run = importing.finish_run(run, outcome)
        Experiment.objects.filter(pk=experiment.pk).update(import_run=run)
        audit_events.experiment_imported(
            experiment=experiment, actor=actor, label=label, filename=filename, import_run=run.pk
        )
        if analyse:
            _queue_analysis(experiment.pk)
    outcome.experiment_id = experiment.pk
    return outcome


def _store(outcome: ExperimentImportOutcome, source: ExperimentFile, rows, kinds, *, actor, follows="") -> Experiment:
    experiment = Experiment.objects.create(
        follows=Experiment.objects.filter(name=follows).first() if follows else None,
        name=outcome.name,
        control_arm=outcome.control,
        outcomes=outcome.outcomes,
        attributes=kinds,
        arm_sizes=outcome.arm_sizes,
        customers=len(rows),
        imported_by=actor,
    )
    ExperimentAction.objects.bulk_create(
        [ExperimentAction(experiment=experiment, arm=arm, name=arm) for arm in outcome.arm_sizes]
    )
    names = source.attribute_names
    for start in range(0, len(rows), BATCH_ROWS):
        _insert_customers(
            [
                (
                    experiment.pk,
                    row.customer_id,
                    row.arm,
                    *(row.outcomes.get(name) for name in OUTCOME_COLUMNS),
                    json.dumps(_typed(row, names, kinds)),
                )
                for row in rows[start : start + BATCH_ROWS]
            ]
        )
        importing.forget_debug_queries()
    return experiment


# The columns _insert_customers writes, in its tuples' order.
CUSTOMER_COLUMNS = ("experiment_id", "customer_id", "arm", *OUTCOME_COLUMNS, "attributes")


def _insert_customers(values: list[tuple]) -> None:
    """Plain INSERTs (COPY on PostgreSQL): bulk_create spent most of a 40,000-customer import preparing each
    field of each model instance in Python."""
    table = connection.ops.quote_name(ExperimentCustomer._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in CUSTOMER_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(CUSTOMER_COLUMNS))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608 (names)


def _queue_analysis(experiment_id: int) -> None:
    # Imported here: the analysis pulls in the engine (scikit-learn); the command need not wait for it to read rows.
    from decisions.experiments.analysing import analysis_queue

    analysis_queue(experiment_id)


def experiment_run_execute(
    *, run: ImportRun, name: str, control: str, follows: str = "", stream: BinaryIO | None = None
) -> ExperimentImportOutcome:
    """Import the upload's test from `stream`, or from the run's stored file (a queued upload), keeping its run's
    status and problems up to date (as the other uploads do)."""
    return importing.run_execute(
        run,
        stream,
        import_experiment,
        outcome_type=ExperimentImportOutcome,
        name=name,
        control=control,
        follows=follows,
    )
