"""Alerts: alarms, snoozes and ends from the live series and the settings in force."""

from dataclasses import dataclass

import numpy as np

from apps.sandbox.generator.alert_settings import settings_per_reading
from apps.sandbox.generator.egvs import EgvSeries
from apps.sandbox.generator.seeds import stable_int, unit_hash
from apps.sandbox.generator.sessions import session_index
from apps.sandbox.profiles import SandboxProfile


@dataclass(frozen=True)
class AlertEvent:
    time: int
    name: str
    state: str
    reading_time: int  # the reading it belongs to (for the transmitter)


def _condition(profile, series: EgvSeries, name: str) -> np.ndarray:
    enabled, threshold = settings_per_reading(profile, series.times, name)
    values, rates = series.values.astype(float), series.trend_rates
    with np.errstate(invalid="ignore"):
        if name == "high":
            hit = values > threshold
        elif name in ("low", "urgentLow"):
            hit = values < threshold
        elif name == "urgentLowSoon":
            hit = (values >= threshold) & (values + 20 * rates < threshold)
        elif name == "rise":
            hit = rates >= threshold
        else:  # fall
            hit = rates <= -threshold
    return hit & enabled


def glucose_alerts(profile: SandboxProfile, series: EgvSeries) -> list[AlertEvent]:
    """Alarms when a condition starts, a snooze when the user acknowledges, inactive when it ends.

    Each depends only on a reading and the one before it, so the same alert comes out whatever
    window is asked for (the series carries a day of lookback).
    """
    events = []
    times = series.times
    if times.size < 2:
        return events
    seed = stable_int(profile.key, "acknowledge")
    for name in ("high", "low", "urgentLow", "urgentLowSoon", "rise", "fall"):
        hit = _condition(profile, series, name)
        starts = np.flatnonzero(hit[1:] & ~hit[:-1]) + 1
        ends = np.flatnonzero(~hit[1:] & hit[:-1]) + 1
        for index in starts:
            at = int(times[index])
            events.append(AlertEvent(at + 1, name, "activeAlarming", at))
            lasting = index + 2 < times.size and hit[index + 1] and hit[index + 2]
            if lasting and unit_hash(seed, np.array([at]))[0] < 0.6:
                events.append(AlertEvent(at + 7 * 60 + at % 97, name, "activeSnoozed", at))
        for index in ends:
            at = int(times[index])
            events.append(AlertEvent(at + 1, name, "inactive", at))
    return events


def gap_alerts(profile: SandboxProfile, series: EgvSeries) -> list[AlertEvent]:
    """noReadings after 20 min without readings, outOfRange (signal loss) after its set delay.

    Not during a sensor change: the app knows the sensor is warming up.
    """
    events = []
    times = series.times
    if times.size < 2:
        return events
    sessions = session_index(profile, times)
    gaps = np.flatnonzero((np.diff(times) > 20 * 60) & (sessions[1:] == sessions[:-1]))
    for index in gaps:
        before, after = int(times[index]), int(times[index + 1])
        for name in ("noReadings", "outOfRange"):
            enabled, minutes = settings_per_reading(profile, np.array([before]), name)
            delay = 20.0 if name == "noReadings" else minutes[0]
            if enabled[0] and before + delay * 60 < after:
                events.append(AlertEvent(before + int(delay * 60), name, "activeAlarming", before))
                events.append(AlertEvent(after + 1, name, "inactive", after))
    return events
