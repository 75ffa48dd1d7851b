"""Test data written straight into the tables (not through the sync)."""

import itertools
from datetime import UTC, datetime, timedelta

from apps.glucose.ingest import bulk
from apps.glucose.models import (
    Alert,
    AlertSchedule,
    AlertSettingVersion,
    Calibration,
    ClarityImportJob,
    Device,
    Egv,
    Event,
)
from apps.glucose.summaries import rebuild_daily_summaries
from apps.glucose.units import MGDL_PER_MMOLL

_ids = itertools.count(1)


def egv_row(
    patient,
    at: datetime,
    value: int | None,
    *,
    delta_seconds: int = 0,
    status: str = "",
    trend: str = "flat",
    **fields,
) -> dict:
    """One reading's column values (attname -> value), as the ingest writer takes them."""
    status = status or ("low" if value == 39 else "high" if value == 401 else "ok")
    return {
        "patient_id": patient.pk if patient else None,
        "record_id": f"egv-{next(_ids)}",
        "system_time": at,
        "display_delta_seconds": delta_seconds,
        "display_offset_seconds": delta_seconds,
        "display_device": "android",
        "display_app": "G7Android",
        "transmitter_generation": "g7",
        "value": value,
        "status": status,
        "trend": trend,
        "trend_rate": 0.3,
        "unit": "mg/dL",
        "rate_unit": "mg/dL/min",
        **fields,
    }


def egv(patient, at: datetime, value: int | None, **options) -> Egv:
    """An unsaved reading (for bulk_create or a pure function)."""
    return Egv(**egv_row(patient, at, value, **options))


def make_egvs(
    patient, start: datetime, values, *, step_minutes: int = 5, delta_seconds: int = 0, summaries: bool = True
) -> list[dict]:
    """Readings every `step_minutes` from `start`; a None in `values` is a missing reading.

    Written in one prepared statement per batch (apps.glucose.ingest.bulk): building model
    instances and Django's bulk_create took most of a page test's second. Returns the rows."""
    rows = [
        egv_row(patient, start + timedelta(minutes=step_minutes * i), v, delta_seconds=delta_seconds)
        for i, v in enumerate(values)
        if v is not None
    ]
    bulk.insert_new(Egv, rows)
    if summaries:
        rebuild_daily_summaries(patient_id=patient.pk, since=None)
    return rows


def make_days(
    patient,
    *,
    last_day_start: datetime,
    days: int,
    value_for=None,
    delta_seconds: int = 0,
    summaries: bool = True,
) -> list[Egv]:
    """`days` full local days of 288 readings ending with the local day starting at
    `last_day_start` (a UTC instant of local midnight when delta is 0)."""
    value_for = value_for or (lambda i: 100 + (i % 288) // 2)
    start = last_day_start - timedelta(days=days - 1) - timedelta(seconds=delta_seconds)
    values = [value_for(i) for i in range(288 * days)]
    return make_egvs(patient, start, values, delta_seconds=delta_seconds, summaries=summaries)


def recent_day_start(days_ago: int = 1) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def make_event(
    patient,
    at: datetime,
    event_type: str = "carbs",
    value: str = "30",
    *,
    status: str = "created",
    unit: str = "grams",
    sub_type: str = "",
) -> Event:
    return Event.objects.create(
        patient=patient,
        record_id=f"event-{next(_ids)}",
        system_time=at,
        display_delta_seconds=0,
        event_status=status,
        event_type=event_type,
        event_sub_type=sub_type,
        value=value,
        numeric_value=float(value) if value.replace(".", "").isdigit() else None,
        unit=unit,
        display_device="android",
        display_app="G7Android",
    )


PHONE_G7 = {"display_device": "android", "display_app": "G7Android", "transmitter_generation": "g7"}
RECEIVER_G6 = {"display_device": "iOS", "display_app": "G6", "transmitter_generation": "g6"}
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def make_alert(
    patient,
    at: datetime,
    name: str = "high",
    state: str = "activeAlarming",
    *,
    transmitter_id: str = "",
    source=None,
) -> Alert:
    """An alert record; `source` is the device fields (PHONE_G7 unless given)."""
    return Alert.objects.create(
        patient=patient,
        record_id=f"alert-{next(_ids)}",
        system_time=at,
        display_delta_seconds=0,
        alert_name=name,
        alert_state=state,
        transmitter_id=transmitter_id,
        **(source or PHONE_G7),
    )


def make_schedule(
    device, name: str = "", start_time: str = "00:00", end_time: str = "00:00"
) -> AlertSchedule:
    """An alert schedule every day; the one without a name is the default."""
    return AlertSchedule.objects.create(
        device=device,
        name=name,
        is_enabled=True,
        is_default=not name,
        start_time=start_time,
        end_time=end_time,
        days_of_week=EVERY_DAY,
    )


def make_night_schedule(device) -> AlertSchedule:
    return make_schedule(device, "Night", "22:00", "07:00")


def make_g6_snapshot(patient, transmitter_id: str, uploaded: datetime, *, night: bool = False) -> Device:
    """A G6 device as one upload reports it: its default schedule, and a Night one if asked."""
    device = Device.objects.create(
        patient=patient,
        device_key=transmitter_id,
        transmitter_id=transmitter_id,
        last_upload_date=uploaded,
        **RECEIVER_G6,
    )
    make_schedule(device)
    if night:
        make_night_schedule(device)
    return device


def make_calibration(patient, at: datetime, value: int = 120) -> Calibration:
    return Calibration.objects.create(
        patient=patient,
        record_id=f"cal-{next(_ids)}",
        system_time=at,
        display_delta_seconds=0,
        value=value,
        unit="mg/dL",
        display_device="android",
        display_app="G7Android",
    )


def make_device(patient, *, unit: str = "mg/dL", high_history=((datetime(2026, 1, 1, tzinfo=UTC), 200),)):
    """A phone app device with a default and a night schedule; the high threshold's history.

    Thresholds are given in mg/dL and stored as Dexcom reports them: in the device's unit (a
    mmol/L device sends 10.0 for 180 mg/dL).
    """
    device = Device.objects.create(
        patient=patient,
        device_key="g7/android/G7Android",
        last_upload_date=datetime(2026, 11, 20, tzinfo=UTC),
        **PHONE_G7,
    )
    make_schedule(device)
    make_night_schedule(device)

    def in_unit(mgdl):
        return round(mgdl / MGDL_PER_MMOLL, 1) if unit == "mmol/L" else mgdl

    for valid_from, value in high_history:
        setting(device, "high", in_unit(value), valid_from, unit=unit)
    setting(device, "low", in_unit(70), datetime(2026, 1, 1, tzinfo=UTC), unit=unit)
    setting(device, "high", in_unit(250), datetime(2026, 1, 1, tzinfo=UTC), unit=unit, schedule="Night")
    return device


def setting(device, alert_name, value, valid_from, *, unit="mg/dL", schedule="", **fields):
    return AlertSettingVersion.objects.create(
        device=device,
        schedule_name=schedule,
        alert_name=alert_name,
        value=value,
        unit=unit,
        snooze=fields.get("snooze", 30),
        enabled=fields.get("enabled", True),
        delay=0,
        sound_theme="modern",
        sound_output_mode="sound",
        system_time=valid_from,
        display_delta_seconds=0,
        content_hash=f"{schedule}-{alert_name}-{value}-{valid_from}",
        valid_from=valid_from,
    )


def make_import_job(patient, file_name: str = "clarity.csv", **fields) -> ClarityImportJob:
    """A Clarity import job as the upload leaves it (queued), without a stored file."""
    return ClarityImportJob.objects.create(
        patient=patient, file_name=file_name, file_size=fields.pop("file_size", 1), timezone="UTC", **fields
    )
