"""The patient's Dexcom records, one model per Dexcom record type.

Times: `system_time` is the instant in UTC. Dexcom's displayTime is the wall clock the device
showed; `display_offset_seconds` is the UTC offset it carried (None for receivers, which send no
offset) and `display_delta_seconds` is displayTime's wall clock minus systemTime, which gives the
patient's local wall-clock time for every record, receiver or app:
    local wall clock = system_time + display_delta_seconds.
Glucose values are always mg/dL as Dexcom reports them; conversion happens only for display.
Unknown enum values from a newer Dexcom version are stored as they came, never rejected.
"""

from django.conf import settings
from django.db import models

from apps.glucose import localtime, metrics, targets

ODD_DELTA_SECONDS = int(localtime.UTC_MARGIN.total_seconds())


class DexcomRecord(models.Model):
    """Fields every timed Dexcom record shares.

    Keyed by (patient, record_id): Dexcom's recordId is unique per record, and a key that leads
    with the patient lets PostgreSQL be sharded by patient (Citus distributes a table by a column
    every unique constraint includes). No surrogate id: it would cost 8 bytes and an index per
    reading and identify nothing.
    """

    pk = models.CompositePrimaryKey("patient", "record_id")
    # No index of its own: the key and (patient, system_time) already lead with the patient.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    record_id = models.CharField(max_length=64)
    system_time = models.DateTimeField()
    display_delta_seconds = models.IntegerField(
        help_text="displayTime's wall clock minus systemTime, in seconds"
    )
    display_offset_seconds = models.IntegerField(
        null=True, blank=True, help_text="UTC offset displayTime carried; empty for receivers"
    )
    display_device = models.CharField(max_length=32, blank=True)
    display_app = models.CharField(max_length=32, blank=True)
    transmitter_id = models.CharField(max_length=64, blank=True)
    transmitter_generation = models.CharField(max_length=32, blank=True)
    transmitter_generation_variant = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True

    @property
    def local_time(self):
        """The wall-clock time the patient's device showed (naive: it is what they saw)."""
        return localtime.record_local_time(self.system_time, self.display_delta_seconds)


class Egv(DexcomRecord):
    """An estimated glucose value: one reading every 5 minutes."""

    value = models.SmallIntegerField(
        null=True, help_text="mg/dL; 39 means below 40 (status low), 401 above 400 (status high)"
    )
    status = models.CharField(max_length=16, blank=True)
    trend = models.CharField(max_length=32, blank=True)
    trend_rate = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    rate_unit = models.CharField(max_length=16, blank=True)
    transmitter_ticks = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "EGV"
        indexes = [
            # Covering the trace's read (time, wall clock, value, status): PostgreSQL answers it
            # from the index alone, so it reads the same pages however the rows of live syncs lie
            # interleaved in the table.
            models.Index(
                fields=["patient", "system_time"],
                include=["display_delta_seconds", "value", "status"],
                name="egv_patient_time",
            ),
            # The rare readings whose wall clock is more than a day from their systemTime (a
            # receiver with a reset clock): reads by local day find them without a full scan.
            models.Index(
                fields=["patient", "system_time"],
                name="egv_odd_display_offset",
                condition=models.Q(display_delta_seconds__gt=ODD_DELTA_SECONDS)
                | models.Q(display_delta_seconds__lt=-ODD_DELTA_SECONDS),
            ),
        ]


class Alert(DexcomRecord):
    alert_name = models.CharField(max_length=32)
    alert_state = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "system_time"], name="alert_patient_time")]


class Calibration(DexcomRecord):
    value = models.SmallIntegerField(null=True)
    unit = models.CharField(max_length=16, blank=True)
    transmitter_ticks = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "system_time"], name="calibration_patient_time")]


class Event(DexcomRecord):
    """A user-entered event. Dexcom keeps the recordId when an event is updated or deleted."""

    event_status = models.CharField(max_length=16)
    event_type = models.CharField(max_length=32)
    event_sub_type = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=512, blank=True, help_text="as Dexcom sent it (a string)")
    numeric_value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "system_time"], name="event_patient_time")]

    @property
    def is_deleted(self) -> bool:
        return self.event_status == "deleted"


class Device(models.Model):
    """A display device (receiver or phone app) with its transmitter, as Dexcom last reported it.

    Keyed by (patient, device_key) like every growing patient table (see DexcomRecord); its
    schedules and settings history refer to it by that key.
    """

    pk = models.CompositePrimaryKey("patient", "device_key")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device_key = models.CharField(
        max_length=128, help_text="transmitterId, or generation/device/app when it is empty"
    )
    transmitter_id = models.CharField(max_length=64, blank=True)
    transmitter_generation = models.CharField(max_length=32, blank=True)
    transmitter_generation_variant = models.CharField(max_length=32, blank=True)
    display_device = models.CharField(max_length=32, blank=True)
    display_app = models.CharField(max_length=32, blank=True)
    last_upload_date = models.DateTimeField(null=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)


def _device_relation(*, related_name: str) -> models.ForeignObject:
    """The device a schedule or setting belongs to, by its (patient, device_key) key.

    A ForeignObject, since Django's ForeignKey cannot point at a composite key; it keeps no
    constraint in the database, so deleting goes through Django (as every delete here does).
    """
    return models.ForeignObject(
        Device,
        on_delete=models.CASCADE,
        from_fields=("patient", "device_key"),
        to_fields=("patient", "device_key"),
        related_name=related_name,
    )


class AlertSchedule(models.Model):
    """One alert schedule of a device as last reported (the default one and e.g. a night one)."""

    pk = models.CompositePrimaryKey("patient", "device_key", "name")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device_key = models.CharField(max_length=128)
    device = _device_relation(related_name="schedules")
    name = models.CharField(max_length=64, blank=True)
    is_enabled = models.BooleanField()
    is_default = models.BooleanField()
    start_time = models.CharField(max_length=16)
    end_time = models.CharField(max_length=16)
    days_of_week = models.JSONField(default=list)
    is_active = models.BooleanField(null=True)
    override = models.JSONField(null=True, blank=True)


class AlertSettingVersion(models.Model):
    """One alert setting of a schedule as it was from `valid_from` on: the history of settings.

    A new row is written only when the setting's content changes, so the table is the list of
    what changed when; the current setting is the newest row per (device, schedule, alert).
    """

    pk = models.CompositePrimaryKey("patient", "device_key", "schedule_name", "alert_name", "content_hash")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device_key = models.CharField(max_length=128)
    device = _device_relation(related_name="setting_versions")
    schedule_name = models.CharField(max_length=64, blank=True)
    alert_name = models.CharField(max_length=32)
    # In `unit`, as the device reports it: mmol/L devices send decimals (3.9, 0.11 mmol/L/min).
    value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    snooze = models.IntegerField(null=True, blank=True)
    enabled = models.BooleanField()
    delay = models.IntegerField(null=True, blank=True)
    secondary_trigger_condition = models.IntegerField(null=True, blank=True)
    sound_theme = models.CharField(max_length=16, blank=True)
    sound_output_mode = models.CharField(max_length=16, blank=True)
    system_time = models.DateTimeField(null=True, help_text="when the user last adjusted it")
    display_delta_seconds = models.IntegerField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    valid_from = models.DateTimeField(help_text="adjustment time, or first seen when unknown")
    observed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["patient", "device_key", "alert_name", "valid_from"], name="alert_setting_history"
            )
        ]


class DataRange(models.Model):
    """The newest dataRange answer Dexcom gave for a patient."""

    patient = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    egvs_start = models.DateTimeField(null=True)
    egvs_end = models.DateTimeField(null=True)
    events_start = models.DateTimeField(null=True)
    events_end = models.DateTimeField(null=True)
    calibrations_start = models.DateTimeField(null=True)
    calibrations_end = models.DateTimeField(null=True)
    fetched_at = models.DateTimeField(auto_now=True)


def _band_count_fields() -> dict:
    """One IntegerField per stored band column of metrics.BAND_COLUMNS (both units), the one
    definition of the columns: DailySummary holds them and TriageSnapshot.sums sums them."""
    return {column: models.IntegerField(default=0) for column in metrics.COUNT_COLUMNS}


BandCounts = type(
    "BandCounts",
    (models.Model,),
    {
        "__module__": __name__,
        "__doc__": "Readings per band (metrics.BAND_COLUMNS): the upper bands as a patient reading "
        "mmol/L sees them too (141, 181 and 251 mg/dL read 7.8, 10.0 and 13.9), and the "
        "pregnancy range 63-140 mg/dL (3.5-7.8 mmol/L).",
        "Meta": type("Meta", (), {"abstract": True}),
        **_band_count_fields(),
    },
)


class DailySummary(BandCounts):
    """Sums and band counts of one patient's EGVs for one local day, kept current by the sync.

    Every consensus metric of a period can be computed from these rows without scanning raw
    readings (the triage list of 1,000 patients reads these). LOW counts as 40 and HIGH as 400.
    """

    pk = models.CompositePrimaryKey("patient", "day")  # keyed by patient, as DexcomRecord says why
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField(help_text="the patient's local date")
    readings = models.IntegerField(default=0)
    value_sum = models.FloatField(default=0)
    value_sq_sum = models.FloatField(default=0)
    last_reading_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)


class PatientTargets(models.Model):
    """The target set a patient is held to (apps.glucose.targets), chosen by them or by a
    clinician they share with. No row: the standard set."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    target_set = models.CharField(max_length=32, choices=targets.CHOICES, default=targets.STANDARD)
    # A custom set, as entered: the range in `custom_unit` and three goals (percent of readings).
    custom_low = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    custom_high = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    custom_unit = models.CharField(max_length=8, blank=True)
    custom_in_range_min = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    custom_below_max = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    custom_above_max = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "patient targets"

    @property
    def custom(self) -> targets.CustomChoice | None:
        if self.custom_low is None:
            return None
        return targets.CustomChoice(
            low=self.custom_low,
            high=self.custom_high,
            unit=self.custom_unit,
            in_range_min=self.custom_in_range_min,
            below_max=self.custom_below_max,
            above_max=self.custom_above_max,
        )

    def as_target_set(self) -> targets.TargetSet:
        return targets.target_set(self.target_set, self.custom)


class TargetsChange(models.Model):
    """One change of a patient's target set: who, when, from where, from what to what.
    Append-only, shown to the patient and their clinicians on the targets page."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text so the entry still says who it was after their account is gone.
    actor_email = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    before = models.CharField(max_length=200)
    after = models.CharField(max_length=200)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"], name="targets_change_patient_at")]

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("target changes are append-only")
        super().save(*args, **kwargs)


TRIAGE_SORT_COLUMNS = [
    "wear_percent",
    "tir_70_180_percent",
    "tbr_below_70_percent",
    "tbr_below_54_percent",
    "tar_above_180_percent",
    "tar_above_250_percent",
    "gmi_percent",
    "cv_percent",
    "gri",
    "tir_change",
]
# The patient's target set on a snapshot: its measures (percent of the current period's
# readings) and, per flagged goal, the value beyond which the triage list flags it (NULL: the
# set has no such flag). apps.sharing.triage compares them in SQL; the set itself is in
# `target_set` for the rows shown.
TRIAGE_TARGET_COLUMNS = [
    "target_below_percent",
    "target_in_range_percent",
    "target_above_percent",
]
TRIAGE_FLAG_COLUMNS = [
    "flag_very_low_above",
    "flag_below_above",
    "flag_in_range_below",
    "flag_above_above",
    "flag_very_high_above",
    "flag_cv_above",
]


def _nullable_floats(names) -> dict:
    return {name: models.FloatField(null=True) for name in names}


TriageTargetFields = type(
    "TriageTargetFields",
    (models.Model,),
    {
        "__module__": __name__,
        "__doc__": "A snapshot's target-set columns (TRIAGE_TARGET_COLUMNS, TRIAGE_FLAG_COLUMNS).",
        "Meta": type("Meta", (), {"abstract": True}),
        **_nullable_floats([*TRIAGE_TARGET_COLUMNS, *TRIAGE_FLAG_COLUMNS]),
    },
)


class TriageSnapshot(TriageTargetFields):
    """One patient's triage figures over their last `period_days` full local days and the
    `period_days` before, so a clinician's list of thousands sorts and pages in SQL.

    Rebuilt with the DailySummary rows it sums (apps/glucose/snapshots.py, in the same
    transaction) and, for a period nobody rebuilt yet or one that has rolled over, when a list
    asks for it. `sums` holds the summed DailySummary columns of both periods, exactly what the
    list computes its numbers from; the metric columns are those numbers for the current
    period, stored so the list can sort by them. Valid while the patient's local "today" is the
    day after `last_day` ([valid_from, valid_until)), and for the zone and unit choice it was
    computed with.
    """

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period_days = models.SmallIntegerField()
    first_day = models.DateField(help_text="the current period's first local day")
    last_day = models.DateField(help_text="the current period's last local day (yesterday)")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    time_zone = models.CharField(max_length=64, help_text="the patient's zone it was computed in")
    unit_choice = models.CharField(max_length=16, blank=True, help_text="the patient's unit setting then")
    unit = models.CharField(max_length=16, help_text="the unit the bands were counted in")
    last_reading_at = models.DateTimeField(null=True)
    sums = models.JSONField(help_text='{"current": {...}, "previous": {...}} summed DailySummary columns')
    readings = models.IntegerField(default=0)
    wear_percent = models.FloatField(null=True)
    tir_70_180_percent = models.FloatField(null=True)
    tbr_below_70_percent = models.FloatField(null=True)
    tbr_below_54_percent = models.FloatField(null=True)
    tar_above_180_percent = models.FloatField(null=True)
    tar_above_250_percent = models.FloatField(null=True)
    gmi_percent = models.FloatField(null=True)
    cv_percent = models.FloatField(null=True)
    gri = models.FloatField(null=True)
    tir_change = models.FloatField(null=True, help_text="TIR now minus TIR in the period before")
    target_set = models.JSONField(default=dict, help_text="the patient's target set (TargetSet.as_dict)")
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "period_days"], name="triage_snapshot_unique_period")
        ]
        # A list reads one period length for thousands of patients: by period first, and with
        # everything it filters, counts and sorts by in the index (PostgreSQL index-only scans;
        # the wide `sums` is read for the 100 rows of a page only). SQLite ignores INCLUDE.
        indexes = [
            models.Index(
                fields=["period_days", "patient"],
                name="triage_snapshot_list",
                include=[
                    "id",
                    "last_day",
                    "valid_from",
                    "valid_until",
                    "time_zone",
                    "unit_choice",
                    "last_reading_at",
                    *TRIAGE_SORT_COLUMNS,
                    *TRIAGE_TARGET_COLUMNS,
                    *TRIAGE_FLAG_COLUMNS,
                ],
            )
        ]


class ClarityImportJob(models.Model):
    """One uploaded Clarity export on its way in: the upload, the progress, the outcome.

    The upload is kept in the database (web and worker share it, not a disk) as
    ClarityUploadChunk rows, each one piece of the file compressed on its own, so neither the
    web process nor the worker ever holds more than one piece; they are dropped once the job
    has ended.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        CHECKING = "checking", "Checking the file"
        SAVING = "saving", "Saving the readings"
        DONE = "done", "Imported"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    ENDED = (Status.DONE, Status.REFUSED, Status.FAILED)

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(help_text="bytes, as uploaded")
    timezone = models.CharField(max_length=64, help_text="the zone the file's local times are read in")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent of the file checked")
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-created_at"], name="clarity_job_patient")]

    @property
    def has_ended(self) -> bool:
        return self.status in self.ENDED


class ClarityUploadChunk(models.Model):
    """One piece (about 1 MB of the CSV file) of an upload, zlib-compressed."""

    job = models.ForeignKey(ClarityImportJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="clarity_chunk_unique_index")]
