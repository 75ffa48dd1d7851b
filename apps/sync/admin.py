"""Read-only admin pages of sync runs, quarantined records and what is stored per patient."""

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum

from apps.glucose.models import Alert, AlertSettingVersion, DailySummary, Device, Event
from apps.sync.models import QuarantinedRecord, StoredPatientData, SyncRun


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


def _per_patient(queryset, aggregate):
    """One patient's aggregate as a subquery of the connection's row."""
    rows = queryset.filter(patient=OuterRef("user")).order_by().values("patient").annotate(n=aggregate)
    return Subquery(rows.values("n"), output_field=IntegerField())


def _day(order: str):
    return Subquery(DailySummary.objects.filter(patient=OuterRef("user")).order_by(order).values("day")[:1])


@admin.register(StoredPatientData)
class StoredPatientDataAdmin(ReadOnlyAdmin):
    """Counts and spans only: the rows themselves are health data, seen on the patient's pages by
    those the patient shares with, and keyed by patient in a way the admin's forms cannot take."""

    list_display = [
        "user",
        "status",
        "readings",
        "first_day",
        "last_day",
        "alerts",
        "events",
        "devices",
        "setting_versions",
        "last_sync_at",
    ]
    list_filter = ["status"]
    search_fields = ["user__email"]
    fields = list_display
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                readings_held=_per_patient(DailySummary.objects, Sum("readings")),
                first_day_held=_day("day"),
                last_day_held=_day("-day"),
                alerts_held=_per_patient(Alert.objects, Count("*")),
                events_held=_per_patient(Event.objects, Count("*")),
                devices_held=_per_patient(Device.objects, Count("*")),
                setting_versions_held=_per_patient(AlertSettingVersion.objects, Count("*")),
            )
        )

    @admin.display(description="readings", ordering="readings_held")
    def readings(self, obj):
        return obj.readings_held or 0

    @admin.display(description="first day", ordering="first_day_held")
    def first_day(self, obj):
        return obj.first_day_held

    @admin.display(description="last day", ordering="last_day_held")
    def last_day(self, obj):
        return obj.last_day_held

    @admin.display(description="alert records", ordering="alerts_held")
    def alerts(self, obj):
        return obj.alerts_held or 0

    @admin.display(description="events", ordering="events_held")
    def events(self, obj):
        return obj.events_held or 0

    @admin.display(description="devices", ordering="devices_held")
    def devices(self, obj):
        return obj.devices_held or 0

    @admin.display(description="settings versions", ordering="setting_versions_held")
    def setting_versions(self, obj):
        return obj.setting_versions_held or 0
