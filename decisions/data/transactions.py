"""Customer transactions: importing them, and deriving each campaign's daily customer lifetime value from them.

A file has one row per purchase: `customer_id`, `date`, `amount` and, optionally, `campaign_id` (the campaign that
acquired the customer; read from the customer's first purchase). It fails as the performance import does: every
bad row listed by line, nothing written. An import replaces the stored transactions on the days the file covers
(its first day to its last), so importing a file twice, or a corrected one, never counts a purchase twice.

After each import (in the same transaction) the lifetime value model (decisions/engine/clv.py) is fitted on every
stored transaction and each customer's value over their first year is written, summed by acquiring campaign and
first-purchase day, into DailyMetric.customer_lifetime_value: the figure the engine's curves are fitted to when the
objective is customer lifetime value. Days inside the transactions' span on which a campaign acquired nobody are 0;
outside it, unknown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min

from decisions.audit import events as audit_events
from decisions.data import importing
from decisions.data.importing import EMPTY_MARKERS, normalise_header
from decisions.models import Campaign, DailyMetric, ImportRun, LifetimeValueFit, Transaction

COLUMNS = {
    "customer_id": ("customer id", "customer", "customer number"),
    "date": ("date", "order date", "purchase date", "transaction date"),
    "amount": ("amount", "revenue", "value", "order value", "total"),
    "campaign_id": ("campaign id", "campaign", "acquisition campaign"),
}
REQUIRED = ("customer_id", "date", "amount")
MAX_CUSTOMER_ID = 128
MAX_CAMPAIGN_ID = 64
MAX_LISTED_UNMATCHED = 20
BATCH_ROWS = 2000


def lifetime_days() -> int:
    return int(getattr(settings, "WAYPOINT_CLV_LIFETIME_DAYS", 365))


@dataclass(frozen=True)
class TransactionRow:
    line: int
    customer_id: str
    date: dt.date
    amount: Decimal
    campaign_ref: str


def _text(limit: int, *, required: bool) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text in EMPTY_MARKERS:
            if required:
                raise ValueError("required")
            return ""
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text

    return parse


def _amount(text: str) -> Decimal:
    value = importing.parse_money(text)
    if value is None:
        raise ValueError("required")
    return value


PARSERS = {
    "customer_id": _text(MAX_CUSTOMER_ID, required=True),
    "date": importing.parse_date,
    "amount": _amount,
    "campaign_id": _text(MAX_CAMPAIGN_ID, required=False),
}


class TransactionFile(importing.PerformanceFile):
    """A streaming pass over a transactions CSV; `rows()` (the performance file's loop) yields TransactionRows."""

    def _read_header(self, reader) -> bool:
        for cells in reader:
            headers = [normalise_header(cell) for cell in cells]
            if sum(any(h in names for names in COLUMNS.values()) for h in headers) >= 2:
                return self._use_header(reader.line_num, cells)
            if reader.line_num >= importing.HEADER_SEARCH_ROWS:
                break
        if self.problem_count == 0:
            self.problem(1, "header", "", "no header row with customer_id, date and amount columns found")
        return False

    def _use_header(self, line: int, cells: list[str]) -> bool:
        self._header_width = len(cells)
        for index, label in enumerate(cells):
            key = normalise_header(label)
            name = next((name for name, names in COLUMNS.items() if key in names), None)
            if name is None:
                if label.strip():
                    self.warn(f"line {line}: {label.strip()}: unknown column, ignored")
                continue
            if name in self.columns:
                self.problem(line, label.strip(), "", f"a second {name} column (also {self.labels[name]})")
                continue
            self.columns[name], self.labels[name] = index, label.strip()
        for name in REQUIRED:
            if name not in self.columns:
                self.problem(line, name, "", "required column missing")
        return self.problem_count == 0

    def _is_total(self, cells: list[str]) -> bool:
        return False

    def _parse(self, line: int, cells: list[str]) -> TransactionRow | None:
        values = self._values(line, cells, PARSERS)
        if values is None:
            return None
        return TransactionRow(
            line=line,
            customer_id=values["customer_id"],
            date=values["date"],
            amount=values["amount"],
            campaign_ref=values.get("campaign_id", ""),
        )


@dataclass
class TransactionImportOutcome(importing.ImportOutcome):
    customers: int = 0
    replaced: int = 0  # stored transactions on the file's days, replaced by the file's
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    fit: LifetimeValueFit | None = None
    unmatched_campaigns: list[str] = field(default_factory=list)


def import_transactions(
    *,
    stream: BinaryIO,
    filename: str,
    actor=None,
    label: str | None = None,
    dry_run: bool = False,
    run: ImportRun | None = None,
    size_bytes: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
    follow_ups: bool = True,
) -> TransactionImportOutcome:
    """Validate one transactions file and replace the stored transactions on its days, then fit the lifetime
    value model and derive the campaigns' daily figures, in one transaction; any problem writes nothing, nor
    does a dry run."""
    source = TransactionFile(stream)
    outcome = TransactionImportOutcome(filename=filename, dry_run=dry_run)
    rows = _read(source, outcome, on_progress)
    scope = contextlib.nullcontext() if dry_run else transaction.atomic()
    with contextlib.suppress(importing.RollBack), scope:
        campaigns = _campaigns_named(rows)
        named = {row.campaign_ref for row in rows if row.campaign_ref}
        outcome.unmatched_campaigns = sorted(named - campaigns.keys())
        if outcome.unmatched_campaigns:
            listed = ", ".join(outcome.unmatched_campaigns[:MAX_LISTED_UNMATCHED])
            outcome.warnings.insert(
                0,
                f"{len(outcome.unmatched_campaigns)} campaign ids match no campaign ({listed}): their customers "
                "are imported but credited to no campaign until a performance import creates it.",
            )
        if not outcome.ok or dry_run:
            raise importing.RollBack
        outcome.replaced = _replace(rows, campaigns)
        outcome.rows_written = len(rows)
        outcome.fit = lifetime_values_derive()
        run = run or ImportRun(filename=filename, size_bytes=size_bytes, uploaded_by=actor, kind="transactions")
        run = importing.finish_run(run, outcome)
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
        if follow_ups:  # off for the demo seeder, which fills an empty database: nothing to refresh yet
            # New lifetime values move the figures behind outcomes and verdicts when they are the objective.
            importing.queue_follow_ups(trigger="transactions import")
            # Tests judged in lifetime value are judged again with the new values.
            from decisions.experiments.analysing import reanalyse_tests_judged_in_lifetime_value

            reanalyse_tests_judged_in_lifetime_value()
    return outcome


def _read(source: TransactionFile, outcome: TransactionImportOutcome, on_progress) -> list[TransactionRow]:
    rows = []
    for row in source.rows():
        if not source.problem_count:
            rows.append(row)
        if on_progress is not None and source.rows_read % BATCH_ROWS == 0:
            on_progress(source.bytes_read, source.rows_read)
    outcome.bytes_read, outcome.rows_read = source.bytes_read, source.rows_read
    outcome.columns = list(source.columns)
    outcome.problems = [str(problem) for problem in source.problems]
    outcome.problem_count = source.problem_count
    outcome.warnings = list(source.warnings)
    if source.problem_count:
        return []
    outcome.customers = len({row.customer_id for row in rows})
    outcome.first_day = min(row.date for row in rows)
    outcome.last_day = max(row.date for row in rows)
    return rows


def _campaigns_named(rows: list[TransactionRow]) -> dict[str, int]:
    refs = {row.campaign_ref for row in rows if row.campaign_ref}
    return dict(Campaign.objects.filter(external_id__in=refs).values_list("external_id", "pk"))


def _replace(rows: list[TransactionRow], campaigns: dict[str, int]) -> int:
    first, last = min(row.date for row in rows), max(row.date for row in rows)
    replaced, _ = Transaction.objects.filter(date__gte=first, date__lte=last).delete()
    # A prepared INSERT, many times: the ORM's bulk_create spends most of an import building its statements.
    table = Transaction._meta.db_table
    sql = f"INSERT INTO {table} (customer_id, date, amount, campaign_ref, campaign_id) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_ROWS):
            cursor.executemany(
                sql,
                [
                    (row.customer_id, row.date, row.amount, row.campaign_ref, campaigns.get(row.campaign_ref))
                    for row in rows[start : start + BATCH_ROWS]
                ],
            )
            importing.forget_debug_queries()
    return replaced


# --- the model's figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredTransactions:
    """Every stored transaction up to a day, as arrays (days counted from `origin`)."""

    origin: dt.date
    customer_ids: np.ndarray
    days: np.ndarray
    amounts: np.ndarray
    campaign_ids: np.ndarray  # Campaign pk, 0 for none

    def __len__(self) -> int:
        return len(self.days)


def last_transaction_day() -> dt.date | None:
    return Transaction.objects.aggregate(last=Max("date"))["last"]


def stored_transactions(*, as_of: dt.date) -> StoredTransactions:
    rows = list(
        Transaction.objects.filter(date__lte=as_of)
        .order_by()
        .values_list("customer_id", "date", "amount", "campaign_id")
        .iterator(chunk_size=10000)
    )
    origin = min((row[1] for row in rows), default=as_of)
    return StoredTransactions(
        origin=origin,
        customer_ids=np.array([row[0] for row in rows], dtype=object).astype(str),
        days=np.array([(row[1] - origin).days for row in rows], dtype=np.int64),
        amounts=np.array([float(row[2]) for row in rows], dtype=float),
        campaign_ids=np.array([row[3] or 0 for row in rows], dtype=np.int64),
    )


def customer_predictions(*, as_of: dt.date, horizon_days: int):
    """Each customer's expected purchases and value over the `horizon_days` after `as_of`, and P(alive), from the
    transactions up to `as_of`. Raises ValueError when the transactions cannot carry a model."""
    from decisions.engine import clv

    stored = stored_transactions(as_of=as_of)
    if not len(stored):
        raise ValueError(f"no transactions on or before {as_of.isoformat()}")
    model, summary = clv.fit_transactions(
        stored.customer_ids, stored.days, stored.amounts, as_of=(as_of - stored.origin).days
    )
    return clv.predict(model, summary, horizon_days=horizon_days)


def lifetime_values_derive() -> LifetimeValueFit:
    """Fit the model on every stored transaction and rewrite DailyMetric.customer_lifetime_value from it."""
    DailyMetric.objects.filter(customer_lifetime_value__isnull=False).update(customer_lifetime_value=None)
    fitted = _lifetime_values()
    fit = fitted.fit
    if fitted.values is not None:
        acquired_by = _acquiring_campaigns(fitted.stored, fitted.summary)
        fit.acquired = int((acquired_by > 0).sum())
        _write_daily(
            fitted.stored.origin,
            fitted.summary.first_day,
            acquired_by,
            fitted.values,
            first=fitted.stored.origin,
            last=fit.as_of,
        )
    fit.save()
    return fit


def customer_lifetime_values() -> dict[str, float]:
    """Each customer's lifetime value, by customer id, as campaigns' lifetime value counts it (what they spent in
    their first WAYPOINT_CLV_LIFETIME_DAYS so far plus what the model expects in the rest); {} when no model can
    be fitted. What a test's outcome is when it is judged in lifetime value (decisions/experiments/analysing.py)."""
    fitted = _lifetime_values()
    if fitted.values is None:
        return {}
    return dict(zip(fitted.summary.customer_ids.tolist(), fitted.values.tolist(), strict=True))


@dataclass
class _Fitted:
    fit: LifetimeValueFit  # unsaved: what was fitted, or why nothing could be
    stored: StoredTransactions | None = None
    summary: object = None  # clv.Summary
    values: np.ndarray | None = None  # per customer of the summary


def _lifetime_values() -> _Fitted:
    """The model fitted on every stored transaction and each customer's lifetime value."""
    from decisions.engine import clv

    as_of, days = last_transaction_day(), lifetime_days()
    fit = LifetimeValueFit(as_of=as_of, lifetime_days=days)
    if as_of is None:
        fit.error = "no transactions imported"
        return _Fitted(fit)
    stored = stored_transactions(as_of=as_of)
    fit.transactions = len(stored)
    try:
        model, summary = clv.fit_transactions(
            stored.customer_ids, stored.days, stored.amounts, as_of=(as_of - stored.origin).days
        )
    except ValueError as error:
        fit.customers = len(set(stored.customer_ids))
        fit.error = str(error)
        return _Fitted(fit, stored)
    fit.customers = len(summary)
    values = clv.lifetime_values_from_transactions(
        model, summary, stored.customer_ids, stored.days, stored.amounts, lifetime_days=days
    )
    fit.params = {"model": clv.model_name(model), **vars(model.purchases), **vars(model.spend)}
    fit.mean_value = float(values.mean())
    return _Fitted(fit, stored, summary, values)


def _acquiring_campaigns(stored: StoredTransactions, summary) -> np.ndarray:
    """Each customer's acquiring campaign (pk; 0 for none): the campaign their first purchase day names."""
    index = np.searchsorted(summary.customer_ids, stored.customer_ids)
    on_first_day = (stored.days == summary.first_day[index]) & (stored.campaign_ids > 0)
    acquired = np.zeros(len(summary), dtype=np.int64)
    acquired[index[on_first_day]] = stored.campaign_ids[on_first_day]
    return acquired


def _write_daily(origin, first_day, acquired_by, values, *, first: dt.date, last: dt.date) -> None:
    """Sum the values by (campaign, first day); 0 on the span's other days of every campaign that has a row."""
    totals: dict[tuple[int, dt.date], Decimal] = {}
    for campaign, day, value in zip(acquired_by.tolist(), first_day.tolist(), values.tolist(), strict=True):
        if campaign:
            key = (campaign, origin + dt.timedelta(days=int(day)))
            totals[key] = totals.get(key, 0.0) + value
    DailyMetric.objects.filter(date__gte=first, date__lte=last).update(customer_lifetime_value=Decimal(0))
    existing = {
        (row.campaign_id, row.date): row
        for row in DailyMetric.objects.filter(
            campaign_id__in={c for c, _ in totals}, date__gte=first, date__lte=last
        ).only("pk", "campaign_id", "date")
    }
    changed, created = [], []
    for (campaign, day), value in totals.items():
        amount = Decimal(f"{value:.2f}")
        row = existing.get((campaign, day))
        if row is None:
            created.append(DailyMetric(campaign_id=campaign, date=day, customer_lifetime_value=amount))
        else:
            row.customer_lifetime_value = amount
            changed.append(row)
    # One prepared UPDATE per row: bulk_update's CASE over thousands of rows costs seconds to build.
    table = DailyMetric._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET customer_lifetime_value = %s WHERE id = %s",  # noqa: S608 - the model's own table
            [(row.customer_lifetime_value, row.pk) for row in changed],
        )
    DailyMetric.objects.bulk_create(created, batch_size=BATCH_ROWS)


# --- what the objectives page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class LifetimeValueStatus:
    transactions: int
    customers: int
    first_day: dt.date | None
    last_day: dt.date | None
    fit: LifetimeValueFit | None

    @property
    def ready(self) -> bool:
        return self.fit is not None and not self.fit.error


def lifetime_value_status() -> LifetimeValueStatus:
    figures = Transaction.objects.aggregate(
        transactions=Count("pk"), customers=Count("customer_id", distinct=True), first=Min("date"), last=Max("date")
    )
    return LifetimeValueStatus(
        transactions=figures["transactions"],
        customers=figures["customers"],
        first_day=figures["first"],
        last_day=figures["last"],
        fit=LifetimeValueFit.objects.first(),
    )


# --- runs followed by the upload page ---------------------------------------------------------------------


def transaction_run_execute(*, run: ImportRun, stream: BinaryIO | None = None) -> TransactionImportOutcome:
    return importing.run_execute(run, stream, import_transactions, outcome_type=TransactionImportOutcome)
