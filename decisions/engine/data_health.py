"""Data health: whether the imported numbers can be trusted, before the engine reads them as real.

Pure numpy on campaign × day matrices (NaN = no figure that day); no Django, no database. The service in
decisions/data/health.py loads the matrices and stores what this module finds.

Severities, and why:

- FAIL: the numbers are wrong in a way the engine would read as real and act on confidently — a tracking
  tag that broke (outcome near zero while spend and clicks go on), a whole source gone to zero on its last
  days (a failed CRM sync), a sudden unit jump (spend ×100). The engine does not move a campaign with a
  FAIL, and leaves a failed source's days out of the fit.
- REVIEW: the numbers may be right but deserve a look — a campaign that stopped converting gradually (a
  real business signal, which the anomaly test may act on), missing days, rows an import changed in the
  past, data several days old, low attribution coverage. Shown on the proposals they touch.
- INFO: worth knowing, never in the way.

Each break test compares a campaign with its own history: a day's outcome against what its spend bought
before. A trailing run of days far below that is improbable when such days were rare before: the chance is
taken as (rare share)^(run length), the share estimated with one pseudo-day each way so that a short
history never looks certain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np

FAIL, REVIEW, INFO = "FAIL", "REVIEW", "INFO"
SEVERITY_ORDER = {FAIL: 0, REVIEW: 1, INFO: 2}

# The check names, as exported (export_data_health) and stored.
TRACKING_BROKE = "tracking_broke"
STOPPED_CONVERTING = "stopped_converting"
SOURCE_ZERO = "source_zero"
UNIT_JUMP = "unit_jump"
MISSING_DAYS = "missing_days"
CHANGED_HISTORY = "changed_history"
STALE = "stale_data"
ATTRIBUTION = "attribution_coverage"
DEAL_COVERAGE = "deal_coverage"

LOW_SHARE = 0.2  # a day below a fifth of what its spend usually brings is a "low" day
MIN_RUN_DAYS = 3  # a break is a run of at least this many low days with spend
MAX_CHANCE = 1e-5  # a run this improbable under the campaign's own history is a break
NORMAL_BEFORE = 0.6  # the week before an abrupt break ran at least at this share of the usual
CLICKS_GO_ON = 0.5  # clicks per unit of spend in the break at least this share of the usual: traffic continues
MIN_HISTORY_DAYS = 14  # spending days with an outcome figure before the run, to know what is usual
SOURCE_MIN_DAYS = 2  # a whole source at zero for this many spending days is a failed sync
JUMP_FACTOR = 20.0  # a day ×20 its recent median (or ÷20) is a unit change, not a budget change
JUMP_BASE_DAYS = 14  # the recent median is over this many days with a figure before it
STALE_REVIEW_DAYS = 3  # the newest day this many days before today: data several days old
ATTRIBUTION_REVIEW = 0.9  # less of the recent spend than this with an outcome figure: coverage is low
DEAL_REVIEW, DEAL_INFO = 0.8, 0.95  # shares of deal value credited to a campaign
RECENT_DAYS = 28  # the window for coverage
DECLINE_DAYS = 21  # a gradual decline is judged over the last three weeks
DECLINE_SHARE = 0.5  # its last week below half the usual …
DECLINE_MARGIN = 0.7  # … and well below the lowest week before
LATE_DAYS = 3  # an import that rewrites days older than this (before its newest day) changed history


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    fix: str
    campaign_id: str | None = None  # external id; None for a finding about a whole source
    since: dt.date | None = None  # the first day the finding is about
    until: dt.date | None = None  # its last day (for a link to the rows)
    source: str = ""  # which source ("spend", "pipeline_value", "deals", "imports") a source-wide finding is about

    def to_dict(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["until"] = self.until.isoformat() if self.until else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        days = {k: dt.date.fromisoformat(data[k]) if data.get(k) else None for k in ("since", "until")}
        return cls(**{**data, **days})


@dataclass(frozen=True)
class ImportChange:
    """What one import did to rows that were already stored."""

    filename: str
    imported_on: dt.date
    rows_changed: int
    first_changed: dt.date | None
    last_changed: dt.date | None
    newest_day: dt.date | None  # the newest day in the file


@dataclass(frozen=True)
class DealCoverage:
    matched_amount: float
    total_amount: float


@dataclass
class HealthData:
    """Per-campaign daily series over one window of consecutive days; NaN where there is no figure."""

    campaign_ids: list[str]
    names: list[str]
    dates: list[dt.date]
    spend: np.ndarray
    outcome: np.ndarray  # the objective's metric
    outcome_label: str = "pipeline"
    outcome_source: str = "pipeline_value"  # the column the outcome comes from
    outcome_money: bool = True
    clicks: np.ndarray | None = None
    active: np.ndarray | None = None  # False: paused, so no rows is no surprise
    # Other outcome columns, each checked as a whole source: name → (label, matrix).
    sources: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    today: dt.date | None = None
    imports: list[ImportChange] = field(default_factory=list)
    deals: DealCoverage | None = None


def check_health(data: HealthData) -> list[Finding]:
    """Every finding, the most severe first."""
    findings: list[Finding] = []
    sources = {"outcome": (data.outcome_label, data.outcome), **data.sources}
    broken_sources = []
    for name, (label, matrix) in sources.items():
        found = source_zero(data, matrix, label=label, source=data.outcome_source if name == "outcome" else name)
        if found:
            findings.append(found)
            broken_sources.append((matrix is data.outcome, found.since))
    # A campaign's break inside a failed source's days is that source's failure, not its tag's.
    outcome_broken_since = min((since for is_outcome, since in broken_sources if is_outcome), default=None)
    jumps = unit_jumps(data)
    # A unit jump makes every ratio after it meaningless: it is the finding, not a drop in outcomes.
    jumped = {f.campaign_id for f in jumps}
    findings += [f for f in campaign_breaks(data, covered_from=outcome_broken_since) if f.campaign_id not in jumped]
    findings += jumps
    findings += missing_days(data)
    findings += changed_history(data.imports)
    findings += stale(data)
    findings += attribution(data)
    findings += deal_coverage(data.deals)
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.campaign_id or "", f.check))


# --- words --------------------------------------------------------------------------------------------------


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _amount(value: float, money: bool) -> str:
    value = float(value)
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"${text}" if money else text


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


# --- a campaign's outcome breaking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    start: int  # index of the first low day
    days: int  # spending days in the run
    chance: float  # how likely such a run is under the campaign's own history
    expected: float  # outcome its spend would usually have brought over the run
    observed: float
    before_share: float  # the week before the run, against the usual (nan: unknown)
    clicks_share: float  # clicks per unit of spend in the run, against the usual (nan: unknown)
    gradual: bool = False  # found as a weeks-long slide (find_decline), not a run of near-zero days

    @property
    def abrupt(self) -> bool:
        return not np.isfinite(self.before_share) or self.before_share >= NORMAL_BEFORE

    @property
    def traffic_goes_on(self) -> bool:
        return not np.isfinite(self.clicks_share) or self.clicks_share >= CLICKS_GO_ON

    @property
    def tracking_broke(self) -> bool:
        """Abrupt, and clicks go on: the tag stopped counting, not the people converting."""
        return not self.gradual and self.abrupt and self.traffic_goes_on


def find_break(spend, outcome, clicks=None) -> Break | None:
    """The trailing run of spending days whose outcome is far below what their spend usually brings, when
    such a run is improbable under the campaign's own history; None when there is none."""
    spend = np.asarray(spend, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    known = np.isfinite(spend) & np.isfinite(outcome) & (spend > 0)
    days = np.flatnonzero(known)
    if len(days) < MIN_HISTORY_DAYS + MIN_RUN_DAYS:
        return None
    rate_all = outcome[days].sum() / spend[days].sum()
    if rate_all <= 0:
        return None
    # Walk back from the newest spending day while days are low against the full-window rate (a first pass;
    # the history before the run then gives the usual rate).
    low = outcome[days] < LOW_SHARE * rate_all * spend[days]
    run = 0
    while run < len(days) and low[-1 - run]:
        run += 1
    if run < MIN_RUN_DAYS:
        return None
    history, in_run = days[: len(days) - run], days[len(days) - run :]
    if len(history) < MIN_HISTORY_DAYS:
        return None
    rate = outcome[history].sum() / spend[history].sum()
    if rate <= 0:
        return None
    ratio = outcome[history] / (rate * spend[history])
    rare = (np.sum(ratio < LOW_SHARE) + 1) / (len(history) + 2)
    chance = float(rare**run)
    if chance >= MAX_CHANCE:
        return None
    week = history[-7:]
    before = outcome[week].sum() / (rate * spend[week].sum())
    clicks_share = _clicks_share(clicks, spend, history, in_run)
    return Break(
        start=int(in_run[0]),
        days=run,
        chance=chance,
        expected=float(rate * spend[in_run].sum()),
        observed=float(outcome[in_run].sum()),
        before_share=float(before),
        clicks_share=clicks_share,
    )


def find_decline(spend, outcome, clicks=None) -> Break | None:
    """A gradual decline no near-zero run shows: the last week far below the campaign's usual, lower than any
    week of its history before the last DECLINE_DAYS; None when there is none."""
    spend = np.asarray(spend, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    days = np.flatnonzero(np.isfinite(spend) & np.isfinite(outcome) & (spend > 0))
    if len(days) < MIN_HISTORY_DAYS + DECLINE_DAYS:
        return None
    history, recent = days[:-DECLINE_DAYS], days[-7:]
    rate = outcome[history].sum() / spend[history].sum()
    if rate <= 0 or len(history) < 7:
        return None
    weekly = np.convolve(outcome[history], np.ones(7), "valid") / (
        rate * np.convolve(spend[history], np.ones(7), "valid")
    )
    share = outcome[recent].sum() / (rate * spend[recent].sum())
    if share >= min(DECLINE_SHARE, DECLINE_MARGIN * float(weekly.min())):
        return None
    before = days[-DECLINE_DAYS:-7]
    return Break(
        start=int(days[-DECLINE_DAYS]),
        days=DECLINE_DAYS,
        chance=float("nan"),
        expected=float(rate * spend[days[-DECLINE_DAYS:]].sum()),
        observed=float(outcome[days[-DECLINE_DAYS:]].sum()),
        before_share=float(outcome[before].sum() / (rate * spend[before].sum())),
        clicks_share=_clicks_share(clicks, spend, history, recent),
        gradual=True,
    )


def diagnosis(found: Break) -> str:
    """What the data say about a drop, in words: which cause they point to."""
    if found.tracking_broke:
        return "tracking broke"
    return "stopped converting"


def drop_diagnosis(spend, outcome, clicks=None, *, recent_days: int = 7) -> str:
    """For a campaign whose outcomes dropped (the anomaly test's find): "tracking broke" (abrupt, clicks go on),
    "stopped converting" (gradual, or clicks fell too), or "" where the data cannot tell."""
    found = find_break(spend, outcome, clicks)
    if found is not None:
        return diagnosis(found)
    spend = np.asarray(spend, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    days = np.flatnonzero(np.isfinite(spend) & np.isfinite(outcome) & (spend > 0))
    if len(days) < MIN_HISTORY_DAYS + recent_days:
        return ""
    history, recent = days[:-recent_days], days[-recent_days:]
    rate = outcome[history].sum() / spend[history].sum()
    if rate <= 0:
        return ""
    share = outcome[recent].sum() / (rate * spend[recent].sum())
    week = history[-7:]
    before = outcome[week].sum() / (rate * spend[week].sum())
    clicks_share = _clicks_share(clicks, spend, history, recent)
    if np.isfinite(clicks_share) and clicks_share < CLICKS_GO_ON:
        return "stopped converting"
    if before < NORMAL_BEFORE:
        return "stopped converting"
    if share < LOW_SHARE:
        return "tracking broke"
    return ""


def _clicks_share(clicks, spend, history, recent) -> float:
    """Clicks per unit of spend on the recent days against the history's; NaN where clicks are unknown."""
    if clicks is None:
        return float("nan")
    clicks = np.asarray(clicks, dtype=float)
    usable_hist = history[np.isfinite(clicks[history])]
    usable_recent = recent[np.isfinite(clicks[recent])]
    if not len(usable_hist) or not len(usable_recent) or clicks[usable_hist].sum() <= 0:
        return float("nan")
    per_spend = clicks[usable_hist].sum() / spend[usable_hist].sum()
    return float(clicks[usable_recent].sum() / (per_spend * spend[usable_recent].sum()))


def campaign_breaks(data: HealthData, *, covered_from: dt.date | None = None) -> list[Finding]:
    findings = []
    for i in range(len(data.campaign_ids)):
        clicks = data.clicks[i] if data.clicks is not None else None
        found = find_break(data.spend[i], data.outcome[i], clicks) or find_decline(
            data.spend[i], data.outcome[i], clicks
        )
        if found is None:
            continue
        since = data.dates[found.start]
        if covered_from is not None and since >= covered_from:
            continue
        findings.append(_break_finding(data, i, found, since))
    return findings


def _break_finding(data: HealthData, i: int, found: Break, since: dt.date) -> Finding:
    name, label, money = data.names[i], data.outcome_label, data.outcome_money
    spent = float(np.nansum(data.spend[i, found.start :]))
    seen = (
        f"{name}: {label} {_amount(found.observed, money)} over the last {_days(found.days)} "
        f"(since {_day(since)}) while it spent ${spent:,.0f}; its own history says that spend brings about "
        f"{_amount(found.expected, money)}."
    )
    if found.tracking_broke:
        clicks = "clicks went on as usual" if np.isfinite(found.clicks_share) else "spend went on as usual"
        return Finding(
            check=TRACKING_BROKE,
            severity=FAIL,
            message=f"{seen} The drop was abrupt and {clicks}: we believe its tracking broke, "
            "not its customers. The engine leaves it alone until the figures are fixed.",
            fix=f"Check the conversion tag or CRM field behind {name}'s {label} (a site release, a renamed form, "
            "a UTM change), then re-import the days since it broke.",
            campaign_id=data.campaign_ids[i],
            since=since,
            until=data.dates[-1],
        )
    if not found.traffic_goes_on:
        why = "Clicks fell with it"
    elif found.gradual:
        why = "It slid over three weeks, a gradual decline"
    else:
        why = f"It had already slipped to {found.before_share:.0%} of its usual the week before, a gradual decline"
    return Finding(
        check=STOPPED_CONVERTING,
        severity=REVIEW,
        message=f"{seen} {why}: we believe it stopped converting, rather than its tracking breaking.",
        fix=f"Look at {name}'s landing page, offer and audience; if its tracking did change, re-import the days.",
        campaign_id=data.campaign_ids[i],
        since=since,
        until=data.dates[-1],
    )


# --- a whole source ---------------------------------------------------------------------------------------


def source_zero(data: HealthData, matrix: np.ndarray, *, label: str, source: str) -> Finding | None:
    """Every campaign's figure from one source at (near) zero on the last days while spend goes on: the sync
    failed, the customers did not all stop at once."""
    spend_total = np.nansum(data.spend, axis=0)
    has_figure = np.isfinite(matrix).any(axis=0)
    total = np.nansum(matrix, axis=0)
    days = np.flatnonzero(has_figure & (spend_total > 0))
    if len(days) < MIN_HISTORY_DAYS + SOURCE_MIN_DAYS:
        return None
    rate = total[days].sum() / spend_total[days].sum()
    if rate <= 0:
        return None
    low = total[days] <= 0.05 * rate * spend_total[days]
    run = 0
    while run < len(days) and low[-1 - run]:
        run += 1
    history = days[: len(days) - run]
    if run < SOURCE_MIN_DAYS or len(history) < MIN_HISTORY_DAYS:
        return None
    # Whole-source zeros must be rare before (a daily CRM export never read zero for the whole account).
    rare = (np.sum(low[: len(history)]) + 1) / (len(history) + 2)
    if rare**run >= MAX_CHANCE:
        return None
    since, until = data.dates[days[-run]], data.dates[-1]
    spent = float(spend_total[days[-run:]].sum())
    return Finding(
        check=SOURCE_ZERO,
        severity=FAIL,
        message=f"Every campaign's {label} is zero for the last {_days(run)} (since {_day(since)}) while "
        f"${spent:,.0f} was spent: the {label} source looks to have failed to sync. The engine leaves those "
        "days out of its fit instead of reading them as real.",
        fix=f"Check the CRM export or sync that brings {label}, then import those days again.",
        since=since,
        until=until,
        source=source,
    )


# --- unit jumps -------------------------------------------------------------------------------------------


def find_jump(values) -> tuple[int, float] | None:
    """The first day whose figure is ×JUMP_FACTOR (or ÷) the median of the days with a figure before it, and
    the factor; None when there is none."""
    values = np.asarray(values, dtype=float)
    known = np.flatnonzero(np.isfinite(values) & (values > 0))
    for k in range(JUMP_BASE_DAYS, len(known)):
        base = float(np.median(values[known[k - JUMP_BASE_DAYS : k]]))
        if base <= 0:
            continue
        factor = values[known[k]] / base
        if factor >= JUMP_FACTOR or factor <= 1 / JUMP_FACTOR:
            return int(known[k]), float(factor)
    return None


def unit_jumps(data: HealthData) -> list[Finding]:
    findings = []
    columns = (("spend", data.spend, True), (data.outcome_label, data.outcome, data.outcome_money))
    for i, external_id in enumerate(data.campaign_ids):
        for label, matrix, money in columns:
            jump = find_jump(matrix[i])
            if jump is None:
                continue
            j, factor = jump
            before = float(np.nanmedian(matrix[i, max(0, j - JUMP_BASE_DAYS) : j]))
            up = factor > 1
            findings.append(
                Finding(
                    check=UNIT_JUMP,
                    severity=FAIL,
                    message=f"{data.names[i]}: {label} jumped from about {_amount(before, money)} a day to "
                    f"{_amount(matrix[i, j], money)} on {_day(data.dates[j])} "
                    f"({'×' if up else '÷'}{factor if up else 1 / factor:,.0f}): a unit or currency mix-up in "
                    "the export, not a real change. The engine leaves it alone until it is fixed.",
                    fix=f"Check the {label} column's unit (cents or dollars, the account's currency) in the file "
                    f"that brought {_day(data.dates[j])}, correct it and import it again.",
                    campaign_id=external_id,
                    since=data.dates[j],
                    until=data.dates[-1],
                )
            )
            break  # one jump per campaign is enough to hold it
    return findings


# --- missing days, changed history, stale data ---------------------------------------------------------------


def missing_days(data: HealthData) -> list[Finding]:
    findings = []
    has_row = np.isfinite(data.spend)
    any_row = has_row.any(axis=0)
    if not any_row.any():
        return []
    first, last = int(np.argmax(any_row)), len(data.dates) - 1 - int(np.argmax(any_row[::-1]))
    empty = [j for j in range(first, last + 1) if not any_row[j]]
    if empty:
        findings.append(
            Finding(
                check=MISSING_DAYS,
                severity=REVIEW,
                message=f"No rows at all for {_days(len(empty))} between {_day(data.dates[empty[0]])} and "
                f"{_day(data.dates[empty[-1]])}: the export skipped them, so the engine sees gaps there.",
                fix="Export those days again from the ad platform and import them.",
                since=data.dates[empty[0]],
                until=data.dates[empty[-1]],
                source="spend",
            )
        )
    empty_days = set(empty)
    for i, external_id in enumerate(data.campaign_ids):
        if data.active is not None and not data.active[i]:
            continue
        rows = np.flatnonzero(has_row[i])
        if len(rows) == 0:
            continue
        gaps = [j for j in range(int(rows[0]), last + 1) if not has_row[i, j] and j not in empty_days]
        if not gaps:
            continue
        findings.append(
            Finding(
                check=MISSING_DAYS,
                severity=REVIEW,
                message=f"{data.names[i]}: no rows for {_days(len(gaps))} between {_day(data.dates[gaps[0]])} and "
                f"{_day(data.dates[gaps[-1]])}, though other campaigns have them.",
                fix=f"Check that the export includes {data.names[i]} on every day, then import the missing ones.",
                campaign_id=external_id,
                since=data.dates[gaps[0]],
                until=data.dates[gaps[-1]],
            )
        )
    return findings


def changed_history(imports: list[ImportChange]) -> list[Finding]:
    """Imports that rewrote rows already stored: a restatement of days more than LATE_DAYS before the file's
    newest day changes the history the curves were fitted on."""
    findings = []
    for change in imports:
        if change.rows_changed <= 0 or change.first_changed is None:
            continue
        late = change.newest_day is not None and (change.newest_day - change.first_changed).days > LATE_DAYS
        findings.append(
            Finding(
                check=CHANGED_HISTORY,
                severity=REVIEW if late else INFO,
                message=f"The import of {change.filename} on {_day(change.imported_on)} changed "
                f"{change.rows_changed:,} row{'s' if change.rows_changed != 1 else ''} already stored, "
                f"from {_day(change.first_changed)} to {_day(change.last_changed or change.first_changed)}"
                + (": late-arriving or duplicate rows rewrote past days." if late else ": recent days restated."),
                fix="Check that the file was meant to restate those days (a platform's late conversions are; a "
                "second export of the same days with other numbers is not).",
                since=change.first_changed,
                until=change.last_changed,
                source="imports",
            )
        )
    return findings


def stale(data: HealthData) -> list[Finding]:
    has_row = np.isfinite(data.spend).any(axis=0)
    if data.today is None or not has_row.any():
        return []
    newest = data.dates[len(data.dates) - 1 - int(np.argmax(has_row[::-1]))]
    age = (data.today - newest).days
    if age < STALE_REVIEW_DAYS:
        return []
    return [
        Finding(
            check=STALE,
            severity=REVIEW,
            message=f"The newest imported day is {_day(newest)}, {_days(age)} ago: proposals are based on data "
            "that old.",
            fix="Import the days since, or check the scheduled export that brings them.",
            since=newest,
            until=newest,
            source="spend",
        )
    ]


def attribution(data: HealthData) -> list[Finding]:
    """The share of recent spend on days with an outcome figure: spend without one teaches the curves nothing."""
    recent = slice(-RECENT_DAYS, None)
    spend = np.nan_to_num(data.spend[:, recent])
    covered = np.where(np.isfinite(data.outcome[:, recent]), spend, 0.0)
    total = spend.sum()
    if total <= 0:
        return []
    share = covered.sum() / total
    if share >= ATTRIBUTION_REVIEW:
        return []
    return [
        Finding(
            check=ATTRIBUTION,
            severity=REVIEW,
            message=f"Only {share:.0%} of the last {RECENT_DAYS} days' spend (${covered.sum():,.0f} of "
            f"${total:,.0f}) has a {data.outcome_label} figure: the rest tells the engine nothing.",
            fix=f"Import {data.outcome_label} for the campaigns and days without it (a CRM export with "
            "date, campaign_id and the figure).",
            since=data.dates[recent][0] if data.dates else None,
            until=data.dates[-1] if data.dates else None,
            source=data.outcome_label,
        )
    ]


def deal_coverage(deals: DealCoverage | None) -> list[Finding]:
    if deals is None or deals.total_amount <= 0:
        return []
    share = deals.matched_amount / deals.total_amount
    if share >= DEAL_INFO:
        return []
    severity = REVIEW if share < DEAL_REVIEW else INFO
    return [
        Finding(
            check=DEAL_COVERAGE,
            severity=severity,
            message=f"{share:.0%} of the CRM deals' value (${deals.matched_amount:,.0f} of "
            f"${deals.total_amount:,.0f}) is credited to a campaign; the rest counts only in the totals.",
            fix="Match the unmatched campaign names on the deals page (an alias each), or fix the campaign field "
            "in the CRM.",
            source="deals",
        )
    ]


# --- what the engine does with the findings ----------------------------------------------------------------------


def held_campaigns(findings: list[Finding]) -> dict[str, Finding]:
    """The campaigns the engine must not move (a FAIL about them), each with its first such finding."""
    held: dict[str, Finding] = {}
    for finding in findings:
        if finding.severity == FAIL and finding.campaign_id and finding.campaign_id not in held:
            held[finding.campaign_id] = finding
    return held


def excluded_from(findings: list[Finding], source: str) -> dt.date | None:
    """The first day of `source` a source-wide FAIL says is not real: the fit stops before it."""
    days = [f.since for f in findings if f.check == SOURCE_ZERO and f.source == source and f.since]
    return min(days, default=None)


def status_of(findings: list[Finding]) -> str:
    """red (a FAIL), amber (a REVIEW) or green."""
    severities = {f.severity for f in findings}
    return "red" if FAIL in severities else "amber" if REVIEW in severities else "green"


# --- the other files: outcome totals, transactions, experiments, workflow inventories ----------------------

TOTALS_ZERO = "totals_zero"
BROKEN_RANDOMISATION = "broken_randomisation"
INVENTORY_AGE_REVIEW_DAYS = 30  # a workflow inventory older than this no longer says what fires


@dataclass(frozen=True)
class OtherFiles:
    """What the imports besides campaign performance hold, as the checks need it (each empty when not imported)."""

    totals: list[tuple[dt.date, float | None]] = field(default_factory=list)  # the objective's totals, by period
    totals_period_days: int = 1
    newest_transaction: dt.date | None = None
    unbalanced_experiments: list[tuple[str, str]] = field(default_factory=list)  # (name, what differs)
    newest_inventory: dt.date | None = None  # when a workflow inventory was last imported


def other_files(files: OtherFiles, today: dt.date) -> list[Finding]:
    """Findings about the other files: a totals source gone to zero or stale, stale transactions, an experiment
    whose arms differ more than chance allows, an old workflow inventory."""
    return [
        *totals_findings(files.totals, files.totals_period_days, today),
        *_stale_file(files.newest_transaction, today, STALE_REVIEW_DAYS, "transactions", "transactions", "purchases"),
        *[_unbalanced(name, what) for name, what in files.unbalanced_experiments],
        *_stale_file(
            files.newest_inventory,
            today,
            INVENTORY_AGE_REVIEW_DAYS,
            "workflows",
            "workflow inventory",
            "which automations fire",
        ),
    ]


def totals_findings(totals: list[tuple[dt.date, float | None]], period_days: int, today: dt.date) -> list[Finding]:
    """The outcome totals (channel mix): their last periods at zero after periods with value, as a failed sync
    reads; and their newest period long past."""
    known = [(day, value) for day, value in totals if value is not None]
    if not known:
        return []
    found = []
    values = np.array([value for _, value in known])
    run = 0
    while run < len(values) and values[-1 - run] <= 0:
        run += 1
    history = values[: len(values) - run]
    if run >= SOURCE_MIN_DAYS and len(history) >= 4 and (history > 0).mean() >= 0.9:
        since = known[-run][0]
        found.append(
            Finding(
                check=TOTALS_ZERO,
                severity=FAIL,
                message=f"The imported outcome totals are zero for the last {run} periods (since {_day(since)}) "
                "after periods that all had value: the export that brings them looks to have failed.",
                fix="Check the CRM report the totals come from, then import those periods again.",
                since=since,
                until=known[-1][0],
                source="totals",
            )
        )
    found += _stale_file(
        known[-1][0], today, STALE_REVIEW_DAYS + period_days - 1, "totals", "outcome totals", "the channel mix"
    )
    return found


def _stale_file(newest: dt.date | None, today: dt.date, after_days: int, source: str, what: str, feeds: str):
    if newest is None or (today - newest).days < after_days:
        return []
    age = (today - newest).days
    return [
        Finding(
            check=STALE,
            severity=REVIEW,
            message=f"The newest {what} are from {_day(newest)}, {_days(age)} ago: what Waypoint says of {feeds} "
            "is that old.",
            fix=f"Import the {what} since, or check the scheduled export that brings them.",
            since=newest,
            until=newest,
            source=source,
        )
    ]


def _unbalanced(name: str, what: str) -> Finding:
    return Finding(
        check=BROKEN_RANDOMISATION,
        severity=REVIEW,
        message=f"In the test {name}, the arms differ more than chance allows ({what}): the randomisation may be "
        "broken, and the uplift read from it may be another difference between the groups.",
        fix="Check how customers were assigned to arms before acting on this test's audiences.",
        source="experiments",
    )
