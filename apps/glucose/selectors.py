"""Reads of the patient's records for the pages: few queries, numpy arrays for the big ones."""

from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain

import numpy as np
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Case,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.glucose import localtime, targets
from apps.glucose.models import (
    ODD_DELTA_SECONDS,
    Alert,
    AlertSettingVersion,
    Calibration,
    DailySummary,
    Device,
    Egv,
    Event,
    PatientTargets,
    TargetsChange,
)
from apps.glucose.units import GLUCOSE_UNITS


class EpochSeconds(Func):
    """A datetime column as integer seconds since 1970 (UTC), so rows become numpy ints cheaply."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"EpochSeconds has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql_template(
            # date_part gives a double, cheaper than EXTRACT's numeric on 26k rows.
            compiler,
            connection,
            "FLOOR(date_part('epoch', %(expressions)s))::bigint",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql_template(
            compiler, connection, "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)", **extra
        )

    def as_sql_template(self, compiler, connection, template, **extra):
        return Func.as_sql(self, compiler, connection, template=template, **extra)


# A null value with status low/high still is a reading (39 / 401); anything else without a
# value is no reading (0, dropped in numpy).
EGV_VALUE = Coalesce(
    "value",
    Case(When(status="low", then=Value(39)), When(status="high", then=Value(401))),
    Value(0),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class EgvSeries:
    """Readings as parallel numpy arrays, ordered by time."""

    epoch_s: np.ndarray
    delta_s: np.ndarray
    value: np.ndarray

    @property
    def local_epoch_s(self) -> np.ndarray:
        return localtime.local_epoch_seconds(self.epoch_s, self.delta_s)

    @property
    def local_day(self) -> np.ndarray:
        return localtime.local_day_numbers(self.local_epoch_s)

    def __len__(self):
        return int(self.epoch_s.size)

    @staticmethod
    def concatenate(parts: list["EgvSeries"]) -> "EgvSeries":
        """One series of several reads, each reading once (the reads of odd offsets overlap),
        ordered by time."""
        if len(parts) == 1:
            return parts[0]
        table = np.unique(
            np.concatenate([np.stack([p.epoch_s, p.delta_s, p.value], axis=1) for p in parts]),
            axis=0,
        )
        return EgvSeries(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())

    def in_time_order(self) -> "EgvSeries":
        if self.epoch_s.size < 2 or bool(np.all(self.epoch_s[1:] >= self.epoch_s[:-1])):
            return self
        return self.select(np.argsort(self.epoch_s, kind="stable"))

    def select(self, mask) -> "EgvSeries":
        return EgvSeries(self.epoch_s[mask], self.delta_s[mask], self.value[mask])

    def in_local_days(self, first_day: date, end_day: date) -> "EgvSeries":
        days = self.local_day
        mask = (days >= localtime.day_number(first_day)) & (days < localtime.day_number(end_day))
        return self.select(mask)


def _rows_to_series(rows: list[tuple]) -> EgvSeries:
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows))
    table = flat.reshape(-1, 3)
    table = table[table[:, 2] > 0]
    return EgvSeries(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())


def egv_series(
    *,
    patient_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    with_odd_offsets: bool = False,
) -> EgvSeries:
    """Readings with system_time in [start, end), ordered by time (one query).

    `with_odd_offsets` adds, wherever their systemTime, the rare readings whose wall clock is
    more than a day away from it, so a read by local day misses none of them.
    """
    in_window = Q()
    if start is not None:
        in_window &= Q(system_time__gte=start)
    if end is not None:
        in_window &= Q(system_time__lt=end)
    readings = _readings_where(patient_id, in_window)
    if with_odd_offsets and in_window:
        # UNION ALL rather than an OR: an OR would turn the window from the index's range into a
        # filter over every reading of the patient; the partial index makes this branch cheap.
        odd = Q(display_delta_seconds__gt=ODD_DELTA_SECONDS) | Q(display_delta_seconds__lt=-ODD_DELTA_SECONDS)
        readings = readings.union(_readings_where(patient_id, odd & ~in_window), all=True)
    # Ordered here, not in SQL: the index hands the window over in time order already, and
    # sorting the union in PostgreSQL would cost more than the whole index-only scan.
    return _rows_to_series(_fetch_int_rows(readings)).in_time_order()


def _readings_where(patient_id: int, where: Q):
    return (
        Egv.objects.filter(where, patient_id=patient_id)
        .annotate(epoch=EpochSeconds("system_time"), reading=EGV_VALUE)
        .values_list("epoch", "display_delta_seconds", "reading")
    )


def _fetch_int_rows(queryset) -> list[tuple]:
    """The queryset's rows straight from the cursor: for 26k readings Django's per-value
    converters cost more than the query itself, and these columns are plain integers."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def egv_series_for_local_days(*, patient_id: int, first_day: date, end_day: date) -> EgvSeries:
    """Readings whose local wall clock falls in local days [first_day, end_day) (one query):
    every page and the DailySummary rebuild read a local day through here."""
    start, end = localtime.utc_bounds_for_local_days(first_day, end_day)
    series = egv_series(patient_id=patient_id, start=start, end=end, with_odd_offsets=True)
    return series.in_local_days(first_day, end_day)


def real_readings(egvs, *, now: datetime):
    """The one rule for what may be the current reading: not later than the clock allows
    (readings stored with a systemTime ahead of it, as an old rule let in, never are)."""
    return egvs.filter(system_time__lte=localtime.newest_possible_reading_time(now))


def latest_egv(*, patient_id: int, now: datetime | None = None) -> Egv | None:
    """The current reading: the newest real one."""
    return (
        real_readings(Egv.objects.filter(patient_id=patient_id), now=now or timezone.now())
        .only(
            "system_time",
            "display_delta_seconds",
            "value",
            "status",
            "trend",
            "trend_rate",
            # the overview says which device the current reading came from
            "transmitter_generation",
            "display_device",
            "display_app",
        )
        .order_by("-system_time")
        .first()
    )


def daily_summaries(*, patient_id: int, first_day: date, end_day: date) -> list[DailySummary]:
    return list(
        DailySummary.objects.filter(patient_id=patient_id, day__gte=first_day, day__lt=end_day).order_by(
            "day"
        )
    )


def _device_units(patient_ref):
    return (
        AlertSettingVersion.objects.filter(device__patient_id=patient_ref, unit__in=GLUCOSE_UNITS)
        .order_by("-valid_from")
        .values_list("unit", flat=True)
    )


def device_glucose_unit(*, patient_id: int) -> str | None:
    """The unit the patient's newest glucose alert setting uses, i.e. what the device shows."""
    return _device_units(patient_id).first()


def with_local_clock_and_unit(patients, *, now: datetime | None = None):
    """Patients annotated for many at once (the triage list), in the one query of `patients`:
    `latest_delta_seconds` (their current reading's offset: their "today") and `device_unit`."""
    newest_delta = (
        real_readings(Egv.objects.filter(patient_id=OuterRef("pk")), now=now or timezone.now())
        .order_by("-system_time")
        .values("display_delta_seconds")[:1]
    )
    return patients.annotate(
        latest_delta_seconds=Subquery(newest_delta),
        device_unit=Subquery(_device_units(OuterRef("pk"))[:1]),
    )


def in_local_days(queryset, period: localtime.Period):
    """Records of `queryset` whose own wall clock (system time + display delta) falls in the
    period's local days: the same rule as every EGV read, in SQL so lists can paginate. The
    system-time bounds (with the day of margin) keep the (patient, system_time) index."""
    start, end = period.utc_bounds()
    first, last = period.local_epoch_window()
    local_epoch = ExpressionWrapper(
        EpochSeconds("system_time") + F("display_delta_seconds"), output_field=BigIntegerField()
    )
    return (
        queryset.filter(system_time__gte=start, system_time__lt=end)
        .annotate(local_epoch=local_epoch)
        .filter(local_epoch__gte=first, local_epoch__lt=last)
    )


def alerts_in(*, patient_id: int, period: localtime.Period, names=None):
    alerts = in_local_days(Alert.objects.filter(patient_id=patient_id), period)
    if names:
        alerts = alerts.filter(alert_name__in=names)
    return alerts.order_by("system_time")


def events_in(*, patient_id: int, period: localtime.Period, types=None):
    """User events of the period; deleted ones are gone (Dexcom keeps them with status deleted)."""
    events = in_local_days(Event.objects.filter(patient_id=patient_id), period).exclude(
        event_status="deleted"
    )
    if types:
        events = events.filter(event_type__in=types)
    return events.order_by("system_time")


def calibrations_in(*, patient_id: int, period: localtime.Period):
    return in_local_days(Calibration.objects.filter(patient_id=patient_id), period).order_by("system_time")


def marker_rows(queryset, *fields) -> list[tuple]:
    """(epoch seconds, display delta, *fields) of records, for chart markers."""
    return list(
        queryset.annotate(epoch=EpochSeconds("system_time")).values_list(
            "epoch", "display_delta_seconds", *fields
        )
    )


def devices_with_settings(*, patient_id: int) -> list[Device]:
    """Devices with their schedules and whole settings history (three queries in all)."""
    return list(
        Device.objects.filter(patient_id=patient_id)
        .prefetch_related("schedules")
        .prefetch_related("setting_versions")
        .order_by("-last_upload_date", "first_seen_at")
    )


def alert_state_rows(*, patient_id: int, start: datetime, end: datetime) -> list[tuple]:
    """Alert records with system_time in [start, end) as (epoch, delta, name, state, transmitter,
    display device, display app), oldest first: what apps.glucose.alarms groups into alarms."""
    return list(
        Alert.objects.filter(patient_id=patient_id, system_time__gte=start, system_time__lt=end)
        .order_by("system_time")
        .annotate(epoch=EpochSeconds("system_time"))
        .values_list(
            "epoch",
            "display_delta_seconds",
            "alert_name",
            "alert_state",
            "transmitter_id",
            "display_device",
            "display_app",
        )
    )


def reading_span(*, patient_id: int) -> tuple[datetime, datetime] | None:
    """The first and last reading's system time, or None without readings."""
    readings = Egv.objects.filter(patient_id=patient_id)
    first = readings.order_by("system_time").values_list("system_time", flat=True).first()
    if first is None:
        return None
    return first, readings.order_by("-system_time").values_list("system_time", flat=True).first()


def patient_targets(*, patient_id: int) -> PatientTargets | None:
    return PatientTargets.objects.filter(patient_id=patient_id).first()


def patient_target_set(*, patient_id: int) -> targets.TargetSet:
    """The target set the patient is held to (standard until someone chooses one)."""
    choice = patient_targets(patient_id=patient_id)
    return choice.as_target_set() if choice else targets.STANDARD_SET


def target_sets_of(*, patient_ids) -> dict[int, targets.TargetSet]:
    """Patient id -> target set, for many patients in one query (standard when none chosen)."""
    chosen = {
        row.patient_id: row.as_target_set()
        for row in PatientTargets.objects.filter(patient_id__in=patient_ids)
    }
    return {patient_id: chosen.get(patient_id, targets.STANDARD_SET) for patient_id in patient_ids}


def targets_changes(*, patient_id: int, limit: int = 20) -> list[TargetsChange]:
    return list(TargetsChange.objects.filter(patient_id=patient_id)[:limit])


# Export reads (apps.glucose.reports.exports): what Dexcom sent, deleted events included.
TIMED_RECORD_MODELS = {"egvs": Egv, "events": Event, "alerts": Alert, "calibrations": Calibration}


def timed_records(*, patient_id: int, record_type: str, period: localtime.Period | None = None):
    """Every record of one type, oldest first; only those of the period's local days if given."""
    records = TIMED_RECORD_MODELS[record_type].objects.filter(patient_id=patient_id)
    if period is not None:
        records = in_local_days(records, period)
    return records.order_by("system_time")


def devices_of(*, patient_id: int) -> list[Device]:
    return list(Device.objects.filter(patient_id=patient_id).order_by("first_seen_at"))


def alert_setting_versions(*, patient_id: int):
    """Every settings version of every device of the patient, oldest first, with its device."""
    versions = AlertSettingVersion.objects.filter(device__patient_id=patient_id).select_related("device")
    return versions.order_by("valid_from", "observed_at")
