"""CSV exports of the patient's records and the ZIP of everything."""

import io
import tempfile
import zipfile
from datetime import date

from django.http import FileResponse, StreamingHttpResponse

from apps.dashboard.csv_cells import safe_csv_writer
from apps.glucose import localtime
from apps.glucose.models import Alert, AlertSettingVersion, Calibration, Device, Egv, Event
from apps.glucose.units import MMOLL, convert_mgdl

TIMED_COLUMNS = ("record_id", "system_time_utc", "local_time", "display_offset_seconds",
                 "display_device", "display_app", "transmitter_generation")
RECORD_TYPES = {
    "egvs": (Egv, ("value_mgdl", "value_in_unit", "status", "trend", "trend_rate")),
    "events": (Event, ("event_status", "event_type", "event_sub_type", "value", "unit")),
    "alerts": (Alert, ("alert_name", "alert_state")),
    "calibrations": (Calibration, ("value_mgdl", "value_in_unit", "unit")),
    "devices": (Device, ()),
    "alert_settings": (AlertSettingVersion, ()),
}
DEVICE_COLUMNS = ("device_key", "transmitter_generation", "transmitter_generation_variant",
                  "display_device", "display_app", "last_upload_date")
SETTING_COLUMNS = ("device_key", "schedule_name", "alert_name", "value", "unit", "enabled",
                   "snooze", "delay", "secondary_trigger_condition", "sound_theme",
                   "sound_output_mode", "valid_from", "system_time")


class _Echo:
    """CSV writer target that hands each line back instead of buffering it (streaming)."""

    def write(self, value):
        return value


def _header(record_type: str, unit: str) -> list[str]:
    if record_type == "devices":
        return list(DEVICE_COLUMNS)
    if record_type == "alert_settings":
        return list(SETTING_COLUMNS)
    extra = [c.replace("value_in_unit", f"value_{'mmoll' if unit == MMOLL else 'mgdl'}")
             for c in RECORD_TYPES[record_type][1]]
    return list(TIMED_COLUMNS) + extra


def _timed_row(record, record_type: str, unit: str) -> list:
    row = [record.record_id, record.system_time.isoformat(), record.local_time.isoformat(),
           record.display_offset_seconds, record.display_device, record.display_app,
           record.transmitter_generation]
    for column in RECORD_TYPES[record_type][1]:
        if column == "value_mgdl":
            row.append(record.value)
        elif column == "value_in_unit":
            row.append(convert_mgdl(record.value, unit))
        else:
            row.append(getattr(record, column))
    return row


def _rows(*, patient, record_type: str, unit: str, first_day=None, end_day=None):
    model = RECORD_TYPES[record_type][0]
    if record_type == "devices":
        for device in Device.objects.filter(patient=patient).order_by("id"):
            yield [getattr(device, c) for c in DEVICE_COLUMNS]
        return
    if record_type == "alert_settings":
        versions = AlertSettingVersion.objects.filter(device__patient=patient).select_related("device")
        for v in versions.order_by("valid_from", "id"):
            yield [v.device.device_key] + [getattr(v, c) for c in SETTING_COLUMNS[1:]]
        return
    records = model.objects.filter(patient=patient)
    if first_day is not None:
        start, end = localtime.utc_bounds_for_local_days(first_day, end_day)
        records = records.filter(system_time__gte=start, system_time__lt=end)
    for record in records.order_by("system_time").iterator(chunk_size=2000):
        if first_day is not None and not first_day <= record.local_time.date() < end_day:
            continue
        yield _timed_row(record, record_type, unit)


def csv_response(*, patient, record_type: str, first_day: date, end_day: date, unit: str):
    writer = safe_csv_writer(_Echo())
    lines = (writer.writerow(row) for row in _csv_rows(patient, record_type, unit, first_day, end_day))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    last_day = date.fromordinal(end_day.toordinal() - 1)
    response["Content-Disposition"] = (
        f'attachment; filename="dexweb-{record_type}-{first_day}-{last_day}.csv"'
    )
    return response


def _csv_rows(patient, record_type, unit, first_day=None, end_day=None):
    yield _header(record_type, unit)
    yield from _rows(patient=patient, record_type=record_type, unit=unit,
                     first_day=first_day, end_day=end_day)


def zip_response(*, patient, unit: str):
    """Every record type, whole history, one CSV each; spooled to disk beyond 16 MB."""
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record_type in RECORD_TYPES:
            with archive.open(f"{record_type}.csv", "w") as member:
                text = io.TextIOWrapper(member, encoding="utf-8", newline="")
                writer = safe_csv_writer(text)
                for row in _csv_rows(patient, record_type, unit):
                    writer.writerow(row)
                text.flush()
                text.detach()
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename="dexweb-export.zip",
                        content_type="application/zip")
