"""Day plans: what a user eats, injects, does and suffers on one local day (seeded by user + date)."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from apps.sandbox.generator.seeds import rng_for
from apps.sandbox.generator.zones import local_date, local_instant
from apps.sandbox.profiles import SandboxProfile


@dataclass(frozen=True)
class Meal:
    time: int
    carbs: int
    rise: float  # mg/dL at the peak
    bolus_units: float
    carbs_logged: bool
    bolus_logged: bool


@dataclass(frozen=True)
class DayPlan:
    day: date
    noon: int
    baseline: float
    dawn: float
    meals: tuple[Meal, ...]
    long_acting: tuple[int, int] | None  # (time, units)
    exercise: tuple[int, int, str, float] | None  # (start, minutes, intensity, drop mg/dL)
    hypo: tuple[int, float] | None  # (time of the nadir, depth mg/dL)
    artifact: tuple[int, float] | None  # (time, height mg/dL)
    signal_loss: tuple[int, int] | None  # (start, minutes)
    calibration_time: int | None
    bg_check_time: int | None
    health: tuple[int, str] | None
    note: tuple[int, str] | None


HEALTH_SUBTYPES = ("illness", "stress", "highSymptoms", "lowSymptoms", "cycle", "alcohol")
NOTES = ("pizza night", "sensor itchy", "forgot bolus?", "long walk with the dog", "site change")
EXERCISE_DROP = {"light": 20.0, "medium": 35.0, "heavy": 55.0}


# (mean local minute, spread in minutes, fewest and most carbs, chance of the meal)
MEALS = (
    (7 * 60, 40, 25, 60, 0.92),
    (12 * 60 + 30, 50, 35, 80, 0.9),
    (15 * 60 + 30, 80, 10, 30, 0.45),
    (19 * 60, 50, 45, 100, 0.95),
)


@lru_cache(maxsize=8192)
def day_plan(profile: SandboxProfile, day: date) -> DayPlan:
    """One local day of one user. Every draw comes from the day's own generator, in a fixed
    order: changing the order (or adding a draw before others) changes every later day's plan."""
    rng = rng_for(profile.key, "day", day.isoformat())
    control = profile.control
    at = lambda minute: local_instant(profile, day, minute)  # noqa: E731

    baseline = 100 + 45 * control + rng.normal(0, 6 + 10 * control)
    meals = _meals(rng, control, at)
    exercise = _exercise(rng, at) if rng.random() < 0.35 else None
    hypo = _hypo(rng, control, baseline, at) if rng.random() < profile.hypo_rate else None
    artifact = (at(rng.uniform(0, 1440)), float(rng.uniform(50, 62))) if rng.random() < 0.08 else None
    signal_loss = None
    if rng.random() < profile.signal_loss_rate:
        signal_loss = (at(rng.uniform(0, 1440)), int(rng.choice([12, 25, 40, 60, 90, 150])))
    calibration_time = at(rng.uniform(6 * 60, 10 * 60)) if profile.calibrates and rng.random() < 0.6 else None
    bg_check_time = at(rng.uniform(8 * 60, 21 * 60)) if rng.random() < 0.3 else None
    health = (
        (at(rng.uniform(8 * 60, 22 * 60)), str(rng.choice(HEALTH_SUBTYPES))) if rng.random() < 0.15 else None
    )
    note = (at(rng.uniform(8 * 60, 23 * 60)), str(rng.choice(NOTES))) if rng.random() < 0.12 else None
    long_acting = None
    if rng.random() < 0.92:
        long_acting = (at(22 * 60 + rng.normal(0, 15)), int(rng.integers(12, 24)))
    return DayPlan(
        day=day,
        noon=at(12 * 60),
        baseline=float(baseline),
        dawn=float(rng.uniform(10, 30) + 15 * control),
        meals=meals,
        long_acting=long_acting,
        exercise=exercise,
        hypo=hypo,
        artifact=artifact,
        signal_loss=signal_loss,
        calibration_time=calibration_time,
        bg_check_time=bg_check_time,
        health=health,
        note=note,
    )


def _meals(rng, control: float, at) -> tuple[Meal, ...]:
    meals = []
    for mean_minute, spread, carbs_low, carbs_high, chance in MEALS:
        if rng.random() >= chance:
            continue
        carbs = int(rng.integers(carbs_low, carbs_high + 1))
        missed_bolus = rng.random() < 0.12 * control
        rise = carbs * (0.9 + 1.9 * control) * rng.uniform(0.7, 1.3) * (2.2 if missed_bolus else 1)
        meals.append(
            Meal(
                time=at(mean_minute + rng.normal(0, spread / 2)),
                carbs=carbs,
                rise=float(rise),
                bolus_units=0.0 if missed_bolus else round(carbs / rng.uniform(8, 14) * 2) / 2,
                carbs_logged=bool(rng.random() < 0.85),
                bolus_logged=bool(rng.random() < 0.8) and not missed_bolus,
            )
        )
    return tuple(meals)


def _exercise(rng, at) -> tuple[int, int, str, float]:
    intensity = str(rng.choice(["light", "medium", "heavy"]))
    minutes = int(rng.choice([20, 30, 45, 60]))
    drop = EXERCISE_DROP[intensity] * np.sqrt(minutes / 30) * rng.uniform(0.7, 1.3)
    start_minute = rng.choice([7 * 60 + 30, 17 * 60 + 30]) + rng.normal(0, 45)
    return (at(start_minute), minutes, intensity, float(drop))


def _hypo(rng, control: float, baseline: float, at) -> tuple[int, float]:
    # Lows cluster at night (after evening insulin) and in the afternoon.
    minute = rng.uniform(2 * 60, 5 * 60) if rng.random() < 0.45 else rng.uniform(13 * 60, 18 * 60)
    target = rng.uniform(25, 60) if control > 0.8 else rng.uniform(45, 66)
    return (at(minute), float(max(baseline - target, 20)))


def day_plans(profile: SandboxProfile, start: int, end: int) -> list[DayPlan]:
    """Plans of every local day that can influence [start, end).

    One day either side: yesterday's dinner acts after midnight, tomorrow's baseline shapes this
    evening's (baselines are interpolated noon to noon), an early hypo starts before midnight.
    """
    first = local_date(profile, start) - timedelta(days=1)
    last = local_date(profile, end) + timedelta(days=1)
    return [day_plan(profile, first + timedelta(days=n)) for n in range((last - first).days + 1)]
