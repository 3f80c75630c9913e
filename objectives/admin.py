"""Read-only admin pages: objectives, guardrails and the auto-approval policy change through services
(versioned and audited), via `manage.py policy import` or the app's pages, never by editing rows here."""

from django.contrib import admin

from objectives.models import AutoApprovalPolicy, Guardrail, GuardrailVersion, Objective


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows, changes none: no add, change or delete page, and so no bulk delete action either.

    A POST to any of those pages is refused with 403 before a form is read.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Objective)
class ObjectiveAdmin(ReadOnlyAdmin):
    list_display = ["id", "metric", "horizon_days", "is_active", "created_at", "created_by"]
    list_filter = ["is_active", "metric"]


class GuardrailVersionInline(admin.TabularInline):
    model = GuardrailVersion
    fields = ["version", "is_active", "severity", "scope", "params", "changed_by_label", "reason", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Guardrail)
class GuardrailAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "severity", "scope", "params", "is_active", "version", "updated_at"]
    list_filter = ["is_active", "kind", "severity"]
    search_fields = ["name"]
    inlines = [GuardrailVersionInline]


@admin.register(GuardrailVersion)
class GuardrailVersionAdmin(ReadOnlyAdmin):
    list_display = ["guardrail", "version", "is_active", "changed_by_label", "reason", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["guardrail"]


@admin.register(AutoApprovalPolicy)
class AutoApprovalPolicyAdmin(ReadOnlyAdmin):
    list_display = ["id", "is_enabled", "max_change_pct", "max_p_loss", "kinds", "channels", "version", "updated_at"]
