"""A user's wall clock: UTC offsets, local instants and dates, night hours."""

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from apps.sandbox.profiles import SandboxProfile

NIGHT_START_MINUTE = 22 * 60
NIGHT_END_MINUTE = 7 * 60


@lru_cache(maxsize=200_000)
def _hour_offset(zone_name: str, hour_index: int) -> int:
    moment = datetime.fromtimestamp(hour_index * 3600, ZoneInfo(zone_name))
    return int(moment.utcoffset().total_seconds())


def zone_offsets(zone_name: str, times: np.ndarray) -> np.ndarray:
    """UTC offset in seconds at each instant (our zones change offset on whole hours)."""
    times = np.asarray(times, dtype=np.int64)
    if times.size == 0:
        return np.zeros(0, dtype=np.int64)
    hours, inverse = np.unique(times // 3600, return_inverse=True)
    table = np.array([_hour_offset(zone_name, int(hour)) for hour in hours], dtype=np.int64)
    return table[inverse]


def local_instant(profile: SandboxProfile, day: date, minute_of_day: float) -> int:
    minute = int(min(max(minute_of_day, 0), 24 * 60 - 1))
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ZoneInfo(profile.timezone))
    return int(wall.timestamp())


def local_date(profile: SandboxProfile, instant: int) -> date:
    return datetime.fromtimestamp(instant, ZoneInfo(profile.timezone)).date()


def is_night(local_minutes: np.ndarray) -> np.ndarray:
    return (local_minutes >= NIGHT_START_MINUTE) | (local_minutes < NIGHT_END_MINUTE)
