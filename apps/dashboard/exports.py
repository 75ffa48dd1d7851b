"""CSV exports of the patient's records and the ZIP of everything.

Every column name is unique and carries its unit (glucose_mgdl, snooze_minutes); every time is
ISO 8601 with its offset: `_utc` columns in UTC (+00:00), `local_time` and `adjusted_at_local`
in the device's own offset (2026-11-10T07:00:00-05:00), so a spreadsheet never has to guess.
"""

import io
import tempfile
import zipfile
from datetime import UTC, date, datetime

from django.http import FileResponse, StreamingHttpResponse

from apps.dashboard.csv_cells import safe_csv_writer
from apps.glucose import localtime
from apps.glucose.reports.exports import EXPORT_TYPES, exported_records
from apps.glucose.units import MGDL, MMOLL, convert_mgdl

# The name a person reads (form, page); the key stays the URL's ?type= and the file's name.
RECORD_TYPE_NAMES = {
    "egvs": "Glucose readings (EGVs)",
    "events": "Events (carbs, insulin, exercise, health, notes)",
    "alerts": "Alerts",
    "calibrations": "Calibrations",
    "devices": "Devices",
    "alert_settings": "Alert settings history",
}
TIMED_COLUMNS = (
    "record_id",
    "system_time_utc",
    "local_time",
    "display_offset_seconds",
    "display_device",
    "display_app",
    "transmitter_generation",
)
GLUCOSE_COLUMNS = ("glucose_mgdl", "glucose_mmoll")
# The columns after TIMED_COLUMNS of each record type (devices and settings have their own).
RECORD_TYPES = {
    "egvs": GLUCOSE_COLUMNS + ("status", "trend", "trend_rate_unit", "trend_rate"),
    "events": ("event_status", "event_type", "event_sub_type", "value", "value_unit"),
    "alerts": ("alert_name", "alert_state"),
    "calibrations": GLUCOSE_COLUMNS + ("entered_unit",),
    "devices": (),
    "alert_settings": (),
}
# Model fields behind the columns whose names differ from them.
_FIELD_OF_COLUMN = {"trend_rate_unit": "rate_unit", "value_unit": "unit", "entered_unit": "unit"}
DEVICE_COLUMNS = (
    "device_key",
    "transmitter_generation",
    "transmitter_generation_variant",
    "display_device",
    "display_app",
    "last_upload_utc",
)
SETTING_COLUMNS = (
    "device_key",
    "schedule_name",
    "alert_name",
    "threshold",
    "threshold_unit",
    "enabled",
    "snooze_minutes",
    "delay",
    "secondary_trigger_condition",
    "sound_theme",
    "sound_output_mode",
    "valid_from_utc",
    "adjusted_at_local",
)
# Dexcom names the default schedule with an empty string; the devices page says "Default".
DEFAULT_SCHEDULE_NAME = "Default"


class BadExportPeriod(ValueError):
    """The export's dates make no period (end before start); the message is for the user."""


def export_first_day(start: str | None, *, last_day: date, default: date) -> date:
    """The export's first local day from ?start=, or a clear error."""
    if not start:
        return default
    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise BadExportPeriod(f"The start date {start!r} is not a date (YYYY-MM-DD).") from None
    if first_day > last_day:
        raise BadExportPeriod(
            f"The end date ({last_day:%d %b %Y}) is before the start date ({first_day:%d %b %Y}): "
            "choose an end on or after the start."
        )
    return first_day


class _Echo:
    """CSV writer target that hands each line back instead of buffering it (streaming)."""

    def write(self, value):
        return value


def _header(record_type: str) -> list[str]:
    if record_type == "devices":
        return list(DEVICE_COLUMNS)
    if record_type == "alert_settings":
        return list(SETTING_COLUMNS)
    return list(TIMED_COLUMNS) + list(RECORD_TYPES[record_type])


def _utc_iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _timed_row(record, record_type: str) -> list:
    local = localtime.record_local_time_with_offset(record.system_time, record.display_delta_seconds)
    row = [
        record.record_id,
        _utc_iso(record.system_time),
        local.isoformat(),
        record.display_offset_seconds,
        record.display_device,
        record.display_app,
        record.transmitter_generation,
    ]
    for column in RECORD_TYPES[record_type]:
        if column == "glucose_mgdl":
            row.append(convert_mgdl(record.value, MGDL))
        elif column == "glucose_mmoll":
            row.append(convert_mgdl(record.value, MMOLL))
        else:
            row.append(getattr(record, _FIELD_OF_COLUMN.get(column, column)))
    return row


def _device_row(device) -> list:
    return [getattr(device, c) for c in DEVICE_COLUMNS[:-1]] + [_utc_iso(device.last_upload_date)]


def _setting_row(version) -> list:
    adjusted = (
        localtime.record_local_time_with_offset(
            version.system_time, version.display_delta_seconds
        ).isoformat()
        if version.system_time
        else ""
    )
    return [
        version.device.device_key,
        version.schedule_name or DEFAULT_SCHEDULE_NAME,
        version.alert_name,
        version.value,
        version.unit,
        version.enabled,
        version.snooze,
        version.delay,
        version.secondary_trigger_condition,
        version.sound_theme,
        version.sound_output_mode,
        _utc_iso(version.valid_from),
        adjusted,
    ]


def _rows(*, patient, record_type: str, first_day=None, end_day=None):
    records = exported_records(
        patient_id=patient.pk, record_type=record_type, first_day=first_day, end_day=end_day
    )
    if record_type == "devices":
        return (_device_row(device) for device in records)
    if record_type == "alert_settings":
        return (_setting_row(version) for version in records)
    return (_timed_row(record, record_type) for record in records)


def csv_response(*, patient, record_type: str, first_day: date, end_day: date):
    writer = safe_csv_writer(_Echo())
    lines = (writer.writerow(row) for row in _csv_rows(patient, record_type, first_day, end_day))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    last_day = date.fromordinal(end_day.toordinal() - 1)
    response["Content-Disposition"] = (
        f'attachment; filename="dexweb-{record_type}-{first_day}-{last_day}.csv"'
    )
    return response


def _csv_rows(patient, record_type, first_day=None, end_day=None):
    yield _header(record_type)
    yield from _rows(patient=patient, record_type=record_type, first_day=first_day, end_day=end_day)


def _zip_entry(name: str, made_at_local: datetime) -> zipfile.ZipInfo:
    # ZipFile.open(name, "w") stamps 1980-01-01; a ZIP stores a local time without zone, so
    # the entries carry the moment of the export on the patient's wall clock.
    info = zipfile.ZipInfo(name, date_time=made_at_local.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_response(*, patient, made_at_local: datetime):
    """Every record type, whole history, one CSV each; spooled to disk beyond 16 MB."""
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record_type in EXPORT_TYPES:
            with archive.open(_zip_entry(f"{record_type}.csv", made_at_local), "w") as member:
                text = io.TextIOWrapper(member, encoding="utf-8", newline="")
                writer = safe_csv_writer(text)
                for row in _csv_rows(patient, record_type):
                    writer.writerow(row)
                text.flush()
                text.detach()
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename="dexweb-export.zip", content_type="application/zip"
    )
