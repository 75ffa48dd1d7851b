"""Reading a recorded glucose trace from a CSV file (used by `manage.py sandbox_load_csv`).

Columns: a timestamp and a glucose value in mg/dL, in that order; a header row is optional
(recognized when its second cell is not a number). Extra columns are ignored.

Accepted timestamps:
  - ISO 8601 with an offset or Z:   2026-01-05T08:00:00Z, 2026-01-05T09:00:00+01:00
  - ISO 8601 without an offset:     2026-01-05T08:00:00, 2026-01-05 08:00, (Dexcom Clarity
                                    exports look like this) read in --timezone (default UTC)
  - Unix epoch seconds:             1767600000
Accepted values: whole or decimal mg/dL 40-400; 39 / "Low" and 401 / "High" for readings
beyond the sensor's range (Clarity writes Low and High); other numbers below 39 or above 401 are
clamped to 39/401 the way Dexcom reports them.
"""

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


class TraceFileError(ValueError):
    pass


@dataclass(frozen=True)
class Reading:
    system_time: datetime
    value: int


def _parse_time(text: str, zone: ZoneInfo, line: int) -> datetime:
    text = text.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TraceFileError(
            f"line {line}: {text!r} is not a timestamp (expected e.g. 2026-01-05T08:00:00Z, "
            "2026-01-05 08:00:00 or epoch seconds)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _parse_value(text: str, line: int) -> int:
    cleaned = text.strip().lower()
    if cleaned == "low":
        return 39
    if cleaned == "high":
        return 401
    try:
        value = round(float(cleaned))
    except ValueError:
        raise TraceFileError(
            f"line {line}: glucose {text!r} is not a number in mg/dL (or Low/High)"
        ) from None
    if value <= 0 or value > 1000:
        raise TraceFileError(f"line {line}: glucose {value} mg/dL is not a plausible reading")
    return min(max(value, 39), 401)


def _looks_like_header(row: list[str]) -> bool:
    second = row[1].strip().lower() if len(row) > 1 else ""
    if second in ("low", "high"):
        return False
    try:
        float(second)
    except ValueError:
        return True
    return False


def read_trace(lines, *, timezone_name: str = "UTC") -> list[Reading]:
    """Readings sorted by time, duplicates (same instant) rejected, at least two rows."""
    try:
        zone = ZoneInfo(timezone_name)
    except Exception:
        raise TraceFileError(f"unknown time zone {timezone_name!r}") from None
    readings = []
    for line, row in enumerate(csv.reader(lines), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if line == 1 and _looks_like_header(row):
            continue
        if len(row) < 2:
            raise TraceFileError(f"line {line}: expected 2 columns (timestamp, mg/dL), found {len(row)}")
        readings.append(Reading(_parse_time(row[0], zone, line), _parse_value(row[1], line)))
    if len(readings) < 2:
        raise TraceFileError("the file holds fewer than two readings")
    readings.sort(key=lambda reading: reading.system_time)
    for before, after in zip(readings, readings[1:], strict=False):
        if before.system_time == after.system_time:
            raise TraceFileError(f"two readings at {after.system_time.isoformat()}")
    return readings
