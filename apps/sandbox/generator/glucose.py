"""The sensor's glucose trace: baseline, dawn, meals, exercise, hypos, waves and noise."""

import numpy as np

from apps.sandbox.generator.days import DayPlan
from apps.sandbox.generator.seeds import rng_for, stable_int, unit_hash
from apps.sandbox.generator.slots import DAY_SECONDS
from apps.sandbox.generator.zones import zone_offsets
from apps.sandbox.profiles import SandboxProfile


def _gamma(x: np.ndarray) -> np.ndarray:
    """x·e^(1−x): 0 at 0, 1 at x = 1, a long tail: the shape of a meal or an exercise effect."""
    return x * np.exp(1 - x)


def _add_effect(total, times, at, amplitude, shape, before_s, after_s):
    low = np.searchsorted(times, at - before_s)
    high = np.searchsorted(times, at + after_s)
    if high > low:
        minutes = (times[low:high] - at) / 60.0
        total[low:high] += amplitude * shape(minutes)


def glucose_mgdl(profile: SandboxProfile, times: np.ndarray, plans: list[DayPlan]) -> np.ndarray:
    """The sensor's glucose (mg/dL, unclipped float) at sorted instants."""
    times = np.asarray(times, dtype=np.int64)
    offsets = zone_offsets(profile.timezone, times)
    local_hours = ((times + offsets) % DAY_SECONDS) / 3600.0
    noons = np.array([plan.noon for plan in plans], dtype=np.float64)
    total = np.interp(times, noons, [plan.baseline for plan in plans])
    day_index = np.clip(np.searchsorted(noons - 12 * 3600, times, side="right") - 1, 0, len(plans) - 1)
    dawn = np.array([plan.dawn for plan in plans])[day_index]
    total += dawn * np.exp(-(((local_hours - 6.5) / 1.4) ** 2))

    for plan in plans:
        for meal in plan.meals:
            _add_effect(
                total,
                times,
                meal.time,
                meal.rise,
                lambda m: _gamma(m / 50.0) - 0.15 * _gamma(m / 160.0),
                0,
                7 * 3600,
            )
        if plan.exercise:
            start, minutes, _, drop = plan.exercise
            _add_effect(total, times, start, -drop, lambda m, p=minutes + 20.0: _gamma(m / p), 0, 6 * 3600)
        if plan.hypo:
            nadir, depth = plan.hypo
            _add_effect(total, times, nadir, -depth, lambda m: np.exp(-((m / 35.0) ** 2)), 2 * 3600, 2 * 3600)
        if plan.artifact:
            at, height = plan.artifact
            _add_effect(total, times, at, height, lambda m: np.ones_like(m), 0, 15 * 60)

    waves = rng_for(profile.key, "waves")
    for low, high in ((1.5, 3.0), (3.0, 6.0), (8.0, 14.0)):
        period = waves.uniform(low, high) * 3600
        amplitude = waves.uniform(4, 8) * (0.6 + profile.control)
        total += amplitude * np.sin(2 * np.pi * times / period + waves.uniform(0, 2 * np.pi))
    seed = stable_int(profile.key, "noise")
    uniform_sum = sum(unit_hash(seed + n, times) for n in range(4))
    total += (uniform_sum - 2.0) * np.sqrt(3) * 2.5
    return total


def reported_values(glucose: np.ndarray) -> np.ndarray:
    """What Dexcom reports: whole mg/dL, 39 below the 40 floor, 401 above the 400 ceiling."""
    values = np.rint(glucose).astype(np.int64)
    values[values < 40] = 39
    values[values > 400] = 401
    return values
