"""Late uploads: stretches of readings that reach Dexcom an hour or more after they were measured."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from apps.sandbox.generator.seeds import rng_for
from apps.sandbox.generator.slots import DAY_SECONDS
from apps.sandbox.generator.zones import local_date, local_instant
from apps.sandbox.profiles import SandboxProfile

BACKFILL_MINUTES = (60, 90, 120, 180)  # a G6 transmitter keeps 3 h of readings for backfill
RECEIVER_DOCK_HOUR_UTC = 18  # the backup receiver is docked daily at 18:00 UTC (devices, too)

# A stretch starts at most this long before its readings arrive (20 h stretch + up to 25 h
# until the next docking): a client asking what arrived after T needs stretches from T - this.
LATE_REACH_SECONDS = 3 * DAY_SECONDS


@dataclass(frozen=True)
class LateUpload:
    """Readings with start <= systemTime < end that Dexcom received only at `arrival`."""

    start: int
    end: int
    arrival: int
    from_receiver: bool


def _next_docking(instant: int) -> int:
    docking = instant - instant % DAY_SECONDS + RECEIVER_DOCK_HOUR_UTC * 3600
    return docking if docking >= instant else docking + DAY_SECONDS


@lru_cache(maxsize=8192)
def late_upload(profile: SandboxProfile, day: date) -> LateUpload | None:
    """The late stretch of one local day, if any (its own seed: the day plans stay as they were)."""
    if not profile.late_upload_rate:
        return None
    rng = rng_for(profile.key, "late", day.isoformat())
    if rng.random() >= profile.late_upload_rate:
        return None
    if profile.late_upload_kind == "receiver":
        # The phone stayed at home; the receiver's readings went up at its next docking.
        # At most 20 h: alerts look back a day for the reading before a gap (LOOKBACK_SECONDS).
        start = local_instant(profile, day, rng.uniform(6 * 60, 14 * 60))
        end = start + int(rng.integers(6, 21)) * 3600
        return LateUpload(start, end, _next_docking(end + 3600), True)
    # Signal lost for 1-3 h; the transmitter backfilled the gap and the phone uploaded it 1-4 h later.
    start = local_instant(profile, day, rng.uniform(0, 24 * 60))
    end = start + int(rng.choice(BACKFILL_MINUTES)) * 60
    return LateUpload(start, end, end + int(rng.integers(60, 241)) * 60, False)


def late_uploads(profile: SandboxProfile, start: int, end: int) -> list[LateUpload]:
    """The late stretches overlapping [start, end), oldest first."""
    if not profile.late_upload_rate:
        return []
    first = local_date(profile, start - LATE_REACH_SECONDS)
    last = local_date(profile, end) + timedelta(days=1)
    found = (late_upload(profile, first + timedelta(days=n)) for n in range((last - first).days + 1))
    return [late for late in found if late and late.end > start and late.start < end]


def arrival_times(profile: SandboxProfile, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(arrival, from_receiver) of each synthetic reading; overlapping stretches: the later wins."""
    arrivals = times.copy()
    from_receiver = np.zeros(times.size, dtype=bool)
    if times.size == 0:
        return arrivals, from_receiver
    for late in late_uploads(profile, int(times[0]), int(times[-1]) + 1):
        inside = (times >= late.start) & (times < late.end)
        arrivals[inside] = np.maximum(arrivals[inside], late.arrival)
        from_receiver |= inside & late.from_receiver
    return arrivals, from_receiver
