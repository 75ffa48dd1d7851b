"""Reading a Clarity CSV export row by row: the layout, the values, and what is not plausible.

A Clarity export starts with the column header, then about ten rows about the patient and the
device (FirstName, LastName, Device, Alert ...; they have no timestamp), then one row per
reading or event. The file is read as a stream (csv over a text wrapper), so memory does not
grow with the file; every line is bounded in length.

A row that cannot be trusted becomes a `BadRow` with its line number and the reason; the
importer decides whether the file is refused or the row is skipped and listed.
"""

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime

from apps.glucose.units import MGDL, MGDL_PER_MMOLL, MMOLL

TIMESTAMP = "Timestamp (YYYY-MM-DDThh:mm:ss)"
EVENT_TYPE = "Event Type"
EVENT_SUBTYPE = "Event Subtype"
SOURCE_DEVICE = "Source Device ID"
TRANSMITTER_TIME = "Transmitter Time (Long Integer)"
TRANSMITTER_ID = "Transmitter ID"
REQUIRED = (TIMESTAMP, EVENT_TYPE, EVENT_SUBTYPE)
GLUCOSE_COLUMNS = {"Glucose Value (mg/dL)": MGDL, "Glucose Value (mmol/L)": MMOLL}
RATE_COLUMNS = ("Glucose Rate of Change (mg/dL/min)", "Glucose Rate of Change (mmol/L/min)")
# The measuring range of the sensor (Dexcom writes "Low"/"High" outside it), in each unit.
PLAUSIBLE = {MGDL: (40.0, 400.0), MMOLL: (2.2, 22.2)}
LOW_MGDL, HIGH_MGDL = 39, 401  # how Dexcom stores "below 40" and "above 400"
READING_KINDS = ("egv", "calibration")
EVENT_KINDS = ("carbs", "insulin", "exercise", "health")
# The longest field a real export has is a device name; anything much longer is not Clarity's.
MAX_FIELD_CHARS = 200
MAX_LINE_CHARS = 10_000
HEADER_SEARCH_LINES = 30


class ClarityFormatError(ValueError):
    """The file is not a Clarity export we can read; the message says what and where."""


@dataclass(frozen=True)
class Layout:
    """Where the columns are in this file's header."""

    columns: dict  # column name -> index
    width: int
    glucose_column: str
    unit: str

    def get(self, row: list, name: str) -> str:
        index = self.columns.get(name)
        return row[index].strip() if index is not None else ""


@dataclass(frozen=True)
class RawRow:
    line: int
    kind: str
    local: datetime  # naive wall clock, or aware when the file gives an offset
    stamp: str
    fields: list


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


def shown(text: str) -> str:
    """A field as quoted in a message: never 5,000 characters of it."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def text_lines(stream):
    """Decoded lines of an uploaded file, each at most MAX_LINE_CHARS long."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    number = 0
    try:
        while True:
            try:
                line = text.readline(MAX_LINE_CHARS + 1)
            except UnicodeDecodeError:
                raise ClarityFormatError(
                    f"Line {number + 1}: the file is not a text (UTF-8) CSV file."
                ) from None
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise ClarityFormatError(
                    f"Line {number}: longer than {MAX_LINE_CHARS} characters; this is not a Clarity export."
                )
            yield line
    finally:
        text.detach()  # leave the upload open: the importer reads it twice


def read_layout(reader) -> Layout:
    """Find the column header (the first line of a Clarity export, or close to it)."""
    for _ in range(HEADER_SEARCH_LINES):
        header = next(reader, None)
        if header is None:
            break
        header = [name.strip() for name in header]
        if TIMESTAMP in header or EVENT_TYPE in header:
            return _layout(header)
    raise ClarityFormatError(
        f"This is not a Dexcom Clarity CSV export: the header has no {TIMESTAMP!r} column."
    )


def _layout(header: list[str]) -> Layout:
    missing = [name for name in REQUIRED if name not in header]
    glucose_column = next((c for c in GLUCOSE_COLUMNS if c in header), None)
    if missing or glucose_column is None:
        needed = ", ".join(repr(c) for c in missing or ["Glucose Value (mg/dL)"])
        raise ClarityFormatError(
            f"This is not a Dexcom Clarity CSV export: the header has no {needed} column."
        )
    columns = {name: i for i, name in enumerate(header)}
    return Layout(columns, len(header), glucose_column, GLUCOSE_COLUMNS[glucose_column])


def raw_rows(stream):
    """(layout, iterator of RawRow | BadRow) for the timed rows of the file."""
    reader = csv.reader(text_lines(stream))
    try:
        layout = read_layout(reader)
    except csv.Error as error:
        raise ClarityFormatError(f"Line {reader.line_num}: {error}") from None
    return layout, _timed_rows(reader, layout)


def _timed_rows(reader, layout: Layout):
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield BadRow(reader.line_num, f"not readable as CSV ({error})")
            continue
        if not any(field.strip() for field in row):
            continue
        line = reader.line_num
        if len(row) != layout.width:
            yield BadRow(line, f"has {len(row)} fields where the header has {layout.width} (cut short?)")
            continue
        kind = layout.get(row, EVENT_TYPE).lower()
        stamp = layout.get(row, TIMESTAMP)
        if kind not in (*READING_KINDS, *EVENT_KINDS):
            continue  # patient, device and alert rows carry no reading
        if not stamp:
            yield BadRow(line, f"no timestamp on this {kind} row")
            continue
        too_long = next((f for f in row if len(f) > MAX_FIELD_CHARS), None)
        if too_long is not None:
            yield BadRow(line, f"a field of {len(too_long)} characters ({shown(too_long)})")
            continue
        try:
            local = datetime.fromisoformat(stamp)
        except ValueError:
            yield BadRow(line, f"{shown(stamp)} is not a timestamp of the form YYYY-MM-DDThh:mm:ss")
            continue
        yield RawRow(line, kind, local, stamp, row)


def glucose(text: str, unit: str) -> tuple[int, str]:
    """(mg/dL, status) of a Clarity glucose field; ValueError with the reason otherwise."""
    lowered = text.lower()
    if lowered == "low":
        return LOW_MGDL, "low"
    if lowered == "high":
        return HIGH_MGDL, "high"
    number = number_or_none(text)
    if number is None:
        raise ValueError(f"{shown(text)} is not a glucose value")
    low, high = PLAUSIBLE[unit]
    if not low <= number <= high:
        raise ValueError(f"{shown(text)} {unit} is outside the sensor's range {low:g}–{high:g} {unit}")
    factor = MGDL_PER_MMOLL if unit == MMOLL else 1.0
    return round(number * factor), "ok"


def number_or_none(text: str) -> float | None:
    """A finite number, or None (empty, text, inf, nan)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def fits_other_unit(text: str, unit: str) -> bool:
    """Whether a value implausible in `unit` would be plausible in the other unit."""
    number = number_or_none(text)
    if number is None:
        return False
    other = MMOLL if unit == MGDL else MGDL
    low, high = PLAUSIBLE[other]
    return low <= number <= high


def integer_or_none(text: str) -> int | None:
    number = number_or_none(text)
    if number is None or number != int(number) or abs(number) > 2**53:
        return None
    return int(number)
