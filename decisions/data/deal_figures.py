"""Importing CRM deals, and the per-campaign daily pipeline and closed revenue derived from them.

`import_deals` upserts each deal per (source, deal id) — a later export re-stages, re-prices and closes deals —
then derives the daily figures again from every stored deal, all in one transaction: any bad row writes
nothing, as in every import. Pipeline value counts on a deal's create date (weighted by its chance to close
when WAYPOINT_DEAL_PIPELINE_WEIGHTED is on), closed revenue on the close date of won deals.

Provenance: `DealFigure` records what the last derivation wrote into each DailyMetric cell. The next one
clears and rewrites only cells still holding that value; a cell another kind of file supplied (a performance
import's pipeline_value) is kept and counted. A separate table, rather than a marker column on DailyMetric,
keeps the performance import unaware of deals, and a later performance file that overwrites a cell takes it
over without telling anyone: its value no longer equals the recorded one.

Deals that credit no campaign (no reference; unmatched ones too unless WAYPOINT_DEALS_UNMATCHED_TO_TOTALS is
off) go to `DailyTotal` rows of source "deals", the channel-mix mode's outcome, replaced the same way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.data import importing
from decisions.data.deal_matching import BY_ALIAS, Resolver, matches_directly
from decisions.data.deals import DealFile, DealRow, reference_key
from decisions.models import Campaign, CampaignAlias, DailyMetric, DailyTotal, Deal, DealFigure, ImportRun

TOTALS_SOURCE = "deals"
BATCH_ROWS = 2000
UPDATE_BATCH = 500
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEAL_FIELDS = (
    "name",
    "stage",
    "amount",
    "created_date",
    "close_date",
    "won",
    "probability",
    "campaign_ref",
    "campaign_ref_key",
    "campaign",
    "matched_by",
    "updated_at",
)
MAX_LISTED_STAGES = 20


@dataclass
class Derived:
    """What one derivation did to DailyMetric and DailyTotal."""

    cells_written: int = 0  # pipeline_value or closed_revenue cells set or cleared
    cells_kept: int = 0  # cells another kind of file supplied: left alone
    rows_created: int = 0  # days a campaign had deals but no DailyMetric row
    total_days: int = 0  # DailyTotal days of unattributed value


@dataclass
class DealImportOutcome(importing.ImportOutcome):
    source: str = ""
    source_label: str = ""
    deals_created: int = 0
    deals_updated: int = 0
    restaged: int = 0  # deals already stored whose stage this file changed
    duplicates: int = 0  # rows naming a deal an earlier row of the file named (the later row is used)
    matched: int = 0
    unmatched_deals: int = 0
    without_campaign: int = 0
    derived: Derived = field(default_factory=Derived)

    def counts(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "deals": self.rows_written,
            "created": self.deals_created,
            "updated": self.deals_updated,
            "restaged": self.restaged,
            "duplicates": self.duplicates,
            "matched": self.matched,
            "unmatched": self.unmatched_deals,
            "without_campaign": self.without_campaign,
            **asdict(self.derived),
        }


def _stage_probabilities() -> dict[str, float]:
    return getattr(settings, "WAYPOINT_DEAL_STAGE_PROBABILITIES", {})


def import_deals(
    *,
    stream: BinaryIO,
    filename: str,
    actor=None,
    label: str | None = None,
    dry_run: bool = False,
    campaign_column: str | None = None,
    run: ImportRun | None = None,
    size_bytes: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
    follow_ups: bool = True,
) -> DealImportOutcome:
    """Validate and upsert one deals export, then derive the daily figures, in one transaction; any problem
    writes nothing, nor does a dry run. On success the audit event and the finished ImportRun commit with it."""
    source = DealFile(stream, campaign_column=campaign_column, stage_probabilities=_stage_probabilities())
    outcome = DealImportOutcome(filename=filename, dry_run=dry_run)
    scope = contextlib.nullcontext() if dry_run else transaction.atomic()
    with contextlib.suppress(importing.RollBack), scope:
        _stream_deals(source, outcome=outcome, dry_run=dry_run, on_progress=on_progress)
        if not outcome.ok or dry_run:
            raise importing.RollBack
        outcome.derived = deal_figures_derive()
        run = run or ImportRun(filename=filename, size_bytes=size_bytes, uploaded_by=actor, kind="deals")
        run = importing.finish_run(run, outcome)
        audit_events.deals_imported(
            actor=actor,
            label=label,
            filename=filename,
            source=outcome.source,
            counts=outcome.counts(),
            import_run=run.pk,
            bytes_read=outcome.bytes_read,
        )
        if follow_ups:  # off for the demo seeder, which fills an empty database: nothing to refresh yet
            importing.queue_follow_ups(trigger="deals import")
    return outcome


class _DealWriter:
    def __init__(self, source: str, *, dry_run: bool):
        self.source = source
        self.dry_run = dry_run
        self.resolver = Resolver()
        self.outcome_counts = dict.fromkeys(("created", "updated", "restaged", "matched", "unmatched", "none"), 0)

    def write(self, batch: list[DealRow]) -> None:
        unique = {row.deal_id: row for row in batch}  # the later row of a duplicate wins
        stored = dict(Deal.objects.filter(source=self.source, deal_id__in=list(unique)).values_list("deal_id", "stage"))
        counts = self.outcome_counts
        now = timezone.now()
        deals = []
        for row in unique.values():
            if row.deal_id in stored:
                counts["updated"] += 1
                counts["restaged"] += stored[row.deal_id] != row.stage
            else:
                counts["created"] += 1
            match = self.resolver.match(row.campaign_ref)
            counts["matched" if match.campaign_id else "unmatched" if row.campaign_ref else "none"] += 1
            deals.append(
                (
                    self.source,
                    row.deal_id,
                    row.name,
                    row.stage,
                    row.amount,
                    row.created,
                    row.closed,
                    row.won,
                    row.probability,
                    row.campaign_ref,
                    reference_key(row.campaign_ref),
                    match.campaign_id,
                    match.matched_by,
                    now,
                )
            )
        if not self.dry_run:
            _upsert_deals(deals)


# The columns _upsert_deals writes, in its tuples' order.
UPSERT_COLUMNS = ("source", "deal_id", *(f"{name}_id" if name == "campaign" else name for name in DEAL_FIELDS))
UPSERT_BATCH = 500  # 14 parameters a row: well under SQLite's and PostgreSQL's limits


def _upsert_deals(deals: list[tuple]) -> None:
    """INSERT … ON CONFLICT (source, deal_id) DO UPDATE, which SQLite and PostgreSQL both speak: bulk_create
    spent most of a 500,000-deal import preparing each field of each model instance in Python."""
    table = connection.ops.quote_name(Deal._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in UPSERT_COLUMNS)
    updates = ", ".join(
        f"{connection.ops.quote_name(name)} = excluded.{connection.ops.quote_name(name)}" for name in UPSERT_COLUMNS[2:]
    )
    if connection.vendor == "postgresql":
        _upsert_deals_by_copy(deals, table=table, columns=columns, updates=updates)
        return
    row = "(" + ", ".join(["%s"] * len(UPSERT_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(deals), UPSERT_BATCH):
            chunk = deals[start : start + UPSERT_BATCH]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))} "  # noqa: S608 (names, placeholders)
                f"ON CONFLICT (source, deal_id) DO UPDATE SET {updates}",
                [value for deal in chunk for value in deal],
            )


def _upsert_deals_by_copy(deals: list[tuple], *, table: str, columns: str, updates: str) -> None:
    """PostgreSQL: COPY the batch into a temporary table, then one INSERT … SELECT … ON CONFLICT. Statements of
    thousands of placeholders cost more there: psycopg parses any query too long for its cache in Python, which
    took the client twice SQLite's whole import time."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS deal_upsert ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608 (names only)
        )
        cursor.execute("TRUNCATE deal_upsert")
        with cursor.cursor.copy(f"COPY deal_upsert ({columns}) FROM STDIN") as copy:
            for deal in deals:
                copy.write_row(deal)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM deal_upsert "  # noqa: S608 (names only)
            f"ON CONFLICT (source, deal_id) DO UPDATE SET {updates}"
        )


def _stream_deals(source: DealFile, *, outcome: DealImportOutcome, dry_run: bool, on_progress) -> None:
    writer: _DealWriter | None = None
    first_lines: dict[str, int] = {}  # deal id → the line that first named it, for duplicates across batches
    batch: list[DealRow] = []
    reported_at = 0
    for row in source.rows():
        if writer is None:
            writer = _DealWriter(source.format, dry_run=dry_run)
        first = first_lines.setdefault(row.deal_id, row.line)
        if first != row.line:
            outcome.duplicates += 1
            source.warn(f"line {row.line}: deal {row.deal_id} again (first on line {first}); the later row is used")
        if source.problem_count:
            batch.clear()  # nothing more is written, but every row is still checked and reported
        else:
            batch.append(row)
        if len(batch) >= BATCH_ROWS:
            writer.write(batch)
            batch = []
            importing.forget_debug_queries()
        if on_progress is not None and source.rows_read - reported_at >= BATCH_ROWS:
            reported_at = source.rows_read
            on_progress(source.bytes_read, source.rows_read)
    if writer is not None and not source.problem_count and batch:
        writer.write(batch)
    outcome.source, outcome.source_label = source.format, source.format_label
    outcome.bytes_read, outcome.rows_read = source.bytes_read, source.rows_read
    outcome.columns = list(source.labels.values())
    outcome.problems = [str(problem) for problem in source.problems]
    outcome.problem_count = source.problem_count
    outcome.warnings = _stage_warnings(source) + source.warnings
    if writer is None or not outcome.ok:
        return
    counts = writer.outcome_counts
    outcome.deals_created, outcome.deals_updated, outcome.restaged = (
        counts["created"],
        counts["updated"],
        counts["restaged"],
    )
    outcome.matched, outcome.unmatched_deals, outcome.without_campaign = (
        counts["matched"],
        counts["unmatched"],
        counts["none"],
    )
    outcome.rows_written = counts["created"] + counts["updated"]


def _stage_warnings(source: DealFile) -> list[str]:
    if not source.unknown_stages or not getattr(settings, "WAYPOINT_DEAL_PIPELINE_WEIGHTED", False):
        return []
    listed = sorted(source.unknown_stages.items(), key=lambda item: -item[1])[:MAX_LISTED_STAGES]
    named = ", ".join(f"{stage} ({count})" for stage, count in listed)
    return [
        f"stages with no known probability, counted in full in the weighted pipeline: {named}; "
        "set them in WAYPOINT_DEAL_STAGE_PROBABILITIES"
    ]


# --- deriving the daily figures ------------------------------------------------------------------


def _cents(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _pipeline_sum():
    if not getattr(settings, "WAYPOINT_DEAL_PIPELINE_WEIGHTED", False):
        return Sum("amount")
    number = DecimalField(max_digits=24, decimal_places=6)
    weight = Coalesce("probability", Value(Decimal(1)), output_field=number)
    return Sum(F("amount") * weight, output_field=number)


def _by_day(deals, day: str, value) -> dict[tuple, Decimal]:
    rows = deals.order_by().values("campaign_id", day).annotate(value=value).values_list("campaign_id", day, "value")
    return {(campaign, date): _cents(total) for campaign, date, total in rows if total is not None}


def _span(deals, day: str) -> tuple[dt.date, dt.date] | None:
    bounds = deals.aggregate(first=Min(day), last=Max(day))
    return (bounds["first"], bounds["last"]) if bounds["first"] else None


FIGURES = ("pipeline_value", "closed_revenue")


@transaction.atomic
def deal_figures_derive() -> Derived:
    """Replace every figure an earlier derivation wrote with what the stored deals say now.

    A matched campaign's day inside the span the deals cover (create dates for pipeline, close dates of won
    deals for closed revenue) with no deal is 0, not unknown: the export would have named its deals.
    Rows travel as tuples, not model instances: a year of 200 campaigns is 73,000 of them.
    """
    matched = Deal.objects.filter(amount__isnull=False, campaign__isnull=False)
    won = Deal.objects.filter(won=True, close_date__isnull=False)
    targets = (
        (_by_day(matched, "created_date", _pipeline_sum()), _span(Deal.objects, "created_date")),
        (_by_day(matched.filter(won=True), "close_date", Sum("amount")), _span(won, "close_date")),
    )
    campaigns = {key[0] for figures, _ in targets for key in figures}
    old = {
        (campaign, date): (pipeline, closed)
        for campaign, date, pipeline, closed in DealFigure.objects.values_list("campaign_id", "date", *FIGURES)
    }
    derived = Derived()
    recorded: dict[tuple, list] = {}
    changed: list[tuple] = []
    seen: set[tuple] = set()
    for pk, campaign, date, *current in _rows_to_consider(campaigns, old, targets):
        key = (campaign, date)
        seen.add(key)
        values, ours, touched = list(current), old.get(key, (None, None)), False
        for index, (figures, span) in enumerate(targets):
            target = figures.get(key)
            if target is None and campaign in campaigns and span and span[0] <= date <= span[1]:
                target = ZERO
            if current[index] is not None and current[index] != ours[index]:
                derived.cells_kept += target is not None  # another kind of file supplied it
                continue
            if target is not None:
                recorded.setdefault(key, [None, None])[index] = target
            if current[index] != target:
                values[index], touched = target, True
                derived.cells_written += 1
        if touched:
            changed.append((pk, *values))
    _write_cells(changed)
    new_rows = _rows_for_days_without_one(targets, seen, recorded)
    DailyMetric.objects.bulk_create(new_rows, batch_size=BATCH_ROWS)
    derived.rows_created = len(new_rows)
    derived.cells_written += sum(
        (row.pipeline_value is not None) + (row.closed_revenue is not None) for row in new_rows
    )
    DealFigure.objects.all().delete()
    _insert(DealFigure, ("campaign_id", "date", *FIGURES), [(*key, *values) for key, values in recorded.items()])
    derived.total_days = _replace_daily_totals()
    return derived


def _execute_in_batches(sql: Callable[[int], str], rows: list[tuple]) -> None:
    """Run `sql(n)` (a statement with n rows of placeholders) over `rows`, UPDATE_BATCH at a time."""
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPDATE_BATCH):
            chunk = rows[start : start + UPDATE_BATCH]
            cursor.execute(sql(len(chunk)), [value for row in chunk for value in row])
            importing.forget_debug_queries()


def _placeholders(width: int, count: int) -> str:
    return ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * count)


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    _execute_in_batches(
        lambda n: f"INSERT INTO {table} ({names}) VALUES {_placeholders(len(columns), n)}",  # noqa: S608 (names only)
        rows,
    )


def _write_cells(rows: list[tuple]) -> None:
    """(pk, pipeline_value, closed_revenue) rows, one statement per batch: UPDATE … FROM (VALUES …), which SQLite
    (3.33+) and PostgreSQL both run, where bulk_update's CASE expressions took seconds for 7,200 rows."""
    table = connection.ops.quote_name(DailyMetric._meta.db_table)
    _execute_in_batches(
        lambda n: (
            f"UPDATE {table} SET pipeline_value = CAST(v.column2 AS NUMERIC), "  # noqa: S608 (names, placeholders)
            f"closed_revenue = CAST(v.column3 AS NUMERIC) FROM (VALUES {_placeholders(3, n)}) AS v "
            f"WHERE {table}.id = v.column1"
        ),
        rows,
    )


def _rows_to_consider(campaigns: set[int], old: dict, targets: tuple):
    """(pk, campaign, date, pipeline_value, closed_revenue) of the DailyMetric rows of the matched campaigns
    inside the deals' spans, and of the rows figures were written to last time."""
    spans = [span for _, span in targets if span]
    wanted = Q(pk__in=[])
    if campaigns and spans:
        first, last = min(span[0] for span in spans), max(span[1] for span in spans)
        wanted |= Q(campaign_id__in=campaigns, date__range=(first, last))
    if old:
        dates = [key[1] for key in old]
        wanted |= Q(campaign_id__in={key[0] for key in old}, date__range=(min(dates), max(dates)))
    rows = DailyMetric.objects.filter(wanted).order_by().values_list("pk", "campaign_id", "date", *FIGURES)
    for row in rows.iterator(chunk_size=BATCH_ROWS):
        if row[1] in campaigns or (row[1], row[2]) in old:
            yield row


def _rows_for_days_without_one(targets: tuple, seen: set, recorded: dict) -> list[DailyMetric]:
    """A day a campaign had deals but no ad data yet: a row with only the CRM's figures (the rest unknown)."""
    fresh: dict[tuple, list] = {}
    for index, (figures, _) in enumerate(targets):
        for key, value in figures.items():
            if key not in seen:
                fresh.setdefault(key, [None, None])[index] = value
    recorded.update(fresh)
    return [
        DailyMetric(campaign_id=key[0], date=key[1], pipeline_value=values[0], closed_revenue=values[1])
        for key, values in fresh.items()
    ]


def _replace_daily_totals() -> int:
    unattributed = Deal.objects.filter(campaign__isnull=True, amount__isnull=False)
    if not getattr(settings, "WAYPOINT_DEALS_UNMATCHED_TO_TOTALS", True):
        unattributed = unattributed.filter(campaign_ref_key="")
    days: dict[dt.date, DailyTotal] = {}
    pipeline = (
        unattributed.order_by().values("created_date").annotate(value=_pipeline_sum(), deals=Count("pk"))
    ).values_list("created_date", "value", "deals")
    for date, value, count in pipeline:
        days[date] = DailyTotal(date=date, source=TOTALS_SOURCE, pipeline_value=_cents(value), deals=count)
    closed = (
        unattributed.filter(won=True, close_date__isnull=False)
        .order_by()
        .values("close_date")
        .annotate(value=Sum("amount"))
        .values_list("close_date", "value")
    )
    for date, value in closed:
        days.setdefault(date, DailyTotal(date=date, source=TOTALS_SOURCE)).closed_revenue = _cents(value)
    DailyTotal.objects.filter(source=TOTALS_SOURCE).delete()
    DailyTotal.objects.bulk_create(days.values(), batch_size=BATCH_ROWS)
    return len(days)


# --- the alias table -------------------------------------------------------------------------------


class AliasStateError(Exception):
    """The alias cannot be added or removed as asked (it exists, is gone, or would never be read)."""


@transaction.atomic
def campaign_alias_add(*, reference: str, campaign: Campaign, actor) -> CampaignAlias:
    """Name `campaign` by a CRM's `reference`; the stored deals it matches follow, and the figures with them."""
    reference = " ".join(reference.split())
    if not reference:
        raise ValidationError("Write the name the CRM uses.")
    key = reference_key(reference)
    existing = CampaignAlias.objects.select_related("campaign").filter(reference_key=key).first()
    if existing is not None:
        raise AliasStateError(f"“{reference}” already means {existing.campaign}: remove that alias first.")
    direct = matches_directly(reference)
    if direct is not None:
        raise AliasStateError(f"“{reference}” already matches {direct} by its id or name; no alias is needed.")
    if campaign.is_archived:
        raise AliasStateError(f"{campaign} is archived: restore it before pointing deals at it.")
    alias = CampaignAlias.objects.create(reference=reference, reference_key=key, campaign=campaign, created_by=actor)
    deals = Deal.objects.filter(campaign_ref_key=key, campaign__isnull=True).update(
        campaign=campaign, matched_by=BY_ALIAS, updated_at=timezone.now()
    )
    _after_alias_change(alias, actor=actor, added=True, deals=deals)
    return alias


@transaction.atomic
def campaign_alias_remove(*, alias_id: int, actor) -> CampaignAlias:
    """Forget an alias; the deals it matched become unmatched again (listed, their value in the daily totals)."""
    alias = CampaignAlias.objects.select_related("campaign").filter(pk=alias_id).first()
    if alias is None or CampaignAlias.objects.filter(pk=alias_id).delete()[0] == 0:
        raise AliasStateError("That alias was already removed.")
    deals = Deal.objects.filter(campaign_ref_key=alias.reference_key, matched_by=BY_ALIAS).update(
        campaign=None, matched_by="", updated_at=timezone.now()
    )
    _after_alias_change(alias, actor=actor, added=False, deals=deals)
    return alias


def _after_alias_change(alias: CampaignAlias, *, actor, added: bool, deals: int) -> None:
    if deals:
        deal_figures_derive()
        importing.queue_follow_ups(trigger="deal alias change")
    audit_events.campaign_alias_changed(alias=alias, actor=actor, added=added, deals=deals)


# --- runs followed by the upload page (the performance import's ImportRun and progress) --------------


def deal_run_execute(
    *, run: ImportRun, stream: BinaryIO | None = None, campaign_column: str | None = None
) -> DealImportOutcome:
    """Import the run's deals file (or `stream`), keeping the run's status and progress up to date."""
    return importing.run_execute(
        run, stream, import_deals, outcome_type=DealImportOutcome, campaign_column=campaign_column
    )
