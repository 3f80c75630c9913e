"""What humans decide: the objective the engine optimises and the guardrails it obeys."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from objectives import guardrails


class Metric(models.TextChoices):
    PIPELINE_VALUE = "pipeline_value", "Pipeline value"
    CLOSED_REVENUE = "closed_revenue", "Closed revenue"
    CUSTOMER_LIFETIME_VALUE = "customer_lifetime_value", "Customer lifetime value"
    LEADS = "leads", "Leads"
    PLATFORM_REVENUE = "platform_revenue", "Platform-reported revenue (ROAS)"
    PLATFORM_CONVERSIONS = "platform_conversions", "Platform-reported conversions"
    CLICKS = "clicks", "Clicks"


# Metrics that the ad platforms report about themselves. Optimising them is
# allowed but flagged: they reward what the platform can see, not the business.
VANITY_METRICS = frozenset({Metric.CLICKS, Metric.PLATFORM_CONVERSIONS, Metric.PLATFORM_REVENUE})


class Attribution(models.TextChoices):
    # Per-campaign curves, from each campaign's own outcome; or channel curves from totals (the mix model).
    CAMPAIGN = "campaign", "Per campaign"
    MIX = "mix", "Channel mix (from totals)"


class Objective(models.Model):
    metric = models.CharField(max_length=32, choices=Metric.choices, default=Metric.PIPELINE_VALUE)
    attribution = models.CharField(max_length=16, choices=Attribution.choices, default=Attribution.CAMPAIGN)
    # Extra metrics folded into a composite, e.g. {"closed_revenue": 0.5}.
    weights = models.JSONField(default=dict, blank=True)
    horizon_days = models.PositiveIntegerField(default=7)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_objective"),
        ]

    def __str__(self) -> str:
        return self.get_metric_display()

    @property
    def is_vanity(self) -> bool:
        return self.metric in VANITY_METRICS


def guardrail_kind_choices() -> list[tuple[str, str]]:
    """The guardrail kinds of the registry; a callable, so adding a kind needs no migration."""
    return guardrails.kind_choices()


class Severity(models.TextChoices):
    BLOCK = "block", "Block"
    WARN = "warn", "Warn"


class Guardrail(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=32, choices=guardrail_kind_choices)
    # {} = all campaigns; or one of {"channel": …}, {"tag": …}, {"campaign": external_id}.
    scope = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.BLOCK)
    params = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImmutableRowError(Exception):
    """Raised when code tries to change or remove a history row."""


class GuardrailVersion(models.Model):
    """One row per saved state of a guardrail; never changed after it is written."""

    guardrail = models.ForeignKey(Guardrail, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=guardrail_kind_choices)
    scope = models.JSONField(default=dict)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    params = models.JSONField(default=dict)
    is_active = models.BooleanField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_label = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["guardrail", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["guardrail", "version"], name="one_row_per_guardrail_version"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableRowError("Guardrail versions are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError("Guardrail versions are append-only.")

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "scope": self.scope,
            "severity": self.severity,
            "params": self.params,
            "is_active": self.is_active,
        }


class AutoApprovalPolicy(models.Model):
    """Opt-in: small, safe proposals go through without a click. One row; `is_enabled` is the kill switch."""

    is_enabled = models.BooleanField(default=False)
    max_change_pct = models.FloatField(default=5.0, help_text="Largest budget move, % of the campaign's budget.")
    max_p_loss = models.FloatField(default=0.05)
    kinds = models.JSONField(default=list, blank=True, help_text="Proposal kinds it may approve; empty = none.")
    channels = models.JSONField(default=list, blank=True, help_text="Channels it may approve; empty = all.")
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "auto-approval policy"
        verbose_name_plural = "auto-approval policy"  # one row

    def __str__(self) -> str:
        return f"Auto-approval v{self.version} ({'on' if self.is_enabled else 'off'})"
