"""Read-only admin pages for what the machine proposed, what people did with it, and the figures behind it.

Every change to these rows goes through a service that checks the guardrails, writes the audit event and
queues the follow-ups in one transaction (decisions/review/transitions.py, the importers, a generation
run). An edit here would approve a proposal with no review, no audit event and no outbox row, or move a
campaign's budget behind the log's back, so these pages show rows and change none: no add, change or
delete, and no bulk delete. Users, groups and the beat schedule keep their ordinary admin pages.
"""

from django.contrib import admin

from decisions.models import Application, AuditEvent, Campaign, GenerationRun, ImportRun, Proposal, Review
from objectives.admin import ReadOnlyAdmin


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "name", "channel", "platform", "daily_budget", "status"]
    list_filter = ["channel", "platform", "status"]
    search_fields = ["external_id", "name"]


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "campaign", "status", "expected_mean", "p_loss", "priority", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["campaign"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["proposal_id", "decision", "reviewer_label", "reason_code", "by_policy", "created_at"]
    list_filter = ["decision", "by_policy"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["id", "proposal_id", "connector", "platform", "status", "attempts", "updated_at"]
    list_filter = ["status", "connector"]


@admin.register(GenerationRun)
class GenerationRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "metric", "window_start", "window_end", "started_at", "finished_at"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "filename", "status", "rows_written", "created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log is append-only: the model, the queryset and (on PostgreSQL) triggers refuse changes too."""

    list_display = ["id", "created_at", "actor_label", "action", "proposal_id", "hash_scheme"]
    list_filter = ["action"]
