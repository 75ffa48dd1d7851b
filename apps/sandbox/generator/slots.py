"""The clock of the generated history: the epoch, 5-minute slots, where the history starts."""

import numpy as np

from apps.sandbox.generator.seeds import stable_int
from apps.sandbox.profiles import SandboxProfile

EPOCH = 1577836800  # 2020-01-01T00:00:00Z: sessions, settings versions and slots count from here
SLOT_SECONDS = 300
DAY_SECONDS = 86400

# The history reaches back 120..210 days: its start moves in 90-day steps so that a window's
# records never change while the process runs, and there is always more than 90 days of data.
HISTORY_MIN_DAYS = 120
HISTORY_STEP_DAYS = 90
LOOKBACK_SECONDS = DAY_SECONDS  # readings before a window, for trends and alert edges


def origin(profile: SandboxProfile) -> int:
    """Each user's readings sit at their own second within the 5-minute slot, as real ones do."""
    return EPOCH + stable_int(profile.key, "phase") % SLOT_SECONDS


def history_start(now: int) -> int:
    step = HISTORY_STEP_DAYS * DAY_SECONDS
    return EPOCH + ((now - HISTORY_MIN_DAYS * DAY_SECONDS - EPOCH) // step) * step


def slot_times(profile: SandboxProfile, start: int, end: int) -> np.ndarray:
    """The 5-minute slot instants of a user in [start, end)."""
    base = origin(profile)
    first = -((base - start) // SLOT_SECONDS)  # ceil((start - base) / slot)
    last = -((base - end) // SLOT_SECONDS)
    return base + np.arange(first, last, dtype=np.int64) * SLOT_SECONDS
