"""Admin for Dexcom connections: status and actions, never the tokens."""

from django.contrib import admin, messages

from apps.dexcom.models import DexcomConnection
from apps.dexcom.services import disconnect
from apps.dexcom.sync_hook import sync_hook


@admin.register(DexcomConnection)
class DexcomConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "status",
        "region",
        "last_sync_at",
        "last_error",
        "access_token_expires_at",
        "backfill_percent",
    ]
    list_filter = ["status"]
    search_fields = ["user__email", "dexcom_user_id"]
    # An explicit field list: the encrypted token columns are never rendered, not even read-only.
    fields = [
        "user",
        "dexcom_user_id",
        "base_url",
        "status",
        "access_token_expires_at",
        "connected_at",
        "last_sync_at",
        "last_sync_attempt_at",
        "last_error",
        "reauth_reason",
        "tokens_refreshed_at",
        "refresh_state",
        "backfill_total_days",
        "backfill_done_days",
        "backfill_completed_at",
        "sync_lease_until",
    ]
    readonly_fields = fields
    actions = ["sync_now", "full_backfill", "disconnect_selected"]

    def has_add_permission(self, request):
        return False  # connections are made by the patient through Dexcom's consent

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Region")
    def region(self, obj):
        return obj.region

    @admin.display(description="Token refresh")
    def refresh_state(self, obj):
        # The state of the last refresh only: the tokens themselves are never shown.
        lost_at = f"{obj.refresh_answer_lost_at:%Y-%m-%d %H:%M:%S} UTC" if obj.refresh_answer_lost_at else ""
        if obj.lost_refresh_token_encrypted:
            return f"answer lost {lost_at}; the spent token is kept encrypted for diagnosis"
        if lost_at:
            return f"answer lost at {lost_at}; retrying after a pause"
        if obj.refresh_started_at:
            return f"in flight since {obj.refresh_started_at:%Y-%m-%d %H:%M:%S} UTC"
        return "ok"

    @admin.display(description="Backfill %")
    def backfill_percent(self, obj):
        return obj.backfill_percent

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        active = queryset.filter(status=DexcomConnection.Status.ACTIVE)
        for connection in active:
            sync_hook().enqueue_sync(connection_id=connection.pk)
        self.message_user(request, f"Queued a sync of {active.count()} connection(s).")

    @admin.action(description="Full re-backfill")
    def full_backfill(self, request, queryset):
        active = queryset.filter(status=DexcomConnection.Status.ACTIVE)
        for connection in active:
            sync_hook().enqueue_backfill(connection_id=connection.pk, restart=True)
        self.message_user(request, f"Queued a full backfill of {active.count()} connection(s).")

    @admin.action(description="Disconnect (delete tokens)")
    def disconnect_selected(self, request, queryset):
        for connection in queryset:
            disconnect(connection_id=connection.pk)
        self.message_user(request, f"Disconnected {queryset.count()} connection(s).", messages.WARNING)
