"""What the machine proposes, what people did with it, and the data behind it."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from decisions.review import kinds
from objectives.models import Guardrail, ImmutableRowError, Objective

MONEY = {"max_digits": 14, "decimal_places": 2}


class Campaign(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"

    external_id = models.CharField(max_length=64, unique=True, help_text="The ad platform's campaign id.")
    name = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=64, blank=True, db_index=True)
    platform = models.CharField(max_length=64, blank=True)
    audience = models.CharField(max_length=128, blank=True)
    tags = models.JSONField(default=list, blank=True)
    daily_budget = models.DecimalField(**MONEY, default=Decimal("0"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # When an approved change last reached the ad platform (the cooldown guardrail reads it).
    last_changed_at = models.DateTimeField(null=True, blank=True)
    # Set when a guardrail admin archives a campaign created by mistake (a CRM id with a typo): it stays, with
    # its days, but leaves generation, the queue's guardrail facts, guardrail scopes and the Data page's list.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "external_id"]
        constraints = [
            models.CheckConstraint(condition=Q(daily_budget__gte=0), name="campaign_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


# Every metric is nullable: NULL means "not reported yet" (a CRM export that
# lacks spend, a pipeline figure that is still unknown), which is not zero.
METRIC_FIELDS = (
    "spend",
    "impressions",
    "clicks",
    "platform_conversions",
    "platform_revenue",
    "leads",
    "pipeline_value",
    "closed_revenue",
)
MONEY_FIELDS = ("spend", "platform_revenue", "pipeline_value", "closed_revenue")
# Delivery figures a day's row may carry beside its metrics (see DailyMetric).
SHARE_FIELDS = ("impression_share", "lost_is_budget", "lost_is_rank")


class DailyMetric(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="metrics")
    date = models.DateField()
    spend = models.DecimalField(**MONEY, null=True, blank=True)
    impressions = models.BigIntegerField(null=True, blank=True)
    clicks = models.BigIntegerField(null=True, blank=True)
    platform_conversions = models.FloatField(null=True, blank=True)
    platform_revenue = models.DecimalField(**MONEY, null=True, blank=True)
    leads = models.FloatField(null=True, blank=True)
    pipeline_value = models.DecimalField(**MONEY, null=True, blank=True)
    closed_revenue = models.DecimalField(**MONEY, null=True, blank=True)
    # Delivery: the budget in force that day (spend against it is the campaign's utilization) and, where the
    # platform reports them, the search impression share and the shares lost to budget and to rank (0–1).
    daily_budget = models.DecimalField(**MONEY, null=True, blank=True)
    impression_share = models.FloatField(null=True, blank=True)
    lost_is_budget = models.FloatField(null=True, blank=True)
    lost_is_rank = models.FloatField(null=True, blank=True)
    # The platform's own verdict that day (Google Ads' status "Limited by budget"); NULL = not reported.
    limited_by_budget = models.BooleanField(null=True, blank=True)
    # Predicted lifetime value of the customers the campaign acquired that day (first purchases naming it),
    # derived from the imported transactions (decisions/data/transactions.py); NULL outside their span.
    customer_lifetime_value = models.DecimalField(**MONEY, null=True, blank=True)

    class Meta:
        ordering = ["campaign", "date"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="one_metric_row_per_campaign_day"),
            *(
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"metric_{name}_not_negative")
                for name in METRIC_FIELDS
            ),
            models.CheckConstraint(condition=Q(daily_budget__gte=0), name="metric_daily_budget_not_negative"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 0, f"{name}__lte": 1}), name=f"metric_{name}_is_a_share"
                )
                for name in SHARE_FIELDS
            ),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.date}"


class ImportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    filename = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    bytes_read = models.BigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    campaigns_created = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Kept so the sweep can queue the import again as it was asked for.
    create_campaigns = models.BooleanField(default=False)
    # The importer's own options, kept for the same reason: an experiment's name, control arm and the test it
    # follows up ({"name": …, "control": …, "follows": …}).
    options = models.JSONField(default=dict, blank=True)
    # Which importer reads the file: daily performance, or a CRM deals export (decisions/data/deal_figures.py).
    kind = models.CharField(
        max_length=16,
        choices=[
            ("performance", "Performance"),
            ("deals", "Deals"),
            ("workflows", "Workflows"),
            ("transactions", "Transactions"),
            ("experiment", "Experiment"),
            ("totals", "Totals"),
        ],
        default="performance",
    )
    # A worker bumps heartbeat_at as it reads rows; the sweep (decisions/sweeping.py) queues again, once, an
    # import silent too long (requeued_at), and fails it when it stays silent after that.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    requeued_at = models.DateTimeField(null=True, blank=True)
    # What the import did to rows already stored (data health's "changed history"): how many it changed, the
    # first and last such day, and the newest day in the file.
    rows_changed = models.PositiveIntegerField(default=0)
    changed_first = models.DateField(null=True, blank=True)
    changed_last = models.DateField(null=True, blank=True)
    newest_day = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def progress_pct(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.size_bytes:
            return 0
        return min(99, int(100 * self.bytes_read / self.size_bytes))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Deal(models.Model):
    """One CRM deal (a HubSpot deal, a Salesforce opportunity) as its latest export described it.

    Kept per (source, deal_id) and upserted, so a later export re-stages, re-prices and closes deals; the
    per-campaign daily pipeline and closed revenue are derived from these rows (decisions/data/deal_figures.py).
    """

    source = models.CharField(max_length=16)  # the export's format: hubspot, salesforce, generic
    deal_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255, blank=True)
    stage = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True)  # NULL: the CRM holds no amount
    created_date = models.DateField()
    close_date = models.DateField(null=True, blank=True)
    won = models.BooleanField(default=False)
    probability = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    campaign_ref = models.CharField(max_length=255, blank=True)  # as the export wrote it; "" = none
    campaign_ref_key = models.CharField(max_length=255, blank=True, db_index=True)  # compared with aliases
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    matched_by = models.CharField(max_length=8, blank=True)  # id, name, alias; "" when unmatched
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "deal_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "deal_id"], name="one_deal_per_source_and_id"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.deal_id}"


class CampaignAlias(models.Model):
    """A name a CRM uses for a campaign ("Spring webinar - EMEA" → campaign 9001), kept by guardrail admins."""

    reference = models.CharField(max_length=255)  # as first written
    reference_key = models.CharField(max_length=255, unique=True)  # case and spacing folded
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="aliases")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference_key"]

    def __str__(self) -> str:
        return f"{self.reference} → {self.campaign_id}"


class DealFigure(models.Model):
    """What the last deal derivation wrote into one DailyMetric cell pair: the provenance that lets the next
    one replace its own figures and leave alone those another kind of file supplied. NULL: not written."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    pipeline_value = models.DecimalField(**MONEY, null=True, blank=True)
    closed_revenue = models.DecimalField(**MONEY, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "date"], name="one_deal_figure_per_campaign_day")]


class DailyTotal(models.Model):
    """Business value per day that no campaign is credited with (deals without a campaign, or unmatched): the
    channel-mix mode's outcome. `source` says which derivation wrote the row, and only it replaces them."""

    date = models.DateField()
    source = models.CharField(max_length=32)  # "deals": derived from unattributed deals; "totals": import_totals
    pipeline_value = models.DecimalField(**MONEY, null=True, blank=True)
    closed_revenue = models.DecimalField(**MONEY, null=True, blank=True)
    deals = models.PositiveIntegerField(default=0)
    # Imported totals (source "totals") only: leads, the period the row covers from `date` (1 = a day, 7 = the
    # week starting that day), and the control variables by the file's own column names ({"demand": 1.2}). A JSON
    # column rather than a table: controls are named freely by each team, read only together, a row at a time, by
    # the mix model, and never filtered or joined on; one row per date keeps the upsert by date one statement.
    leads = models.FloatField(null=True, blank=True)
    period_days = models.PositiveSmallIntegerField(default=1)
    controls = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["date", "source"]
        constraints = [models.UniqueConstraint(fields=["date", "source"], name="one_daily_total_per_source")]


class Transaction(models.Model):
    """One purchase by one customer (decisions/data/transactions.py); `campaign_ref` is the acquiring campaign's
    id as the file wrote it, `campaign` the campaign it names (NULL when none matches)."""

    customer_id = models.CharField(max_length=128)
    date = models.DateField()
    amount = models.DecimalField(**MONEY)
    campaign_ref = models.CharField(max_length=64, blank=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["customer_id", "date", "pk"]
        indexes = [models.Index(fields=["date"]), models.Index(fields=["customer_id", "date"])]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="transaction_amount_not_negative")]


class LifetimeValueFit(models.Model):
    """One fit of the lifetime value model over the stored transactions: what the objective's figures rest on."""

    fitted_at = models.DateTimeField(default=timezone.now)
    as_of = models.DateField(null=True, blank=True)
    lifetime_days = models.PositiveIntegerField()
    customers = models.PositiveIntegerField(default=0)
    acquired = models.PositiveIntegerField(default=0)  # customers whose first purchase names a known campaign
    transactions = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)  # BG/NBD r, alpha, a, b; Gamma-Gamma p, q, gamma
    mean_value = models.FloatField(null=True, blank=True)  # a customer's mean lifetime value
    error = models.TextField(blank=True)  # why no model could be fitted

    class Meta:
        ordering = ["-fitted_at", "-pk"]


class DataHealthCheck(models.Model):
    """One data-health check over the imported data (decisions/data/health.py): its findings, as
    decisions.engine.data_health.Finding.to_dict(). The newest one is what the engine and the pages read."""

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    trigger = models.CharField(max_length=64, blank=True)  # "performance import", "deals import", "on demand", …
    window_end = models.DateField(null=True, blank=True)
    metric = models.CharField(max_length=32, blank=True)  # the objective metric the campaign checks read
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]


class GenerationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    objective = models.ForeignKey(Objective, null=True, on_delete=models.SET_NULL, related_name="+")
    metric = models.CharField(max_length=32, blank=True)
    window_start = models.DateField(null=True)
    window_end = models.DateField(null=True)
    policy_version = models.CharField(max_length=64, blank=True)
    model_version = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # Fitting fans out over chunks of campaigns; workers bump chunks_done with F() as they finish.
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # What the run left alone and why, for the Runs page: {"campaigns": [{"reason", "count", "campaigns":
    # [{"id", "name"}, …]}, …], "limits": {"min_weekly_value", "max_proposal_p_loss"}}; the proposals the
    # limits held back are in counts.
    left_alone = models.JSONField(default=dict, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped as the run starts and as chunks finish; see ImportRun for the sweep's use of both.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Run #{self.pk} ({self.status})"

    @property
    def progress_pct(self) -> int:
        if self.status != self.Status.RUNNING:
            return 100
        return int(90 * self.chunks_done / self.chunks_total) if self.chunks_total else 0


class Proposal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        SUPERSEDED = "superseded", "Superseded"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    run = models.ForeignKey(GenerationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    # One spec per kind in decisions/review/kinds.py; the choices follow its registry (no migration per kind).
    kind = models.CharField(max_length=16, choices=kinds.choices)
    # The campaign whose lever this proposal moves (the first one for a shift);
    # a newer pending proposal on the same campaign and lever supersedes it.
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals")
    lever = models.CharField(max_length=32, default="daily_budget")  # the kind's field
    # [{"campaign": external_id, "field": "daily_budget", "from": 100.0, "to": 120.0}, …]
    changes = models.JSONField(default=list)
    rationale = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    platform_view = models.JSONField(default=dict, blank=True)
    guardrail_verdicts = models.JSONField(default=list, blank=True)
    expected_metric = models.CharField(max_length=32, blank=True)
    expected_per = models.CharField(max_length=16, default="week")
    expected_mean = models.FloatField(default=0)
    expected_low = models.FloatField(default=0)
    expected_high = models.FloatField(default=0)
    p_loss = models.FloatField(default=0)
    # The acceptance model's estimate that a reviewer approves this proposal (NULL until a model exists).
    p_accept = models.FloatField(null=True, blank=True)
    priority = models.FloatField(default=0, db_index=True)
    model_version = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "-created_at"]
        indexes = [
            models.Index(fields=["status", "-priority"], name="proposal_queue_idx"),
            models.Index(fields=["campaign", "lever", "status"], name="proposal_lever_idx"),
            # The queue's "expected value waiting" sums every pending proposal on each page and after each
            # decision: read from this small index alone rather than from 100,000 wide rows.
            models.Index(
                fields=["expires_at"],
                include=["expected_mean", "id", "expected_per"],
                condition=Q(status="pending"),
                name="proposal_pending_value_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(p_loss__gte=0) & Q(p_loss__lte=1), name="proposal_p_loss_is_probability"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Review(models.Model):
    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved as proposed"
        EDITED = "edited", "Edited and approved"
        REJECTED = "rejected", "Rejected"

    class Reason(models.TextChoices):
        BRAND = "brand", "Brand"
        STRATEGY = "strategy", "Strategy"
        DATA_QUALITY = "data_quality", "Data quality"
        TIMING = "timing", "Timing"
        TOO_RISKY = "too_risky", "Too risky"
        OTHER = "other", "Other"

    # One-to-one: the database itself refuses a second decision on a proposal.
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="review")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewer_label = models.CharField(max_length=150)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    final_changes = models.JSONField(default=list)
    reason_code = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    by_policy = models.BooleanField(default=False)
    # What the reviewer's values were re-estimated to bring ({"mean", "low", "high", "p_loss"}), kept where it
    # cannot be read again cheaply: an edited audience, re-estimated from its test's customers. NULL otherwise
    # (budget edits are re-read off the stored curves).
    final_estimate = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class BulkApproval(models.Model):
    """Which proposals one "Approve all that pass" approved, so that they can be undone as one step.

    A row rather than an audit event: undoing must be claimed once (a conditional update on undone_at, as every
    transition is), and the result page finds the batch by its id, never by searching the log.
    """

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewer_label = models.CharField(max_length=150)
    proposal_ids = models.JSONField(default=list)  # in the order they were approved
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_by_label = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"bulk approval {self.pk} of {len(self.proposal_ids)} by {self.reviewer_label}"


class Application(models.Model):
    """An outbox row: an approved change (or its rollback) on its way to one ad platform.

    A change that touches campaigns on several platforms becomes one row per
    platform, each with its own connector, changes and idempotency key.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Direction(models.TextChoices):
        APPLY = "apply", "Apply"
        ROLLBACK = "rollback", "Rollback"

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="applications")
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.APPLY)
    # The campaigns' platform ("" when they name none); it chose the connector.
    platform = models.CharField(max_length=64, blank=True)
    connector = models.CharField(max_length=32, default="ledger")
    changes = models.JSONField(default=list)
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set while a worker sends the row (claimed, result not yet recorded); a
    # claim older than the outbox's lease belongs to a worker presumed dead.
    sending_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"])]


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk update and delete would bypass the model's refusal; refuse them here too."""

    def update(self, **kwargs):
        raise ImmutableRowError("Audit events are append-only.")

    def delete(self):
        raise ImmutableRowError("Audit events are append-only.")


class HashScheme(models.TextChoices):
    SHA256 = "sha256", "SHA-256 (before the chain was keyed)"
    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256 with WAYPOINT_AUDIT_KEY"


class AuditEvent(models.Model):
    """The append-only record of everything people and the machine did.

    Rows are written by services only, in the same transaction as the change,
    never changed or deleted (the model refuses; on PostgreSQL a trigger
    refuses too), and each carries the hash of the one before it inside its own keyed hash.
    """

    # No database FK to users: deleting a user must not rewrite the log, and
    # actor_label keeps who it was.
    # Indexes: every one is paid by each append, under the chain's lock. Kept: the id (the chain's order),
    # hash (unique), proposal (a proposal's timeline), created_at (a week's report) and (action, created_at)
    # (History, the report: an action over time, which also serves the action alone). Nothing looks events up
    # by actor or guardrail, nor by LIKE on action or hash: those indexes were dropped (0020).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="audit_events"
    )
    guardrail = models.ForeignKey(
        Guardrail,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    machine_payload = models.JSONField(default=dict, blank=True)
    human_payload = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)
    # How `hash` was computed. Rows written before the chain was keyed keep plain SHA-256 and still verify;
    # every new row is keyed. The database default covers writers that bypass the model (COPY).
    hash_scheme = models.CharField(
        max_length=16, choices=HashScheme.choices, default=HashScheme.HMAC_SHA256, db_default=HashScheme.HMAC_SHA256
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"]), models.Index(fields=["action", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableRowError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError("Audit events are append-only.")


class Outcome(models.Model):
    """What happened after a decision: realised impact of an applied change against its interval.

    For rejected and edited proposals, `machine_estimate` is what the model says
    the machine's own version would have done, so the report can say who was right.
    """

    class Verdict(models.TextChoices):
        HIT = "hit", "Within the interval"
        ABOVE = "above", "Better than expected"
        BELOW = "below", "Worse than expected"

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="outcome")
    metric = models.CharField(max_length=32)
    days = models.PositiveIntegerField()
    window_start = models.DateField()
    window_end = models.DateField()
    realised = models.FloatField(null=True, blank=True, help_text="Per week, in the objective's units.")
    expected_low = models.FloatField()
    expected_mean = models.FloatField()
    expected_high = models.FloatField()
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    machine_estimate = models.FloatField(null=True, blank=True)
    human_estimate = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now=True)


class ReportSubscription(models.Model):
    """Users who opted in to the weekly override report by email."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscription")
    created_at = models.DateTimeField(auto_now_add=True)


class ReportDelivery(models.Model):
    """One row per week and recipient: the unique constraint is what makes the weekly email go out once."""

    week = models.CharField(max_length=8, help_text="ISO week, e.g. 2026-W47")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week", "recipient"], name="one_report_per_week_and_recipient")]


class AcceptanceModel(models.Model):
    """A fitted model of which proposals reviewers accept, retrained weekly from past decisions."""

    fitted_at = models.DateTimeField(auto_now_add=True)
    n_decisions = models.PositiveIntegerField()
    auc = models.FloatField(null=True, blank=True)
    brier = models.FloatField(null=True, blank=True)
    # The fitted estimator's parameters (feature names, coefficients, intercept) — enough to score without pickle.
    params = models.JSONField(default=dict)
    # Median human ÷ machine change per (kind, channel), where reviewers consistently shrink the machine's moves.
    step_factors = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-fitted_at"]


class Workflow(models.Model):
    """One automation workflow (a HubSpot workflow, a Marketo smart campaign, a Braze canvas) as its latest
    inventory export described it, upserted by (platform, workflow_id). A retire_workflow proposal moves its
    status; the ledger writes it (decisions/targets.py)."""

    class Status(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        DISABLED = "disabled", "Disabled"
        DRAFT = "draft", "Draft"
        RETIRED = "retired", "Retired"

    platform = models.CharField(max_length=32)
    workflow_id = models.CharField(max_length=64, help_text="The platform's id of the workflow.")
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ENABLED)
    created_at = models.DateTimeField(null=True, blank=True)  # on the platform
    updated_at = models.DateTimeField(null=True, blank=True)  # on the platform
    last_triggered_at = models.DateTimeField(null=True, blank=True)  # NULL = never fired (when activity_known)
    # False when the export does not say when a workflow fires (Marketo's smart campaign list): never judged stale.
    activity_known = models.BooleanField(default=True)
    enrolled_90d = models.PositiveIntegerField(null=True, blank=True)  # NULL = the export does not say
    used_by = models.JSONField(default=list, blank=True)  # ids (same platform) of workflows that rely on this one
    tags = models.JSONField(default=list, blank=True)
    # What starts it and what it aims at, where the export says: near-duplicates share both.
    trigger = models.CharField(max_length=255, blank=True)
    goal = models.CharField(max_length=255, blank=True)
    raw = models.JSONField(default=dict, blank=True)  # the export's own record, for what we do not model
    imported_at = models.DateTimeField(auto_now=True)
    # When Waypoint retired it (the ledger), so the page can count retirements over time.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "name", "workflow_id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "workflow_id"], name="one_workflow_per_platform_id"),
        ]

    def __str__(self) -> str:
        return self.name or self.workflow_id


class WorkflowAuditSetting(models.Model):
    """The workflow audit's threshold, one row, changed by a guardrail admin (audited)."""

    stale_after_days = models.PositiveIntegerField(default=90)
    changed_at = models.DateTimeField(auto_now=True)


# --- randomised tests at customer level (decisions/data/experiments.py, decisions/engine/uplift.py) ---


class Experiment(models.Model):
    """A randomised test: each customer was given one arm (an action, or the control) at random. `analysis` is
    the last uplift analysis (decisions/experiments/analysing.py), `balance` the check of the randomisation."""

    name = models.CharField(max_length=120, unique=True)
    control_arm = models.CharField(max_length=64)
    outcomes = models.JSONField(default=list)  # the outcome columns the file had (objective metrics)
    attributes = models.JSONField(default=dict)  # attribute → "number" or "category", in the file's order
    arm_sizes = models.JSONField(default=dict)  # arm → customers
    customers = models.PositiveIntegerField(default=0)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    balance = models.JSONField(null=True, blank=True)
    analysis = models.JSONField(null=True, blank=True)
    analysis_error = models.TextField(blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    # The earlier test this one follows up: its analysis measures the audience actions applied from that one
    # (decisions/experiments/follow_ups.py).
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class ExperimentAction(models.Model):
    """One arm as marketers know it: a name and, optionally, its copy (subject line, message). `revision` makes
    an edit from a stale page a conflict instead of a silent overwrite."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="actions")
    arm = models.CharField(max_length=64)  # the file's value
    name = models.CharField(max_length=120)
    subject_line = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["experiment", "arm"]
        constraints = [models.UniqueConstraint(fields=["experiment", "arm"], name="one_action_per_experiment_arm")]

    def __str__(self) -> str:
        return self.name


class ExperimentCustomer(models.Model):
    """One customer of a test: the arm they were given, their outcomes (NULL: the file had no such column) and
    their attributes (name → number or category, None when empty)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="rows")
    customer_id = models.CharField(max_length=128, blank=True)
    arm = models.CharField(max_length=64)
    closed_revenue = models.FloatField(null=True, blank=True)
    pipeline_value = models.FloatField(null=True, blank=True)
    leads = models.FloatField(null=True, blank=True)
    attributes = models.JSONField(default=dict)

    class Meta:
        ordering = ["experiment", "pk"]


class AudienceList(models.Model):
    """An applied audience action: the customers of one audience of a test (its segment) and the action they
    now get instead of the control.

    Published when an approved audience_action proposal is applied, withdrawn (withdrawn_at) by its rollback:
    a row is never deleted, so what was sent, to whom and when stays readable. An audience's identity is its
    test and its segment (segment_key: a digest of the segment's canonical JSON, decisions/audiences.py); at
    most one list of an audience is live at a time. `customer_ids` are the test's customers in the segment that
    have an id, as they were when the list was published; `without_id` counts those the file gave no id.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="audience_lists")
    proposal = models.ForeignKey(
        "Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="audience_lists"
    )
    segment = models.JSONField(default=dict)
    segment_key = models.CharField(max_length=64)
    action = models.CharField(max_length=64)  # the arm the audience now gets
    customer_ids = models.JSONField(default=list)
    without_id = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["experiment", "segment_key"], name="audience_list_segment_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "segment_key"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_live_list_per_audience",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} to {len(self.customer_ids)} customers of {self.experiment}"

    @property
    def live(self) -> bool:
        return self.withdrawn_at is None
