"""The patient's local time, computed per record so DST changes and travel come out right.

A record's local wall clock is system_time + display_delta_seconds (what the device showed), so
a period "day" is a local calendar day of that wall clock, whatever zone the patient was in.
Local wall-clock instants are handled as "naive epoch seconds": the wall clock read as if UTC.
"""

from datetime import UTC, date, datetime, time, timedelta

import numpy as np

SECONDS_PER_DAY = 86400
EPOCH_DATE = date(1970, 1, 1)
# Dexcom offsets stay within -12 h..+14 h; one day of margin when turning local days into UTC
# bounds keeps every record whose wall clock falls in the local days.
UTC_MARGIN = timedelta(days=1)


def day_number(day: date) -> int:
    """Days since 1970-01-01: local days as integers, for numpy."""
    return (day - EPOCH_DATE).days


def date_of_day_number(number: int) -> date:
    return EPOCH_DATE + timedelta(days=int(number))


def local_epoch_seconds(epoch_s: np.ndarray, delta_s: np.ndarray) -> np.ndarray:
    return epoch_s + delta_s


def local_day_numbers(local_epoch_s: np.ndarray) -> np.ndarray:
    return local_epoch_s // SECONDS_PER_DAY


def utc_bounds_for_local_days(first_day: date, end_day: date) -> tuple[datetime, datetime]:
    """UTC instants that surely contain every record of local days [first_day, end_day)."""
    start = datetime.combine(first_day, time(), tzinfo=UTC) - UTC_MARGIN
    end = datetime.combine(end_day, time(), tzinfo=UTC) + UTC_MARGIN
    return start, end


def naive_local_epoch(moment: datetime) -> int:
    """A naive wall-clock datetime as naive epoch seconds."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def local_now(patient, *, now: datetime, latest_delta_seconds: int | None) -> datetime:
    """The patient's wall clock now: the newest record's offset (travel), else their zone."""
    if latest_delta_seconds is not None:
        return (now + timedelta(seconds=latest_delta_seconds)).replace(tzinfo=None)
    return now.astimezone(patient.tzinfo).replace(tzinfo=None)


def local_day_period(*, last_day: date, days: int) -> tuple[date, date]:
    """The `days` local days ending with `last_day`, as [first_day, end_day)."""
    return last_day - timedelta(days=days - 1), last_day + timedelta(days=1)


def period_minutes(*, first_day: date, end_day: date, local_now_at: datetime | None,
                   tzinfo=None) -> float:
    """Real minutes of a local-day period that have already happened (today counts up to now).

    With the patient's zone, a DST day counts its 23 or 25 real hours, so sensor wear on that
    day is readings / readings that could really exist.
    """
    zone = tzinfo or UTC
    start = datetime.combine(first_day, time(), tzinfo=zone)
    end = datetime.combine(end_day, time(), tzinfo=zone)
    if local_now_at is not None:
        now = local_now_at.replace(tzinfo=zone)
        if now < end:
            end = max(start, now)
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60


def utc_bounds_in_zone(first_day: date, end_day: date, tzinfo) -> tuple[datetime, datetime]:
    """Exact UTC bounds of local days [first_day, end_day) in one zone: for paginated lists,
    where the margin of utc_bounds_for_local_days would show records of neighbouring days."""
    start = datetime.combine(first_day, time(), tzinfo=tzinfo).astimezone(UTC)
    end = datetime.combine(end_day, time(), tzinfo=tzinfo).astimezone(UTC)
    return start, end
