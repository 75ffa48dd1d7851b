"""The episode rule (apps.glucose.episodes) on hand-made readings: 15 minutes to start, 15
minutes back inside to end, a data gap ends it; recurring patterns by 2-hour local window."""

from datetime import UTC, datetime

import numpy as np
import pytest

from apps.glucose import episodes, metrics
from apps.glucose.selectors import EgvSeries
from apps.glucose.units import MGDL, MMOLL

START = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())


def series(values, *, start=START, step=300, delta=0) -> EgvSeries:
    """Readings every `step` seconds; None is a missing reading (no row)."""
    times = [start + i * step for i, v in enumerate(values) if v is not None]
    kept = [v for v in values if v is not None]
    return EgvSeries(
        np.array(times, dtype=np.int64),
        np.full(len(times), delta, dtype=np.int64),
        np.array(kept, dtype=np.int64),
    )


def lows(values, **kwargs):
    return episodes.detect_episodes(series(values, **kwargs), unit=MGDL, kind=episodes.LOW)


def test_three_readings_below_70_are_a_low_episode_of_15_minutes():
    (episode,) = lows([100, 65, 62, 68, 100, 100, 100])
    assert episode.minutes == 15
    assert episode.extreme_mgdl == 62
    assert episode.start_epoch == START + 300


def test_two_readings_below_70_are_no_episode():
    assert lows([100, 65, 62, 100, 100, 100]) == []


def test_a_short_return_inside_the_limit_does_not_split_an_episode():
    (episode,) = lows([65, 62, 60, 75, 80, 61, 60, 64, 100, 100, 100])
    assert episode.minutes == 40  # from the first low to 5 minutes after the last


def test_fifteen_minutes_back_in_range_end_an_episode():
    found = lows([65, 62, 60, 75, 80, 85, 61, 60, 64, 100])
    assert [e.minutes for e in found] == [15, 15]


def test_a_data_gap_of_more_than_15_minutes_ends_an_episode():
    # 65, 62, then 20 minutes of nothing, then 60, 59: neither side lasts 15 minutes.
    assert lows([65, 62, None, None, None, 60, 59, 100]) == []
    found = lows([65, 62, 61, None, None, None, 60, 59, 58, 100])
    assert len(found) == 2


def test_low_sensor_readings_count_as_40_and_as_low():
    (episode,) = lows([39, 39, 39, 100, 100, 100])
    assert episode.extreme_mgdl == 40


def test_high_episodes_start_above_250_in_either_unit():
    mgdl = [240, 251, 260, 255, 240, 240, 240]
    assert len(episodes.detect_episodes(series(mgdl), unit=MGDL, kind=episodes.HIGH)) == 1
    # 251 mg/dL reads 13.9 mmol/L, which is not above 13.9: only 260 and 255 are beyond.
    assert episodes.detect_episodes(series(mgdl), unit=MMOLL, kind=episodes.HIGH) == []
    assert episodes.detect_episodes(series(mgdl), unit=MGDL, kind=episodes.LOW) == []


def _night_lows(days: int, *, hour: int, minute: int = 0):
    """One 20-minute low at hour:minute (local) on each of `days` consecutive days."""
    found = []
    for day in range(days):
        start = START + day * 86400 + hour * 3600 + minute * 60
        found += lows([100, 60, 60, 60, 60, 100, 100, 100], start=start - 300)
    return found


def test_lows_at_the_same_time_on_several_nights_are_a_pattern():
    found = _night_lows(5, hour=2, minute=30)
    (pattern,) = episodes.recurring_patterns(found, days_with_data=14)
    assert pattern.days == 5
    assert pattern.start_hour in (1, 2)
    assert pattern.text.startswith("Lows between ")
    assert pattern.text.endswith("on 5 of 14 days")


def test_two_nights_are_not_a_pattern_and_a_fifth_of_the_days_is_needed():
    assert episodes.recurring_patterns(_night_lows(2, hour=3), days_with_data=14) == []
    # 3 days of 30 with data is a tenth: not a pattern.
    assert episodes.recurring_patterns(_night_lows(3, hour=3), days_with_data=30) == []


def test_patterns_follow_the_device_clock():
    # Readings at 02:30 UTC shown at 15:30 on the device (UTC+13): the pattern is in the afternoon.
    found = []
    for day in range(4):
        start = START + day * 86400 + 2 * 3600 + 1800 - 300
        found += episodes.detect_episodes(
            series([100, 60, 60, 60, 60, 100, 100, 100], start=start, delta=13 * 3600),
            unit=MGDL,
            kind=episodes.LOW,
        )
    (pattern,) = episodes.recurring_patterns(found, days_with_data=7)
    assert pattern.start_hour in (14, 15)


def test_hourly_statistics_per_local_hour():
    # Hour 0: 12 readings of 100; hour 1: six of 60 and six of 200; hours 2-23 empty.
    values = [100] * 12 + [60] * 6 + [200] * 6
    s = series(values)
    table = metrics.hourly_statistics(s.local_epoch_s, s.value, unit=MGDL)
    assert len(table) == 24
    assert table[0]["readings"] == 12 and table[0]["mean_mgdl"] == 100 and table[0]["tir_percent"] == 100
    assert table[0]["sd_mgdl"] == 0
    assert table[1]["mean_mgdl"] == 130
    assert table[1]["tbr_percent"] == 50 and table[1]["tar_percent"] == 50 and table[1]["tir_percent"] == 0
    assert table[1]["p50_mgdl"] == pytest.approx(130)
    assert table[2]["readings"] == 0 and table[2]["mean_mgdl"] is None and table[2]["tir_percent"] is None
