"""The patient's local time, computed per record so DST changes and travel come out right.

A record's local wall clock is system_time + display_delta_seconds (what the device showed), so
a period "day" is a local calendar day of that wall clock, whatever zone the patient was in.
Local wall-clock instants are handled as "naive epoch seconds": the wall clock read as if UTC.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

import numpy as np

SECONDS_PER_DAY = 86400
EPOCH_DATE = date(1970, 1, 1)
# Dexcom offsets stay within -12 h..+14 h; one day of margin when turning local days into UTC
# bounds keeps every record whose wall clock falls in the local days.
UTC_MARGIN = timedelta(days=1)
# How far a device's or Dexcom's clock may run ahead of ours: a systemTime later than now plus
# this is not a reading yet. The sync and the Clarity import refuse such records, and the pages
# never take one stored earlier (an old rule accepted two days) as the current reading.
CLOCK_SKEW = timedelta(minutes=10)
# datetime.timezone takes offsets strictly within one day.
MAX_UTC_OFFSET = timedelta(days=1)


def newest_possible_reading_time(now: datetime) -> datetime:
    """The latest systemTime a real reading can have at `now`."""
    return now + CLOCK_SKEW


def day_number(day: date) -> int:
    """Days since 1970-01-01: local days as integers, for numpy."""
    return (day - EPOCH_DATE).days


def date_of_day_number(number: int) -> date:
    return EPOCH_DATE + timedelta(days=int(number))


def record_local_time(system_time: datetime, delta_seconds: int) -> datetime:
    """A record's local wall clock (naive: it is what the patient's device showed)."""
    return (system_time + timedelta(seconds=delta_seconds)).replace(tzinfo=None)


def device_local_time(moment: datetime, *, delta_seconds: int | None, tzinfo) -> datetime:
    """A UTC instant on a device's wall clock: its display delta when known (what the device
    showed), else the patient's zone (naive either way)."""
    if delta_seconds is not None:
        return record_local_time(moment, delta_seconds)
    return moment.astimezone(tzinfo or UTC).replace(tzinfo=None)


def record_local_time_with_offset(system_time: datetime, delta_seconds: int | None) -> datetime:
    """The same local wall clock as an aware time with its UTC offset, for ISO 8601 with offset
    (exports): 2026-11-10T07:00:00-05:00. No known offset: the UTC time itself.

    A device clock set a day or more away from the real time (a wrong date entered on a
    receiver) has no UTC offset an ISO 8601 time can carry: its wall clock comes back naive."""
    delta = timedelta(seconds=delta_seconds or 0)
    if abs(delta) >= MAX_UTC_OFFSET:
        return record_local_time(system_time, delta_seconds)
    return system_time.astimezone(timezone(delta))


def viewer_clock_text(moment: datetime | None, tzinfo, *, seconds: bool = False) -> str:
    """An instant on the viewer's own clock with the zone said: "3 Dec 2026 07:40 EST".

    For times that are about the viewer, not the patient's device (shares, audit entries,
    share codes): a clinician in Paris reads them in Paris time."""
    if moment is None:
        return ""
    local = moment.astimezone(tzinfo)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local.day} {local:%b %Y} {clock} {local.tzname()}"


def record_local_day(system_time: datetime, delta_seconds: int) -> date:
    """The patient's local day a record belongs to."""
    return record_local_time(system_time, delta_seconds).date()


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


def wall_clock_of_local_epoch(local_epoch_s: int) -> datetime:
    """Naive local epoch seconds back to the naive wall-clock datetime."""
    return datetime.fromtimestamp(int(local_epoch_s), UTC).replace(tzinfo=None)


def local_now(patient, *, now: datetime, latest_delta_seconds: int | None) -> datetime:
    """The patient's wall clock now: the newest record's offset (travel), else their zone."""
    if latest_delta_seconds is not None:
        return (now + timedelta(seconds=latest_delta_seconds)).replace(tzinfo=None)
    return now.astimezone(patient.tzinfo).replace(tzinfo=None)


def local_today(patient, *, now: datetime, latest_delta_seconds: int | None) -> date:
    """The patient's "today" (never the viewer's): the local day of their wall clock now."""
    return local_now(patient, now=now, latest_delta_seconds=latest_delta_seconds).date()


def local_day_period(*, last_day: date, days: int) -> tuple[date, date]:
    """The `days` local days ending with `last_day`, as [first_day, end_day)."""
    return last_day - timedelta(days=days - 1), last_day + timedelta(days=1)


def period_minutes(*, first_day: date, end_day: date, local_now_at: datetime | None, tzinfo=None) -> float:
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


@dataclass(frozen=True)
class Period:
    """Local days [first_day, end_day) of one patient; `local_now` clips today so wear counts
    only time already past; `tzinfo` (the patient's zone) makes a DST day 23 or 25 hours."""

    first_day: date
    end_day: date
    local_now: datetime | None = None
    tzinfo: object = None

    @property
    def days(self) -> int:
        """The number of local days (14, whatever DST or a part-day today does to the hours)."""
        return (self.end_day - self.first_day).days

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def minutes(self) -> float:
        """Real minutes of the period already past: what sensor wear is measured against."""
        return period_minutes(
            first_day=self.first_day,
            end_day=self.end_day,
            local_now_at=self.local_now,
            tzinfo=self.tzinfo,
        )

    @property
    def elapsed_days(self) -> float:
        return self.minutes / 1440

    @property
    def label(self) -> str:
        """How every page names the period: "1 Nov 2026 – 14 Nov 2026 (14 days)"."""
        days = f"{self.days} day" + ("" if self.days == 1 else "s")
        return f"{_day_text(self.first_day)} – {_day_text(self.last_day)} ({days})"

    def previous(self) -> "Period":
        """The same number of local days just before: entirely past, so never clipped."""
        return Period(self.first_day - timedelta(days=self.days), self.first_day, tzinfo=self.tzinfo)

    def contains(self, day: date) -> bool:
        return self.first_day <= day < self.end_day

    def utc_bounds(self) -> tuple[datetime, datetime]:
        return utc_bounds_for_local_days(self.first_day, self.end_day)

    def local_epoch_window(self) -> tuple[int, int]:
        """The period as naive local epoch seconds [start, end)."""
        return (
            naive_local_epoch(datetime.combine(self.first_day, time())),
            naive_local_epoch(datetime.combine(self.end_day, time())),
        )


def _day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def period_ending(last_day: date, *, days: int, local_now: datetime | None = None, tzinfo=None) -> Period:
    """The `days` local days ending with `last_day`."""
    first_day, end_day = local_day_period(last_day=last_day, days=days)
    return Period(first_day, end_day, local_now, tzinfo)


class BadPeriod(ValueError):
    """A period parameter that cannot be used; the message is shown to the user."""


def parse_date(value: str, *, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadPeriod(f"{name} must be a date written YYYY-MM-DD, not {value!r}") from None


def period_from_dates(
    start: str | None, end: str | None, *, local_now: datetime | None, tzinfo=None
) -> Period:
    """An inclusive start/end date pair (the API and the command), checked."""
    if not start or not end:
        raise BadPeriod("start and end are both required, as YYYY-MM-DD")
    first_day = parse_date(start, name="start")
    last_day = parse_date(end, name="end")
    if last_day < first_day:
        raise BadPeriod("end must not be before start")
    if (last_day - first_day).days + 1 > 366:
        raise BadPeriod("a period is at most 366 days")
    return Period(first_day, last_day + timedelta(days=1), local_now, tzinfo)


@dataclass(frozen=True)
class TimeAxis:
    """A chart axis for a period that runs with real time, so it never goes back: on the day
    DST ends the repeated hour is drawn after the first one, not on top of it.

    Positions are real seconds since the period's first local midnight (`start_epoch`, UTC),
    drawn from `t0_local` (that midnight as naive local epoch seconds, what Plotly shows). The
    clock is the records' own (their display offset, so a traveller's day is their phone's
    day); `segments` are [axis position, shift] where the wall clock runs `shift` seconds from
    the axis (after a DST change or a time zone change), which ticks and hover labels add back.
    """

    start_epoch: int
    end_epoch: int
    t0_local: int
    segments: tuple = ()

    def positions(self, epoch_s: np.ndarray) -> np.ndarray:
        return np.asarray(epoch_s, dtype=np.int64) - self.start_epoch

    @property
    def length(self) -> int:
        return self.end_epoch - self.start_epoch

    def position_of_clock(self, local_s: int) -> int | None:
        """Where a wall-clock time (naive local epoch s) is on the axis: the first time it
        happens; None if the clock skipped it (the hour DST starts)."""
        segments = self.segments or ((0, 0),)
        for k, (start, shift) in enumerate(segments):
            position = local_s - self.t0_local - shift
            after_start = k == 0 or position >= start
            before_next = k == len(segments) - 1 or position < segments[k + 1][0]
            if after_start and before_next:
                return position
        return None

    def ticks(self, *, step_hours: int) -> dict:
        """Axis positions (ms, as drawn) and labels of wall-clock times every `step_hours`."""
        values, text = [], []
        step = step_hours * 3600
        last_clock = self.t0_local + self.length + (self.segments[-1][1] if self.segments else 0)
        first_clock = -(-self.t0_local // step) * step  # whole hours (a period's axis starts at midnight)
        for clock in range(first_clock, last_clock + 1, step):
            position = self.position_of_clock(clock)
            if position is None:
                continue
            moment = wall_clock_of_local_epoch(clock)
            values.append((self.t0_local + position) * 1000)
            text.append(f"{moment:%H:%M}" if step_hours < 24 else f"{moment.day} {moment:%b}")
        return {"values": values, "text": text}


def time_axis(period: Period, *, epoch_s: np.ndarray, delta_s: np.ndarray) -> TimeAxis:
    """The real-time axis of a period's records (epoch_s/delta_s in time order): local
    midnights at the records' own first and last offsets, else the patient's zone."""
    zone_start, zone_end = utc_bounds_in_zone(period.first_day, period.end_day, period.tzinfo or UTC)
    first, end = period.local_epoch_window()
    if not len(epoch_s):
        return TimeAxis(int(zone_start.timestamp()), int(zone_end.timestamp()), first)
    delta_s = np.asarray(delta_s, dtype=np.int64)
    start_epoch = first - int(delta_s[0])
    return TimeAxis(
        start_epoch, end - int(delta_s[-1]), first, _clock_segments(epoch_s, delta_s, start_epoch)
    )


def _clock_segments(epoch_s, delta_s: np.ndarray, start_epoch: int) -> tuple:
    """[axis position, shift] wherever the records' wall clock changes its offset."""
    shift = delta_s - delta_s[0]
    changes = np.flatnonzero(np.diff(shift, prepend=shift[0] - 1))
    positions = np.asarray(epoch_s, dtype=np.int64) - start_epoch
    return tuple((int(positions[i]) if k else 0, int(shift[i])) for k, i in enumerate(changes))


def records_time_axis(*, epoch_s: np.ndarray, delta_s: np.ndarray) -> TimeAxis:
    """The real-time axis from the first record to the last (the overview's last 24 h), on the
    first record's wall clock: on the night DST ends the repeated hour follows the first."""
    if not len(epoch_s):
        return TimeAxis(0, 0, 0)
    delta_s = np.asarray(delta_s, dtype=np.int64)
    start_epoch = int(epoch_s[0])
    return TimeAxis(
        start_epoch,
        int(epoch_s[-1]),
        start_epoch + int(delta_s[0]),
        _clock_segments(epoch_s, delta_s, start_epoch),
    )


def local_hour_utc_bounds(day: date, hour: int, tzinfo) -> tuple[datetime, datetime]:
    """The real UTC span of one wall-clock hour of a local day in a zone: an hour the clocks
    skip (DST starts) is empty, the hour they repeat (DST ends) lasts two hours."""
    zone = tzinfo or UTC
    start = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
    following = datetime.combine(day, time()) + timedelta(hours=hour + 1)
    end = following.replace(tzinfo=zone).astimezone(UTC)
    return start, max(start, end)
