"""The emulator's truth: exactly the records the HTTP API returns, for tests to compare against.

The views call the same functions, so the oracle and the API cannot drift apart: same generator,
same data delay (settings.EMULATOR_DATA_DELAY_MINUTES), same event-edit rule (an edit shows once
it has been made), same recorded traces.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from apps.sandbox import dexcom_time, generator
from apps.sandbox import records as dexcom_records
from apps.sandbox.generator import LateUpload, Trace
from apps.sandbox.models import RecordedReading, RecordedTrace
from apps.sandbox.profiles import profile_for


def visible_until(now: datetime | None = None) -> int:
    """Newest systemTime Dexcom has published: now minus the data delay (epoch seconds)."""
    now = now or timezone.now()
    delay = timedelta(minutes=settings.EMULATOR_DATA_DELAY_MINUTES)
    return dexcom_time.to_epoch(now - delay)


def recorded_trace(sandbox_user_key: str, start: int | None = None, end: int | None = None) -> Trace | None:
    """The CSV readings of a user in [start, end) (and all span bounds), or None if none loaded."""
    spans = list(RecordedTrace.objects.filter(sandbox_user__key=sandbox_user_key).values_list("start", "end"))
    if not spans:
        return None
    readings = RecordedReading.objects.filter(sandbox_user__key=sandbox_user_key)
    if start is not None:
        readings = readings.filter(system_time__gte=datetime.fromtimestamp(start, UTC))
    if end is not None:
        readings = readings.filter(system_time__lt=datetime.fromtimestamp(end, UTC))
    rows = list(readings.order_by("system_time").values_list("system_time", "value"))
    return Trace(
        times=np.array([dexcom_time.to_epoch(at) for at, _ in rows], dtype=np.int64),
        values=np.array([value for _, value in rows], dtype=np.int64),
        spans=[(dexcom_time.to_epoch(s), dexcom_time.to_epoch(e)) for s, e in spans],
    )


def records_between(
    *, sandbox_user_key: str, record_type: str, start: int, end: int, until: int
) -> list[dict]:
    """Records of one type with start <= systemTime < end, as published at `until` (epoch s)."""
    profile = profile_for(sandbox_user_key)
    # A day of readings before the window decides trends and alert edges.
    trace = recorded_trace(sandbox_user_key, start - 2 * 86400, end + 3600)
    return dexcom_records.window_records(profile, record_type, start, end, visible_until=until, trace=trace)


def records(
    *, sandbox_user_key: str, record_type: str, start: datetime, end: datetime, now: datetime | None = None
) -> list[dict]:
    """The records GET /v3/users/self/<record_type> returns for [start, end).

    record_type: egvs | alerts | calibrations | events | devices (devices ignore the window).
    Naive datetimes are UTC. `now` defaults to the current time (pass one to pin the delay edge).
    """
    return records_between(
        sandbox_user_key=sandbox_user_key,
        record_type=record_type,
        start=dexcom_time.to_epoch(start),
        end=dexcom_time.to_epoch(end),
        until=visible_until(now),
    )


def data_range(
    *, sandbox_user_key: str, last_sync_time: datetime | None = None, now: datetime | None = None
) -> dict:
    """The calibrations / egvs / events blocks of GET /v3/users/self/dataRange."""
    profile = profile_for(sandbox_user_key)
    last_sync = None if last_sync_time is None else dexcom_time.to_epoch(last_sync_time)
    return dexcom_records.data_range(
        profile, visible_until=visible_until(now), last_sync=last_sync, trace=recorded_trace(sandbox_user_key)
    )


def late_uploads(
    *, sandbox_user_key: str, days: int, now: datetime | None = None, min_fill: float = 0.8
) -> list[LateUpload]:
    """The late stretches of the last `days` that had arrived by now minus the data delay and
    hold at least `min_fill` of their 5-minute slots (not lost to a sensor change), oldest first."""
    profile = profile_for(sandbox_user_key)
    until = visible_until(now)
    found = []
    for late in generator.late_uploads(profile, until - days * 86400, until):
        if late.arrival > until:
            continue
        readings = dexcom_records.series_for(profile, late.start, late.end, visible_until=until, trace=None)
        if len(readings) >= min_fill * (late.end - late.start) / generator.SLOT_SECONDS:
            found.append(late)
    return found
