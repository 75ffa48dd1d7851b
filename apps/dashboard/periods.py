"""Periods of local days chosen on the pages (?days=14&end=2026-11-20) and their bounds."""

from datetime import date

from apps.glucose.localtime import BadPeriod, Period, period_ending, period_from_dates

__all__ = ["BadPeriod", "Period", "last_day_from_request", "parse_days", "period_ending", "period_from_dates"]

PERIOD_CHOICES = (1, 7, 14, 30, 90)
TRACE_CHOICES = (1, 3, 7, 14, 30, 90)
MAX_DAYS = 90


def parse_days(value, *, default: int, choices=None) -> int:
    """A number of days from the query string; anything odd falls back to the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return default
    if choices is not None and days not in choices:
        return default
    return min(max(days, 1), MAX_DAYS)


def last_day_from_request(value, *, today: date) -> date:
    """?end=YYYY-MM-DD (the date picker), never after today; a bad value means today."""
    try:
        return min(date.fromisoformat(value), today) if value else today
    except ValueError:
        return today
