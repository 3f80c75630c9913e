"""Read-only admin pages: objectives and guardrails change through services (versioned and audited),
via `manage.py policy import` or the guardrail pages, never by editing rows here."""

from django.contrib import admin

from objectives.models import Guardrail, GuardrailVersion, Objective


class ReadOnlyAdmin(admin.ModelAdmin):
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
