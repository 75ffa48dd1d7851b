"""One Clarity row -> one Record (the model and its field values), or a BadRow saying why not.

Records are plain dicts, not model instances: building 300,000 Django model instances costs more
than the rest of an import (see bench/clarity_import.py).
"""

import hashlib
from datetime import datetime
from typing import NamedTuple

from apps.glucose import localtime
from apps.glucose.clarity import clock
from apps.glucose.clarity.rows import (
    EVENT_SUBTYPE,
    RATE_COLUMNS,
    SOURCE_DEVICE,
    TRANSMITTER_ID,
    TRANSMITTER_TIME,
    BadRow,
    Layout,
    RawRow,
    glucose,
    integer_or_none,
    number_or_none,
    shown,
)
from apps.glucose.models import Calibration, Egv, Event
from apps.glucose.units import MGDL_PER_MMOLL, MMOLL

# A device clock may run a little ahead; anything later than this is not a real reading yet.
FUTURE_SLACK = localtime.CLOCK_SKEW
EVENT_TYPES = {"carbs": "carbs", "insulin": "insulin", "exercise": "exercise", "health": "health"}
SUBTYPES = {
    "fast-acting": "fastActing",
    "long-acting": "longActing",
    "light": "light",
    "medium": "medium",
    "heavy": "heavy",
    "illness": "illness",
    "stress": "stress",
    "high symptoms": "highSymptoms",
    "low symptoms": "lowSymptoms",
    "cycle": "cycle",
    "alcohol": "alcohol",
}
# (column, unit, largest plausible value) per event type; the limits Tidepool validates.
EVENT_VALUES = {
    "carbs": ("Carb Value (grams)", "grams", 1000),
    "insulin": ("Insulin Value (u)", "units", 250),
    "exercise": ("Duration (hh:mm:ss)", "minutes", 10080),
}
MAX_TRANSMITTER_ID = 64


class Record(NamedTuple):
    model: type
    fields: dict


def record_id(*parts) -> str:
    return "clarity-" + hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


class RowReader:
    """Turns the timed rows of one file into records; keeps the wall-clock state between rows."""

    def __init__(self, *, patient_id: int, layout: Layout, wall_clock: clock.WallClock, now: datetime):
        self.patient_id = patient_id
        self.layout = layout
        self.wall_clock = wall_clock
        self.now = now
        self.rate_column = next((c for c in RATE_COLUMNS if c in layout.columns), None)

    def record(self, raw: RawRow):
        """A Record of an Egv / Calibration / Event, or a BadRow."""
        get = self.layout.get
        transmitter = get(raw.fields, TRANSMITTER_ID)
        ticks_text = get(raw.fields, TRANSMITTER_TIME)
        ticks = integer_or_none(ticks_text) if ticks_text else None
        if ticks_text and (ticks is None or ticks < 0):
            return BadRow(raw.line, f"{shown(ticks_text)} is not a transmitter time")
        if len(transmitter) > MAX_TRANSMITTER_ID:
            return BadRow(raw.line, f"{shown(transmitter)} is not a transmitter id")
        utc, second_fold = self.wall_clock.to_utc(raw.local, transmitter=transmitter, ticks=ticks)
        if utc > self.now + FUTURE_SLACK:
            return BadRow(raw.line, f"{raw.stamp} is in the future (read in {self.wall_clock.tzinfo})")
        common = {
            "patient_id": self.patient_id,
            "system_time": utc,
            "display_delta_seconds": clock.display_delta_seconds(raw.local, utc),
            "display_device": "clarity",
            "display_app": "Clarity import",
            "transmitter_id": transmitter,
        }
        # What Clarity says the row is; the fold tells the two 01:30 of a repeated hour apart.
        identity = (raw.stamp, int(second_fold), get(raw.fields, SOURCE_DEVICE), ticks_text, transmitter)
        if raw.kind == "egv":
            return self._egv(raw, identity, ticks, common)
        if raw.kind == "calibration":
            return self._calibration(raw, identity, ticks, common)
        return self._event(raw, identity, common)

    def _glucose(self, raw: RawRow):
        try:
            return glucose(self.layout.get(raw.fields, self.layout.glucose_column), self.layout.unit)
        except ValueError as error:
            return BadRow(raw.line, str(error))

    def _egv(self, raw, identity, ticks, common):
        reading = self._glucose(raw)
        if isinstance(reading, BadRow):
            return reading
        value, status = reading
        return Record(
            Egv,
            {
                "record_id": record_id("egv", *identity),
                "value": value,
                "status": status,
                "unit": "mg/dL",
                "trend_rate": self._rate(raw),
                "rate_unit": "mg/dL/min",
                "transmitter_ticks": ticks,
                **common,
            },
        )

    def _calibration(self, raw, identity, ticks, common):
        reading = self._glucose(raw)
        if isinstance(reading, BadRow):
            return reading
        if reading[1] != "ok":
            return BadRow(raw.line, "a calibration must be a number, not Low or High")
        return Record(
            Calibration,
            {
                "record_id": record_id("calibration", *identity),
                "value": reading[0],
                "unit": "mg/dL",
                "transmitter_ticks": ticks,
                **common,
            },
        )

    def _rate(self, raw) -> float | None:
        rate = number_or_none(self.layout.get(raw.fields, self.rate_column)) if self.rate_column else None
        if rate is None:
            return None
        return round(rate * MGDL_PER_MMOLL, 2) if self.layout.unit == MMOLL else rate

    def _event(self, raw, identity, common):
        sub_type = SUBTYPES.get(self.layout.get(raw.fields, EVENT_SUBTYPE).lower(), "")
        value, unit, numeric = "", "", None
        if raw.kind in EVENT_VALUES:
            column, unit, largest = EVENT_VALUES[raw.kind]
            text = self.layout.get(raw.fields, column)
            numeric = _duration_minutes(text) if raw.kind == "exercise" else number_or_none(text)
            if text and (numeric is None or not 0 <= numeric <= largest):
                return BadRow(raw.line, f"{shown(text)} is not a plausible {raw.kind} value")
            value = "" if numeric is None else (f"{numeric:g}" if raw.kind == "exercise" else text)
        return Record(
            Event,
            {
                "record_id": record_id(raw.kind, *identity[:2], sub_type, value),
                "event_status": "created",
                "event_type": EVENT_TYPES[raw.kind],
                "event_sub_type": sub_type,
                "value": value,
                "numeric_value": numeric,
                "unit": unit,
                **common,
            },
        )


def _duration_minutes(text: str) -> float | None:
    try:
        hours, minutes, seconds = (int(p) for p in text.split(":"))
    except ValueError:
        return None
    return hours * 60 + minutes + seconds / 60
