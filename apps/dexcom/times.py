"""Dexcom's time formats, read and written.

Dexcom sends ISO-like strings in several shapes: with `Z`, with an offset (which may carry
seconds, e.g. `-06:59:59`), with no offset at all (receivers), without seconds, with fractional
seconds, and with single-digit fields unpadded. `parse_dexcom_time` accepts all of them; it keeps
the wall clock as written and the offset (None when the string had none) so callers can compute
the local time a device showed. Requests use `YYYY-MM-DDThh:mm:ss` in UTC without an offset.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_TIME_RE = re.compile(
    r"^\s*(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})[Tt ]"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{1,2}(?::?\d{2}){0,2})?\s*$"
)


class DexcomTimeError(ValueError):
    """A string that is not a Dexcom time."""


@dataclass(frozen=True)
class ParsedTime:
    wall: datetime  # naive: the clock as written
    offset_seconds: int | None  # None when the string carried no offset

    @property
    def utc(self) -> datetime:
        """The instant, reading a string without offset as UTC (Dexcom's systemTime rule)."""
        return (self.wall - timedelta(seconds=self.offset_seconds or 0)).replace(tzinfo=UTC)


def _offset_seconds(zone: str | None) -> int | None:
    if zone is None:
        return None
    if zone in ("Z", "z"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    if ":" in zone[1:]:
        parts = [int(part) for part in zone[1:].split(":")]
    else:
        # "+5", "+05", "+0530", "+053000"
        head = len(digits) % 2 or 2
        parts = [int(digits[:head])] + [int(digits[i : i + 2]) for i in range(head, len(digits), 2)]
    hours, minutes, seconds = (parts + [0, 0])[:3]
    if minutes > 59 or seconds > 59 or hours > 23:
        raise DexcomTimeError(f"offset out of range: {zone!r}")
    return sign * (hours * 3600 + minutes * 60 + seconds)


def parse_dexcom_time(text: str) -> ParsedTime:
    if not isinstance(text, str):
        raise DexcomTimeError(f"expected a time string, got {type(text).__name__}")
    # Fast path for the well-formed majority (a backfill parses ~100,000 of these).
    if len(text) >= 16 and text[10] in "Tt ":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            offset = moment.utcoffset()
            return ParsedTime(
                wall=moment.replace(tzinfo=None),
                offset_seconds=None if offset is None else int(offset.total_seconds()),
            )
    return _parse_leniently(text)


def _parse_leniently(text: str) -> ParsedTime:
    match = _TIME_RE.match(text)
    if not match:
        raise DexcomTimeError(f"not a Dexcom time: {text[:40]!r}")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        wall = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int(fraction),
        )
    except ValueError as error:
        raise DexcomTimeError(f"impossible date: {text[:40]!r}") from error
    return ParsedTime(wall=wall, offset_seconds=_offset_seconds(match["zone"]))


def parse_utc(text: str) -> datetime:
    """An aware UTC datetime (strings without offset are UTC)."""
    return parse_dexcom_time(text).utc


def format_dexcom_time(moment: datetime) -> str:
    """`YYYY-MM-DDThh:mm:ss` in UTC, no offset: the form Dexcom's startDate/endDate take."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def format_rfc3339_utc(moment: datetime) -> str:
    """`YYYY-MM-DDThh:mm:ssZ`: dataRange's lastSyncTime wants an explicit zone."""
    return format_dexcom_time(moment) + "Z"
