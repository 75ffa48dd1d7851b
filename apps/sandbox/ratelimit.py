"""The app-wide limit Dexcom enforces: 60,000 calls per client per clock hour, then 429.

One statement per call (an upsert that returns the new count), shared by every process through
the database. The limit is settings.EMULATOR_RATE_LIMIT_PER_HOUR when set (tests lower it).
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection

from apps.sandbox.models import RateCounter

DEXCOM_CALLS_PER_HOUR = 60000


def limit_per_hour() -> int:
    return int(getattr(settings, "EMULATOR_RATE_LIMIT_PER_HOUR", DEXCOM_CALLS_PER_HOUR))


def count_call(*, client_id: str, now: datetime) -> tuple[int, int]:
    """Record one call; returns (calls this hour, seconds until the hour ends)."""
    epoch = int(now.timestamp())
    window_start = datetime.fromtimestamp(epoch - epoch % 3600, UTC)
    table = RateCounter._meta.db_table
    with connection.cursor() as cursor:
        # Both SQLite (3.35+) and PostgreSQL speak INSERT ... ON CONFLICT ... RETURNING.
        cursor.execute(
            f"INSERT INTO {table} (client_id, window_start, count) VALUES (%s, %s, 1) "
            f"ON CONFLICT (client_id, window_start) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [client_id, connection.ops.adapt_datetimefield_value(window_start)],
        )
        (count,) = cursor.fetchone()
    if count == 1:
        # First call of a new hour: forget finished hours so the table stays a few rows long.
        RateCounter.objects.filter(window_start__lt=window_start - timedelta(hours=1)).delete()
    return count, 3600 - epoch % 3600


def over_limit(*, client_id: str, now: datetime) -> int | None:
    """Seconds to wait (Retry-After) when this call is over the limit, else None."""
    count, seconds_left = count_call(client_id=client_id, now=now)
    return seconds_left if count > limit_per_hour() else None
