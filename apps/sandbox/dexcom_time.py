"""Dexcom's time strings: reading the ones clients send, writing the ones Dexcom sends.

Requests: startDate/endDate are documented as "YYYY-MM-DDThh:mm:ss" in UTC with no offset. Like
Dexcom we are lenient: fractional seconds, a missing seconds part, unpadded fields, a space
instead of "T", a date alone, and an explicit offset or "Z" (converted to UTC) are all accepted.
Anything else is a 400 with a message saying what we expected.

Responses: systemTime is UTC; displayTime is the device's wall clock. Receivers send both without
offset, phone apps send offsets (profiles.TIME_STYLES lists the styles).
"""

import re
from datetime import UTC, datetime, timedelta

import numpy as np

EXPECTED_FORMAT = "YYYY-MM-DDThh:mm:ss (UTC), e.g. 2026-01-31T13:45:00"

_LENIENT = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?:\.(?P<frac>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?\s*$"
)


class BadDate(ValueError):
    pass


def parse_request_time(text: str, *, name: str) -> datetime:
    """Parse a query-string date the way Dexcom does; naive means UTC."""
    match = _LENIENT.match(text or "")
    if not match:
        raise BadDate(f"{name} {text!r} is not a date-time; expected {EXPECTED_FORMAT}")
    parts = match.groupdict()
    try:
        moment = datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"] or 0),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int((parts["frac"] or "0").ljust(6, "0")[:6]),
            tzinfo=UTC,
        )
    except ValueError as error:
        raise BadDate(f"{name} {text!r} is not a valid date-time ({error})") from None
    return moment - _offset(parts["tz"])


def _offset(text: str | None) -> timedelta:
    if not text or text in "Zz":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    seconds = int(digits[0:2]) * 3600 + int(digits[2:4]) * 60 + int(digits[4:6] or 0)
    return timedelta(seconds=sign * seconds)


def offset_suffix(offset_seconds: int) -> str:
    """+01:00, -05:00, and -06:59:59 when a drifting clock leaves seconds in the offset."""
    sign = "-" if offset_seconds < 0 else "+"
    hours, rest = divmod(abs(int(offset_seconds)), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + (f":{seconds:02d}" if seconds else "")


def iso_seconds(epoch_seconds: np.ndarray) -> list[str]:
    """'YYYY-MM-DDThh:mm:ss' for each UTC epoch second (vectorized; the hot path of /egvs)."""
    return np.datetime_as_string(np.asarray(epoch_seconds, dtype="datetime64[s]"), unit="s").tolist()


def iso_minutes(epoch_seconds: np.ndarray) -> list[str]:
    return np.datetime_as_string(np.asarray(epoch_seconds, dtype="datetime64[s]"), unit="m").tolist()


def format_times(
    system_seconds: np.ndarray,
    zone_offsets: np.ndarray,
    *,
    style: str,
    drop_seconds: bool = False,
) -> tuple[list[str], list[str]]:
    """systemTime and displayTime strings for records of a device with the given time style.

    zone_offsets is the UTC offset (seconds) of the patient's zone at each instant. The "drift"
    style models a phone clock one second fast: its wall clock and its offset both gain a second
    (-07:00 becomes -06:59:59, as in Dexcom's devices sample).
    """
    system_seconds = np.asarray(system_seconds, dtype=np.int64)
    offsets = np.asarray(zone_offsets, dtype=np.int64)
    if style == "drift":
        offsets = offsets + 1
    to_text = iso_minutes if drop_seconds else iso_seconds
    system_text = to_text(system_seconds)
    display_text = to_text(system_seconds + offsets)
    if style == "receiver":
        return system_text, display_text
    system_suffix = "+00:00" if style == "plus00" else "Z"
    suffix_of = {int(o): offset_suffix(int(o)) for o in np.unique(offsets)}
    system_text = [text + system_suffix for text in system_text]
    display_text = [text + suffix_of[int(o)] for text, o in zip(display_text, offsets.tolist(), strict=False)]
    return system_text, display_text


def utc_z(epoch_seconds: int) -> str:
    """Server timestamps such as lastUploadDate: always UTC with Z."""
    return datetime.fromtimestamp(int(epoch_seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
