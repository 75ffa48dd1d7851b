"""Bookkeeping of the sync engine: runs, quarantined records, per-type cursors, the API budget."""

from django.conf import settings
from django.db import models

from apps.dexcom.models import DexcomConnection


class SyncRun(models.Model):
    """One attempt to bring a patient's data up to date, as admins see it."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # The app-wide call budget ran out mid-run: what was fetched is kept, the rest is queued.
        WAITING = "waiting", "Waiting for Dexcom"

    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        BACKFILL = "backfill", "Backfill"

    connection = models.ForeignKey(
        "dexcom.DexcomConnection", on_delete=models.CASCADE, related_name="sync_runs"
    )
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records = models.JSONField(default=dict, help_text="rows written per record type")
    quarantined = models.IntegerField(default=0)
    api_calls = models.IntegerField(default=0)
    errors = models.JSONField(default=list, help_text="what went wrong, without secrets")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["connection", "-started_at"], name="syncrun_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} sync of {self.patient} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


class QuarantinedRecord(models.Model):
    """A record Dexcom sent that we could not store as is: kept raw with the reason."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="quarantine"
    )
    record_type = models.CharField(max_length=32)
    record_id = models.CharField(max_length=128, blank=True)
    raw = models.JSONField()
    raw_hash = models.CharField(max_length=64, help_text="sha256 of the raw payload")
    # Overlapping windows, the 24 h re-read of events and every devices call see a bad record
    # again and again, its payload not always the same (a device's lastUploadDate moves): one
    # row per record and reason (sha256 of recordId and reason; of the payload without an id).
    dedupe_key = models.CharField(max_length=64, default="")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "record_type"], name="quarantine_patient_type")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "record_type", "dedupe_key"], name="quarantine_unique_entry"
            )
        ]


class SyncCursor(models.Model):
    """How far one record type of one patient is known to be complete.

    `synced_until` moves only in the transaction that commits the rows it covers, so a crash at
    any point resumes from data that is really in the database.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=16)
    synced_until = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "record_type"], name="cursor_unique_type")]


class ApiBudgetWindow(models.Model):
    """Calls made to Dexcom in one minute, by every worker together (the app-wide rate limit)."""

    window_start = models.DateTimeField(unique=True)
    calls = models.IntegerField(default=0)
    backfill_calls = models.IntegerField(default=0, help_text="of which by backfills (a bounded share)")


class SyncSchedule(models.Model):
    """What the budget-aware scheduler knows of one connection (apps/sync/scheduler.py).

    Kept apart from DexcomConnection so a page view's "someone is looking" signal is one small
    UPDATE here, never a session write or a touch of the connection's token row.
    """

    connection = models.OneToOneField(
        "dexcom.DexcomConnection", on_delete=models.CASCADE, primary_key=True, related_name="schedule"
    )
    watched_until = models.DateTimeField(null=True, blank=True)
    fresh_as_of = models.DateTimeField(null=True, blank=True, help_text="start of the last complete sync")
    last_range_at = models.DateTimeField(null=True, blank=True, help_text="last sync that asked dataRange")
    last_full_at = models.DateTimeField(
        null=True, blank=True, help_text="last sync with alerts and events re-read"
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="claimed by the scheduler, not finished"
    )
    queued_plan = models.CharField(max_length=16, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True, help_text="due, but the budget is spent")
    last_attempt_at = models.DateTimeField(null=True, blank=True)


class StoredPatientData(DexcomConnection):
    """A read-only admin view of what is stored per connected patient.

    The patient-data tables are keyed by patient (composite primary keys), which the Django
    admin's edit forms cannot take; operators see their counts and spans here instead.
    """

    class Meta:
        proxy = True
        verbose_name = "stored patient data"
        verbose_name_plural = "stored patient data"
