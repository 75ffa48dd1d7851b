"""Alert settings history: each setting as the user had it in each settings version (visit)."""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from apps.sandbox.generator.seeds import rng_for, stable_int
from apps.sandbox.generator.slots import DAY_SECONDS, origin
from apps.sandbox.generator.zones import is_night, zone_offsets
from apps.sandbox.profiles import SandboxProfile

GLUCOSE_ALERTS = ("high", "low", "urgentLow", "urgentLowSoon", "fixedLow")
RATE_ALERTS = ("rise", "fall")


@dataclass(frozen=True)
class AlertSetting:
    alert_name: str
    value_mgdl: float | None  # mg/dL, mg/dL/min or minutes
    enabled: bool
    snooze: int | None
    delay: int | None
    secondary: int | None
    sound_theme: str
    sound_output_mode: str
    changed_at: int  # when the user last adjusted it (systemTime)


def alert_names(profile: SandboxProfile) -> tuple[str, ...]:
    names = ("high", "low", "urgentLow", "urgentLowSoon", "rise", "fall", "outOfRange", "noReadings")
    return names + (("fixedLow",) if profile.generation == "g7" else ())


def settings_period(profile: SandboxProfile) -> int:
    return profile.settings_period_days * DAY_SECONDS


def settings_version(profile: SandboxProfile, instant: int) -> int:
    return (int(instant) - origin(profile)) // settings_period(profile)


# The user keeps a Night schedule for NIGHT_CYCLE_VISITS - NIGHT_OFF_VISITS visits, then drops it
# for NIGHT_OFF_VISITS (the night settings fall back to the default schedule's) and sets it up
# again, so every stretch of history of about three months has a Night schedule added.
NIGHT_CYCLE_VISITS = 6
NIGHT_OFF_VISITS = 2


def _night_phase(profile: SandboxProfile, version: int) -> int:
    return (int(version) + stable_int(profile.key, "night cycle")) % NIGHT_CYCLE_VISITS


def has_night_schedule(profile: SandboxProfile, version: int) -> bool:
    """Whether the Night schedule exists in settings version `version`."""
    return _night_phase(profile, version) >= NIGHT_OFF_VISITS


def _night_added(profile: SandboxProfile, version: int) -> int:
    """The version in which the Night schedule in force at `version` was set up."""
    return int(version) - (_night_phase(profile, version) - NIGHT_OFF_VISITS)


def _last_change(profile: SandboxProfile, schedule: str, name: str, version: int) -> int:
    """The newest version <= `version` in which the user changed this setting (30% per visit);
    a Night setting was last changed no earlier than the Night schedule was set up."""
    floor = _night_added(profile, version) if schedule else version - 60
    for candidate in range(version, floor, -1):
        if stable_int(profile.key, schedule, name, "changed", candidate) % 100 < 30:
            return candidate
    return floor


@lru_cache(maxsize=8192)
def alert_setting(profile: SandboxProfile, schedule: str, name: str, version: int) -> AlertSetting:
    changed = _last_change(profile, schedule, name, version)
    rng = rng_for(profile.key, schedule, name, changed)
    night = schedule != ""
    snooze, delay, secondary = int(rng.choice([0, 15, 30])), 0, 0
    if name == "high":
        value = float(rng.choice([220, 250, 280] if night else [170, 180, 200, 250]))
        snooze, delay, secondary = (
            int(rng.choice([60, 120, 120])),
            int(rng.choice([0, 0, 15])),
            int(value) - 8,
        )
    elif name == "low":
        value, snooze = float(rng.choice([65, 70] if night else [70, 75, 80])), int(rng.choice([15, 30]))
    elif name in ("urgentLow", "urgentLowSoon", "fixedLow"):
        value, snooze = 55.0, 30
        if name == "urgentLow" and profile.quirks:
            snooze = 28  # seen in real data (Tidepool rewrites it to 30)
    elif name in RATE_ALERTS:
        value, secondary = float(rng.choice([2, 3])), int(rng.choice([0, 10]))
    elif name == "outOfRange":
        value = float(rng.choice([20, 30, 60, 120]))
    else:  # noReadings: fixed 20 minutes, no value
        value = None
    always_on = name in ("urgentLow", "fixedLow")
    chance_on = {"rise": 0.75, "fall": 0.75, "urgentLowSoon": 0.8}.get(name, 0.92)
    return AlertSetting(
        alert_name=name,
        value_mgdl=value,
        enabled=always_on or bool(rng.random() < chance_on),
        snooze=snooze,
        delay=delay,
        secondary=secondary,
        sound_theme=str(rng.choice(["modern", "classic"])),
        sound_output_mode=str(rng.choice(["sound", "vibrate", "match"])),
        changed_at=origin(profile) + changed * settings_period(profile),
    )


def settings_per_reading(profile: SandboxProfile, times: np.ndarray, name: str):
    """(enabled, value) arrays of one alert as in force at each reading (the Night schedule's at
    night, when there is one)."""
    offsets = zone_offsets(profile.timezone, times)
    night = is_night(((times + offsets) % DAY_SECONDS) // 60)
    versions = (times - origin(profile)) // settings_period(profile)
    enabled = np.zeros(times.size, dtype=bool)
    values = np.full(times.size, np.nan)
    for version in np.unique(versions):
        # Without a Night schedule the default one is in force all day.
        night_schedule = "Night" if has_night_schedule(profile, int(version)) else ""
        for schedule, when in (("", ~night), (night_schedule, night)):
            rows = (versions == version) & when
            setting = alert_setting(profile, schedule, name, int(version))
            enabled[rows] = setting.enabled
            values[rows] = np.nan if setting.value_mgdl is None else setting.value_mgdl
    return enabled, values
