"""Periods of local days chosen on the pages (?days=14&end=2026-11-20) and their bounds."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from apps.glucose import localtime

PERIOD_CHOICES = (1, 7, 14, 30, 90)
TRACE_CHOICES = (1, 3, 7, 14, 30, 90)
MAX_DAYS = 90


class BadPeriod(ValueError):
    """A period parameter that cannot be used; the message is shown to the user."""


@dataclass(frozen=True)
class Period:
    """Local days [first_day, end_day); `local_now` clips today so wear counts only past time."""

    first_day: date
    end_day: date
    local_now: datetime | None = None
    tzinfo: object = None

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def elapsed_days(self) -> float:
        minutes = localtime.period_minutes(
            first_day=self.first_day, end_day=self.end_day, local_now_at=self.local_now,
            tzinfo=self.tzinfo,
        )
        return minutes / 1440

    def previous(self) -> "Period":
        return Period(self.first_day - timedelta(days=self.days), self.first_day, tzinfo=self.tzinfo)

    def contains(self, day: date) -> bool:
        return self.first_day <= day < self.end_day


def parse_days(value, *, default: int, choices=None) -> int:
    """A number of days from the query string; anything odd falls back to the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return default
    if choices is not None and days not in choices:
        return default
    return min(max(days, 1), MAX_DAYS)


def parse_date(value: str, *, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadPeriod(f"{name} must be a date written YYYY-MM-DD, not {value!r}") from None


def period_ending(last_day: date, *, days: int, local_now: datetime | None = None,
                  tzinfo=None) -> Period:
    first_day, end_day = localtime.local_day_period(last_day=last_day, days=days)
    return Period(first_day, end_day, local_now, tzinfo)


def period_from_dates(start: str | None, end: str | None, *, local_now: datetime | None,
                      tzinfo=None) -> Period:
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


def last_day_from_request(value, *, today: date) -> date:
    """?end=YYYY-MM-DD (the date picker), never after today; a bad value means today."""
    try:
        return min(date.fromisoformat(value), today) if value else today
    except ValueError:
        return today
