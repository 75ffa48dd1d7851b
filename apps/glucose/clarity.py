"""Import of a Dexcom Clarity CSV export, deduplicated against the readings the sync stored.

Clarity writes local wall-clock timestamps without an offset; they are read in the patient's
time zone. Each imported record gets a deterministic record_id (a hash of what it is), so the
same file imported twice adds nothing, and a reading is skipped when a stored one already sits in
the same 5-minute slot (within 2.5 minutes of wall-clock time).
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction

from apps.glucose import localtime, selectors, summaries
from apps.glucose.models import Calibration, Egv, Event
from apps.glucose.units import MGDL_PER_MMOLL

TIMESTAMP = "Timestamp (YYYY-MM-DDThh:mm:ss)"
EVENT_TYPE = "Event Type"
REQUIRED = (TIMESTAMP, EVENT_TYPE, "Event Subtype")
GLUCOSE_COLUMNS = {"Glucose Value (mg/dL)": 1.0, "Glucose Value (mmol/L)": MGDL_PER_MMOLL}
SLOT_SECONDS = 300
EVENT_KINDS = {"carbs": "carbs", "insulin": "insulin", "exercise": "exercise", "health": "health"}
SUBTYPES = {
    "fast-acting": "fastActing", "long-acting": "longActing", "light": "light", "medium": "medium",
    "heavy": "heavy", "illness": "illness", "stress": "stress", "high symptoms": "highSymptoms",
    "low symptoms": "lowSymptoms", "cycle": "cycle", "alcohol": "alcohol",
}


class ClarityFormatError(ValueError):
    """The file is not a Clarity export we can read; the message says what and where."""


@dataclass
class ClarityImportResult:
    egvs_added: int = 0
    egvs_skipped: int = 0
    events_added: int = 0
    calibrations_added: int = 0
    ignored_rows: int = 0
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Clarity import: {self.egvs_added} readings added, {self.egvs_skipped} already "
            f"there, {self.events_added} events and {self.calibrations_added} calibrations added."
        )


def _record_id(*parts) -> str:
    return "clarity-" + hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _read_rows(stream):
    raw = stream.read()
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ClarityFormatError("The file is not a text (UTF-8) CSV file.") from None
    reader = csv.DictReader(io.StringIO(raw))
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED if name not in header]
    glucose_column = next((c for c in GLUCOSE_COLUMNS if c in header), None)
    if missing or glucose_column is None:
        needed = ", ".join(repr(c) for c in missing or ["Glucose Value (mg/dL)"])
        raise ClarityFormatError(
            f"This is not a Dexcom Clarity CSV export: the header has no {needed} column."
        )
    return reader, glucose_column


def _glucose(text: str, factor: float, line: int) -> tuple[int, str]:
    text = (text or "").strip()
    if text.lower() == "low":
        return 39, "low"
    if text.lower() == "high":
        return 401, "high"
    try:
        return round(float(text) * factor), "ok"
    except ValueError:
        raise ClarityFormatError(f"Line {line}: {text!r} is not a glucose value.") from None


def _timestamp(text: str, line: int, tzinfo) -> tuple[datetime, int]:
    """(UTC instant, display delta) of a Clarity local timestamp."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClarityFormatError(
            f"Line {line}: {text!r} is not a timestamp of the form YYYY-MM-DDThh:mm:ss."
        ) from None
    local = local.replace(tzinfo=None)
    aware = local.replace(tzinfo=tzinfo)
    delta = int(aware.utcoffset().total_seconds())
    return aware.astimezone(localtime.UTC), delta


def _duration_minutes(text: str):
    try:
        hours, minutes, seconds = (int(p) for p in text.split(":"))
    except ValueError:
        return None
    return hours * 60 + minutes + seconds / 60


def parse_clarity(stream, *, patient, tzinfo):
    """Parse and check the whole file first: (egvs, events, calibrations, ignored)."""
    reader, glucose_column = _read_rows(stream)
    factor = GLUCOSE_COLUMNS[glucose_column]
    egvs, events, calibrations, ignored = [], [], [], 0
    for line, row in enumerate(reader, start=2):
        kind = (row.get(EVENT_TYPE) or "").strip().lower()
        stamp = (row.get(TIMESTAMP) or "").strip()
        if not stamp or kind not in ("egv", "calibration", *EVENT_KINDS):
            ignored += 1  # patient info, device and alert rows carry no timestamp
            continue
        system_time, delta = _timestamp(stamp, line, tzinfo)
        common = dict(patient=patient, system_time=system_time, display_delta_seconds=delta,
                      display_device="clarity", display_app="Clarity import",
                      transmitter_id=(row.get("Transmitter ID") or "")[:64])
        if kind in ("egv", "calibration"):
            value, status = _glucose(row.get(glucose_column), factor, line)
            record_id = _record_id(kind, stamp, value, common["transmitter_id"])
            if kind == "egv":
                egvs.append(Egv(record_id=record_id, value=value, status=status, unit="mg/dL", **common))
            else:
                calibrations.append(Calibration(record_id=record_id, value=value, unit="mg/dL", **common))
            continue
        events.append(_event(kind, row, stamp, common))
    if not egvs and not events and not calibrations:
        raise ClarityFormatError("The file has no glucose readings or events to import.")
    return egvs, events, calibrations, ignored


def _event(kind: str, row: dict, stamp: str, common: dict) -> Event:
    sub_type = SUBTYPES.get((row.get("Event Subtype") or "").strip().lower(), "")
    value, unit = "", ""
    if kind == "carbs":
        value, unit = (row.get("Carb Value (grams)") or "").strip(), "grams"
    elif kind == "insulin":
        value, unit = (row.get("Insulin Value (u)") or "").strip(), "units"
    elif kind == "exercise":
        minutes = _duration_minutes((row.get("Duration (hh:mm:ss)") or "").strip())
        value, unit = ("" if minutes is None else f"{minutes:g}"), "minutes"
    try:
        numeric = float(value) if value else None
    except ValueError:
        numeric = None
    return Event(
        record_id=_record_id(kind, stamp, sub_type, value), event_status="created",
        event_type=EVENT_KINDS[kind], event_sub_type=sub_type, value=value,
        numeric_value=numeric, unit=unit, **common,
    )


def _new_readings(patient, egvs: list[Egv]) -> list[Egv]:
    """Readings without a stored one within 2.5 minutes of wall-clock time (one query)."""
    if not egvs:
        return []
    start = min(e.system_time for e in egvs) - timedelta(days=1)
    end = max(e.system_time for e in egvs) + timedelta(days=1)
    stored = np.sort(selectors.egv_series(patient_id=patient.pk, start=start, end=end).local_epoch_s)
    fresh, seen = [], set()
    for egv in egvs:
        local = int(egv.system_time.timestamp()) + egv.display_delta_seconds
        i = np.searchsorted(stored, local)
        near = [stored[j] for j in (i - 1, i) if 0 <= j < stored.size]
        slot = local // SLOT_SECONDS
        if any(abs(int(s) - local) < SLOT_SECONDS / 2 for s in near) or slot in seen:
            continue
        seen.add(slot)
        fresh.append(egv)
    return fresh


def _new_markers(model, patient, records: list, kind_field: str | None) -> list:
    """Events/calibrations not stored yet: neither the same record_id nor the same kind within a
    minute of wall-clock time (the synced copy of the same entry has Dexcom's own recordId)."""
    if not records:
        return []
    start = min(r.system_time for r in records) - timedelta(days=1)
    end = max(r.system_time for r in records) + timedelta(days=1)
    stored = model.objects.filter(patient=patient, system_time__gte=start, system_time__lt=end)
    fields = ("record_id", kind_field) if kind_field else ("record_id",)
    rows = selectors.marker_rows(stored, *fields)
    ids = {row[2] for row in rows}
    taken = {((row[0] + row[1]) // 60, row[3] if kind_field else "") for row in rows}
    fresh = []
    for record in records:
        minute = (int(record.system_time.timestamp()) + record.display_delta_seconds) // 60
        kind = getattr(record, kind_field) if kind_field else ""
        if record.record_id in ids or any((minute + d, kind) in taken for d in (-1, 0, 1)):
            continue
        ids.add(record.record_id)
        fresh.append(record)
    return fresh


def import_clarity_file(*, patient, stream, tzinfo) -> ClarityImportResult:
    """Import a Clarity CSV export for `patient`, all or nothing; DailySummary follows."""
    egvs, events, calibrations, ignored = parse_clarity(stream, patient=patient, tzinfo=tzinfo)
    fresh = _new_readings(patient, egvs)
    events = _new_markers(Event, patient, events, "event_type")
    calibrations = _new_markers(Calibration, patient, calibrations, None)
    with transaction.atomic():
        Egv.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=2000)
        Event.objects.bulk_create(events, ignore_conflicts=True, batch_size=2000)
        Calibration.objects.bulk_create(calibrations, ignore_conflicts=True, batch_size=2000)
    times = [r.system_time for r in [*fresh, *events, *calibrations]]
    if fresh:
        summaries.rebuild_daily_summaries(patient_id=patient.pk, since=min(times))
    return ClarityImportResult(
        egvs_added=len(fresh), egvs_skipped=len(egvs) - len(fresh), events_added=len(events),
        calibrations_added=len(calibrations), ignored_rows=ignored,
    )
