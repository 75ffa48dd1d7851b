"""Read-only admin pages of sync runs and quarantined records."""

from django.contrib import admin

from apps.sync.models import QuarantinedRecord, SyncRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "patient",
        "kind",
        "status",
        "total_records",
        "quarantined",
        "api_calls",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["patient__email"]
    date_hierarchy = "started_at"
    fields = [
        "connection",
        "patient",
        "kind",
        "status",
        "started_at",
        "finished_at",
        "records",
        "quarantined",
        "api_calls",
        "errors",
    ]
    readonly_fields = fields


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "patient", "record_type", "record_id", "reason"]
    list_filter = ["record_type"]
    search_fields = ["patient__email", "record_id", "reason"]
    fields = ["patient", "run", "record_type", "record_id", "reason", "raw", "created_at"]
    readonly_fields = fields
