"""User entries: fingerstick calibrations and events (carbs, insulin, exercise, health, notes), with later edits."""

from dataclasses import dataclass

import numpy as np

from apps.sandbox.generator.days import DayPlan
from apps.sandbox.generator.egvs import EgvSeries
from apps.sandbox.generator.seeds import stable_int, unit_hash
from apps.sandbox.generator.slots import SLOT_SECONDS
from apps.sandbox.profiles import SandboxProfile

MGDL_PER_MMOLL = 18.018


def calibrations(profile: SandboxProfile, series: EgvSeries, plans: list[DayPlan]) -> list[tuple[int, int]]:
    """(time, mg/dL) fingerstick calibrations of G6 users, close to the sensor reading then."""
    found = []
    if not profile.calibrates or series.times.size == 0:
        return found
    for plan in plans:
        at = plan.calibration_time
        if at is None:
            continue
        index = int(np.searchsorted(series.times, at))
        if index >= series.times.size or series.times[index] - at > SLOT_SECONDS:
            continue
        reading = int(series.values[index])
        if 40 <= reading <= 400:
            wobble = (unit_hash(stable_int(profile.key, "calibration"), np.array([at]))[0] - 0.5) * 0.16
            found.append((at, int(round(reading * (1 + wobble)))))
    return found


@dataclass(frozen=True)
class PlannedEvent:
    """A user-entered event, and how the user changes it later (within 24 h of its systemTime)."""

    key: str  # stable identity: date/kind/index
    time: int
    event_type: str
    sub_type: str | None
    value: str | None
    unit: str | None
    edit: tuple[str, int, str | None] | None  # ("updated"|"deleted", when, new value)


def _number(value: float) -> str:
    return f"{value:g}"


def planned_events(profile: SandboxProfile, plans: list[DayPlan], glucose_at) -> list[PlannedEvent]:
    """Every event type: carbs, insulin (fast/long), exercise, health, bloodGlucose and notes;
    per day in that order, as the user logged them."""
    found = []
    for plan in plans:
        found += _meal_events(profile, plan)
        once_a_day = (
            _basal_event(profile, plan),
            _exercise_event(profile, plan),
            _health_event(profile, plan),
            _bg_check_event(profile, plan, glucose_at),
            _note_event(profile, plan),
        )
        found += [event for event in once_a_day if event is not None]
    return found


def _meal_events(profile: SandboxProfile, plan: DayPlan) -> list[PlannedEvent]:
    """The carbs of each meal and its bolus, when the user logged them."""
    day, found = plan.day.isoformat(), []
    for number, meal in enumerate(plan.meals):
        if meal.carbs_logged:
            carbs = str(meal.carbs)
            found.append(
                _event(
                    profile,
                    f"{day}/carbs/{number}",
                    meal.time,
                    "carbs",
                    None,
                    carbs,
                    "grams",
                    meal.carbs + 10,
                )
            )
        if meal.bolus_logged and meal.bolus_units:
            units = _number(meal.bolus_units)
            at = meal.time - 600
            key = f"{day}/bolus/{number}"
            found.append(
                _event(profile, key, at, "insulin", "fastActing", units, "units", meal.bolus_units + 1)
            )
    return found


def _basal_event(profile: SandboxProfile, plan: DayPlan) -> PlannedEvent | None:
    if not plan.long_acting:
        return None
    at, units = plan.long_acting
    key = f"{plan.day.isoformat()}/basal"
    return _event(profile, key, at, "insulin", "longActing", str(units), "units", units + 2)


def _exercise_event(profile: SandboxProfile, plan: DayPlan) -> PlannedEvent | None:
    if not plan.exercise:
        return None
    at, minutes, intensity, _ = plan.exercise
    # Real data has exercise without a duration as "-1" (Tidepool event.go).
    shown = "-1" if profile.quirks else str(minutes)
    key = f"{plan.day.isoformat()}/exercise"
    return _event(profile, key, at, "exercise", intensity, shown, "minutes", minutes + 15)


def _health_event(profile: SandboxProfile, plan: DayPlan) -> PlannedEvent | None:
    if not plan.health:
        return None
    at, subtype = plan.health
    value = "1" if profile.quirks else None  # some real health events carry a value
    return _event(profile, f"{plan.day.isoformat()}/health", at, "health", subtype, value, None, None)


def _bg_check_event(profile: SandboxProfile, plan: DayPlan, glucose_at) -> PlannedEvent | None:
    """A fingerstick within 5 % of the sensor's glucose then, in the user's unit."""
    if not plan.bg_check_time:
        return None
    at = plan.bg_check_time
    mgdl = float(glucose_at(at))
    mgdl = min(max(mgdl * (1 + (stable_int(profile.key, "bg", at) % 11 - 5) / 100), 30), 450)
    if profile.glucose_unit == "mmol/L":
        value, new, unit = f"{mgdl / MGDL_PER_MMOLL:.1f}", f"{mgdl / MGDL_PER_MMOLL + 0.3:.1f}", "mmol/L"
    else:
        value, new, unit = str(int(round(mgdl))), str(int(round(mgdl)) + 5), "mg/dL"
    return _event(profile, f"{plan.day.isoformat()}/bg", at, "bloodGlucose", None, value, unit, new)


def _note_event(profile: SandboxProfile, plan: DayPlan) -> PlannedEvent | None:
    if not plan.note:
        return None
    at, text = plan.note
    event_type = "note" if profile.quirks else "notes"  # "note" is seen in real data
    return _event(
        profile, f"{plan.day.isoformat()}/note", at, event_type, None, text, None, text + " (edited)"
    )


def _event(profile, key, at, event_type, sub_type, value, unit, new_value) -> PlannedEvent:
    """About 8% of events are edited and 4% deleted, between 10 min and 23 h after the fact.

    Not on receivers: devices that cannot edit or delete always send "created" (Dexcom v2 docs).
    """
    roll = stable_int(profile.key, "edit", key) % 1000 if profile.display_device != "receiver" else 1000
    later = at + 600 + stable_int(profile.key, "edit-at", key) % (23 * 3600 - 600)
    edit = None
    if roll < 80 and new_value is not None:
        edit = ("updated", later, new_value if isinstance(new_value, str) else _number(new_value))
    elif roll < 120:
        edit = ("deleted", later, value)
    return PlannedEvent(key, int(at), event_type, sub_type, value, unit, edit)
