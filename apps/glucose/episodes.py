"""Glucose episodes and the recurring patterns they form: the one place the rule lives.

The rule (CGM-based events of the international consensus, Battelino et al. 2019 and 2023,
with the thresholds the Patterns page asks about):
  * a **low episode** is time below 70 mg/dL (3.9 mmol/L), a **high episode** time above
    250 mg/dL (13.9 mmol/L); the limits are the patient's unit's band limits
    (apps.glucose.units), so an mmol/L reader's 3.9 is the edge;
  * it starts with readings beyond the limit for at least 15 minutes (three 5-minute readings:
    from the first reading to 5 minutes after the last is at least 15 minutes);
  * it ends when readings are back inside the limit for at least 15 minutes; a shorter return
    (one or two readings) does not split it;
  * a gap in the data of more than 15 minutes ends it too: we do not guess what a missing
    sensor saw;
  * its duration is from its first reading beyond the limit to 5 minutes after its last.
A **recurring pattern** is a 2-hour window of the local day (on the device's clock, the one the
patient lives by) in which episodes of one kind started on at least 3 different local days and
on at least a fifth of the days with data; the window with the most days is taken first, then
the next among the remaining episodes, and so on. "Lows between 02:00 and 04:00 on 5 of 14 days".
"""

from dataclasses import dataclass

import numpy as np

from apps.glucose import localtime
from apps.glucose.metrics import READING_MINUTES, clamp_to_sensor_range
from apps.glucose.units import band_limits_mgdl

LOW = "low"
HIGH = "high"
MIN_EPISODE_SECONDS = 15 * 60
MAX_GAP_SECONDS = 15 * 60
READING_SECONDS = READING_MINUTES * 60
PATTERN_WINDOW_HOURS = 2
PATTERN_MIN_DAYS = 3
PATTERN_MIN_SHARE = 0.2


@dataclass(frozen=True)
class Episode:
    kind: str  # LOW or HIGH
    start_epoch: int  # UTC epoch seconds of the first reading beyond the limit
    end_epoch: int  # 5 minutes after the last reading beyond the limit
    local_start_epoch: int  # naive local epoch seconds (device clock) of the start
    extreme_mgdl: int  # the lowest (low) or highest (high) reading

    @property
    def minutes(self) -> float:
        return (self.end_epoch - self.start_epoch) / 60

    @property
    def local_day(self) -> int:
        return int(self.local_start_epoch // localtime.SECONDS_PER_DAY)

    @property
    def local_minute_of_day(self) -> int:
        return int(self.local_start_epoch % localtime.SECONDS_PER_DAY) // 60


@dataclass(frozen=True)
class Pattern:
    kind: str
    start_hour: int  # the window is [start_hour, start_hour + PATTERN_WINDOW_HOURS) local
    days: int  # local days with an episode starting in the window
    days_with_data: int
    episodes: tuple[Episode, ...]

    @property
    def end_hour(self) -> int:
        return (self.start_hour + PATTERN_WINDOW_HOURS) % 24

    @property
    def text(self) -> str:
        kind = "Lows" if self.kind == LOW else "Highs"
        return (
            f"{kind} between {self.start_hour:02d}:00 and {self.end_hour:02d}:00 "
            f"on {self.days} of {self.days_with_data} days"
        )


def beyond_limit_mask(values_mgdl, *, kind: str, unit: str) -> np.ndarray:
    """Readings beyond the episode limit of `kind`, as the patient's unit reads them."""
    values = clamp_to_sensor_range(values_mgdl)
    limits = band_limits_mgdl(unit)
    if kind == LOW:
        return values <= limits.low_max
    return values > limits.high_max  # the "very high" band: above 250 mg/dL, 13.9 mmol/L


def _runs(mask: np.ndarray, epoch_s: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] index pairs of the runs of True readings with no data gap inside."""
    runs: list[tuple[int, int]] = []
    start = None
    for index in range(mask.size):
        gap = index > 0 and epoch_s[index] - epoch_s[index - 1] > MAX_GAP_SECONDS
        if start is not None and (not mask[index] or gap):
            runs.append((start, index - 1))
            start = None
        if mask[index] and start is None:
            start = index
    if start is not None:
        runs.append((start, mask.size - 1))
    return runs


def _merge_short_returns(runs, epoch_s: np.ndarray) -> list[tuple[int, int]]:
    """Join runs split by a return inside the limit shorter than 15 minutes (no data gap)."""
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged:
            previous_first, previous_last = merged[-1]
            no_gap = np.all(np.diff(epoch_s[previous_last : first + 1]) <= MAX_GAP_SECONDS)
            back_inside_seconds = epoch_s[first] - epoch_s[previous_last + 1]
            if no_gap and back_inside_seconds < MIN_EPISODE_SECONDS:
                merged[-1] = (previous_first, last)
                continue
        merged.append((first, last))
    return merged


def detect_episodes(series, *, unit: str, kind: str) -> list[Episode]:
    """Episodes of `kind` in an EgvSeries (ordered by time), by the rule above."""
    if len(series) == 0:
        return []
    epoch_s = np.asarray(series.epoch_s, dtype=np.int64)
    values = clamp_to_sensor_range(series.value)
    local = series.local_epoch_s
    mask = beyond_limit_mask(values, kind=kind, unit=unit)
    episodes = []
    for first, last in _merge_short_returns(_runs(mask, epoch_s), epoch_s):
        end = int(epoch_s[last]) + READING_SECONDS
        if end - int(epoch_s[first]) < MIN_EPISODE_SECONDS:
            continue
        beyond = values[first : last + 1][mask[first : last + 1]]
        extreme = int(beyond.min() if kind == LOW else beyond.max())
        episodes.append(Episode(kind, int(epoch_s[first]), end, int(local[first]), extreme))
    return episodes


def _window_days(episodes, start_hour: int) -> set[int]:
    return {e.local_day for e in episodes if _in_window(e, start_hour)}


def _in_window(episode: Episode, start_hour: int) -> bool:
    hours_after = (episode.local_minute_of_day // 60 - start_hour) % 24
    return hours_after < PATTERN_WINDOW_HOURS


def recurring_patterns(episodes: list[Episode], *, days_with_data: int) -> list[Pattern]:
    """The recurring patterns of episodes of one kind, most days first (rule above)."""
    if not episodes or days_with_data == 0:
        return []
    needed = max(PATTERN_MIN_DAYS, int(np.ceil(PATTERN_MIN_SHARE * days_with_data)))
    remaining = list(episodes)
    patterns = []
    while remaining:
        counts = [(len(_window_days(remaining, hour)), -hour) for hour in range(24)]
        days, negative_hour = max(counts)
        if days < needed:
            break
        hour = -negative_hour
        inside = tuple(e for e in remaining if _in_window(e, hour))
        patterns.append(Pattern(episodes[0].kind, hour, days, days_with_data, inside))
        remaining = [e for e in remaining if not _in_window(e, hour)]
    return patterns
