"""The downloads' report: a patient's records of one type, oldest first, streamed in chunks
for the CSV of one type and the ZIP of everything (apps.dashboard.exports writes them)."""

from collections.abc import Iterator
from datetime import date

from apps.glucose import localtime, selectors

# The timed records (readings, events, alerts, calibrations), then the device snapshots and
# the alert settings history; an export of everything has one file per type, in this order.
EXPORT_TYPES = (*selectors.TIMED_RECORD_MODELS, "devices", "alert_settings")
CHUNK_SIZE = 2000


def exported_records(
    *, patient_id: int, record_type: str, first_day: date | None = None, end_day: date | None = None
) -> Iterator:
    """The records of `record_type`: the timed ones of local days [first_day, end_day) when
    given (the record's own wall clock decides its day), else of the whole history; devices and
    alert settings always whole."""
    if record_type == "devices":
        return iter(selectors.devices_of(patient_id=patient_id))
    if record_type == "alert_settings":
        return selectors.alert_setting_versions(patient_id=patient_id).iterator(chunk_size=CHUNK_SIZE)
    period = localtime.Period(first_day, end_day) if first_day is not None else None
    records = selectors.timed_records(patient_id=patient_id, record_type=record_type, period=period)
    return records.iterator(chunk_size=CHUNK_SIZE)
