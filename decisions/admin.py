from django.contrib import admin

from decisions.models import AuditEvent, Campaign, GenerationRun, ImportRun, Proposal


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "channel", "platform", "daily_budget", "status"]
    list_filter = ["channel", "platform", "status"]
    search_fields = ["external_id", "name"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "campaign", "status", "expected_mean", "p_loss", "priority", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["campaign"]


@admin.register(GenerationRun)
class GenerationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "metric", "window_start", "window_end", "started_at", "finished_at"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["id", "filename", "status", "rows_written", "created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["id", "created_at", "actor_label", "action", "proposal_id"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
