"""Dexcom records -> row dicts for apps.glucose models, or BadRecord with a reason.

Validation is deliberately narrow: a record is refused only when storing it would be wrong
(missing identity or time, a value of the wrong type or outside what Dexcom can report, text
longer than our columns). Enum fields are NOT checked against a list: a value a newer Dexcom
version invents is stored as it came.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from apps.dexcom.times import DexcomTimeError, ParsedTime, parse_dexcom_time
from apps.glucose import localtime

# Dexcom reports 40-400 mg/dL and uses 39 / 401 for "below 40" / "above 400".
EGV_MIN, EGV_MAX = 39, 401
CALIBRATION_MIN, CALIBRATION_MAX = 20, 600  # what a meter can report, in mg/dL
EARLIEST_SYSTEM_TIME = datetime(2005, 1, 1, tzinfo=UTC)  # before any Dexcom CGM upload
# A systemTime ahead of our clock: a device clock running fast, or an upstream bug. Dexcom
# windows filter by systemTime and ours end at the present, so a correct answer never holds
# one; a few minutes cover the clock skew between Dexcom, the device and us. Anything later is
# quarantined rather than stored, so it can never become the "current reading" (nor fall on
# a local day that has not begun).
FUTURE_TOLERANCE = localtime.CLOCK_SKEW
# displayTime minus systemTime: the device's UTC offset (-12 h .. +14 h) plus its clock drift.
# 24 h leaves 10 h of drift or a mis-set receiver clock on top of the widest zone; beyond it the
# local time is meaningless (a receiver whose clock was reset to 2024, or set to 2099), and the
# seconds would no longer fit the int32 column (+2,274,683,267 wrapped to 1962 in the COPY
# path). The one check for every database and write path.
MAX_DISPLAY_DELTA = timedelta(hours=24)
MAX_TICKS = 2**63 - 1  # transmitterTicks goes into a bigint column


class BadRecord(Exception):
    """A record that cannot be stored; the message is the reason shown to admins."""


@dataclass(frozen=True)
class Quarantined:
    raw: object
    record_id: str
    reason: str

    @property
    def raw_hash(self) -> str:
        return hashlib.sha256(orjson.dumps(self.raw, option=orjson.OPT_SORT_KEYS)).hexdigest()

    @property
    def dedupe_key(self) -> str:
        """The same record refused for the same reason is one entry, whatever else changed."""
        if not self.record_id:
            return self.raw_hash
        return hashlib.sha256(f"{self.record_id}\x1f{self.reason}".encode()).hexdigest()


def text_of(raw: dict, key: str, *, max_length: int, required: bool = False) -> str:
    """A text field of a Dexcom record ("" when missing), or BadRecord."""
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise BadRecord(f"{key} is missing")
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{key} is not text")
    if len(value) > max_length:
        raise BadRecord(f"{key} is longer than {max_length} characters")
    return value


def _time(raw: dict, key: str) -> ParsedTime:
    value = raw.get(key)
    if value is None or value == "":
        raise BadRecord(f"{key} is missing")
    try:
        return parse_dexcom_time(value)
    except DexcomTimeError as error:
        raise BadRecord(f"{key} is not a time ({error})") from error


def _integer(raw: dict, key: str, *, low: int | None = None, high: int | None = None) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRecord(f"{key} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise BadRecord(f"{key} is not a whole number")
        value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRecord(f"{key} {value} is outside {low}..{high}")
    return value


def _number(raw: dict, key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRecord(f"{key} is not a number")
    return float(value)


def _common(raw, *, patient_id: int, now: datetime) -> dict:
    if not isinstance(raw, dict):
        raise BadRecord("record is not a JSON object")
    record_id = text_of(raw, "recordId", max_length=64, required=True)
    system = _time(raw, "systemTime")
    display = _time(raw, "displayTime")
    system_time = system.utc
    if system_time < EARLIEST_SYSTEM_TIME:
        raise BadRecord(f"systemTime {raw.get('systemTime')} is not a plausible time")
    if system_time > now + FUTURE_TOLERANCE:
        raise BadRecord(
            f"systemTime {raw.get('systemTime')} is {_hours(system_time - now)} in the future "
            f"(more than {FUTURE_TOLERANCE.total_seconds() / 60:g} min of clock skew)"
        )
    return {
        "patient_id": patient_id,
        "record_id": record_id,
        "system_time": system_time,
        "display_delta_seconds": display_delta_seconds(
            system_time, display, display_text=raw.get("displayTime")
        ),
        "display_offset_seconds": display.offset_seconds,
        "display_device": text_of(raw, "displayDevice", max_length=32),
        "display_app": text_of(raw, "displayApp", max_length=32),
        "transmitter_id": text_of(raw, "transmitterId", max_length=64),
        "transmitter_generation": text_of(raw, "transmitterGeneration", max_length=32),
        "transmitter_generation_variant": text_of(raw, "transmitterGenerationVariant", max_length=32),
    }


def display_delta_seconds(system_time: datetime, display: ParsedTime, *, display_text) -> int:
    """displayTime's wall clock minus systemTime in seconds; BadRecord beyond MAX_DISPLAY_DELTA."""
    delta = display.wall - system_time.replace(tzinfo=None)
    if abs(delta) > MAX_DISPLAY_DELTA:
        raise BadRecord(
            f"displayTime {display_text} is {_hours(delta)} from systemTime "
            f"{system_time:%Y-%m-%dT%H:%M:%SZ}; more than ±{MAX_DISPLAY_DELTA.total_seconds() / 3600:g} h "
            "is no time zone or clock drift"
        )
    return round(delta.total_seconds())


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:+,.1f} h"


def egv_row(raw, *, patient_id: int, now: datetime) -> dict:
    row = _common(raw, patient_id=patient_id, now=now)
    row.update(
        value=_integer(raw, "value", low=EGV_MIN, high=EGV_MAX),
        status=text_of(raw, "status", max_length=16),
        trend=text_of(raw, "trend", max_length=32),
        trend_rate=_number(raw, "trendRate"),
        unit=text_of(raw, "unit", max_length=16),
        rate_unit=text_of(raw, "rateUnit", max_length=16),
        transmitter_ticks=_integer(raw, "transmitterTicks", low=0, high=MAX_TICKS),
    )
    if row["value"] is None and row["status"] not in ("low", "high"):
        raise BadRecord("value is missing (and status is neither low nor high)")
    return row


def calibration_row(raw, *, patient_id: int, now: datetime) -> dict:
    row = _common(raw, patient_id=patient_id, now=now)
    row.update(
        value=_integer(raw, "value", low=CALIBRATION_MIN, high=CALIBRATION_MAX),
        unit=text_of(raw, "unit", max_length=16),
        transmitter_ticks=_integer(raw, "transmitterTicks", low=0, high=MAX_TICKS),
    )
    return row


def alert_row(raw, *, patient_id: int, now: datetime) -> dict:
    row = _common(raw, patient_id=patient_id, now=now)
    row.update(
        alert_name=text_of(raw, "alertName", max_length=32, required=True),
        alert_state=text_of(raw, "alertState", max_length=32),
    )
    return row


# Plausible amounts per event type (Tidepool's limits); other types carry no checked number.
EVENT_LIMITS = {"insulin": (0, 250), "carbs": (0, 1000), "exercise": (-1, 10080)}


def _event_value(raw: dict, event_type: str) -> tuple[str, float | None]:
    value = raw.get("value")
    if value is None:
        return "", None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRecord("value is neither text nor a number")
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 512:
        raise BadRecord("value is longer than 512 characters")
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None and not math.isfinite(number):
        number = None
    limits = EVENT_LIMITS.get(event_type)
    if limits and number is not None and not limits[0] <= number <= limits[1]:
        raise BadRecord(f"{event_type} value {text} is outside {limits[0]}..{limits[1]}")
    return text, number


def event_row(raw, *, patient_id: int, now: datetime) -> dict:
    row = _common(raw, patient_id=patient_id, now=now)
    event_type = text_of(raw, "eventType", max_length=32, required=True)
    text, number = _event_value(raw, event_type)
    row.update(
        event_status=text_of(raw, "eventStatus", max_length=16, required=True),
        event_type=event_type,
        event_sub_type=text_of(raw, "eventSubType", max_length=32),
        value=text,
        numeric_value=number,
        unit=text_of(raw, "unit", max_length=16),
    )
    return row


ROW_BUILDERS = {
    "egvs": egv_row,
    "calibrations": calibration_row,
    "alerts": alert_row,
    "events": event_row,
}


def rows_from_records(
    record_type: str, records: list, *, patient_id: int, now: datetime
) -> tuple[list[dict], list[Quarantined]]:
    """Good rows (one per recordId, the last one Dexcom sent wins) and quarantined records."""
    build = ROW_BUILDERS[record_type]
    rows: dict[str, dict] = {}
    bad: list[Quarantined] = []
    for raw in records:
        try:
            row = build(raw, patient_id=patient_id, now=now)
        except BadRecord as error:
            bad.append(Quarantined(raw=raw, record_id=_record_id_of(raw), reason=str(error)))
            continue
        rows[row["record_id"]] = row
    return list(rows.values()), bad


def _record_id_of(raw) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("recordId"), str):
        return raw["recordId"][:128]
    return ""
