"""Pure, deterministic generation of a sandbox user's glucose history.

Nothing here touches the database or the clock: every function takes the profile, the instants
it needs (UTC epoch seconds) and the recorded trace, if any. The same slot of the same user always
yields the same reading, so the API is repeatable and truth.py can act as an oracle.

How a day is made (DayPlan, per local calendar day of the user, seeded by user + date):
  baseline + dawn phenomenon (a bump around 06:30 local) + meal responses (gamma-shaped rise
  peaking ~50 min after eating, with a small late undershoot; a missed bolus makes it bigger)
  - exercise dips + an occasional hypo + slow waves + per-reading sensor noise, plus a rare
  sensor artifact (a 15-minute spike whose edges give rateOutOfRange trends).
Readings are missing during sensor changes and warm-up (2 h on G6, 30 min on G7), during a
random signal-loss gap on some days, and now and then for a single slot. Values below 40 are
reported as 39 (status "low"), above 400 as 401 (status "high").

Late uploads (late_upload): on some days a stretch of readings reaches Dexcom an hour or more
after it was measured. Each reading has an arrival time (when Dexcom got it): its systemTime,
or the arrival of its late stretch. Dexcom's data delay counts from arrival (a reading is served
once arrival <= visible_until), so nothing is served before it arrived. Trends come from the
series as it finally is, so a reading never changes once served; alerts and calibrations come
from the series the phone had live (without the late stretches).

Modules, by concern (each imports only those above it; import the names from this package):
  seeds           stable_int, rng_for, unit_hash: the same numbers in every process
  slots           the epoch, 5-minute slots, where the history starts
  zones           the user's wall clock: UTC offsets, local instants and dates, night hours
  days            DayPlan: one local day's meals, insulin, exercise, hypo, gaps and entries
  glucose         the sensor's glucose trace from the day plans
  sessions        sensor sessions, warm-ups and transmitters (the devices over time)
  late            late uploads: when each reading reached Dexcom
  egvs            EgvSeries: the readings served, their arrival and trend arrows
  alert_settings  each alert setting in each settings version (the settings history)
  alerts          alarms, snoozes and ends from the live series
  events          calibrations and user events with their later edits
"""

from apps.sandbox.generator.alert_settings import (
    GLUCOSE_ALERTS,
    NIGHT_CYCLE_VISITS,
    NIGHT_OFF_VISITS,
    RATE_ALERTS,
    AlertSetting,
    alert_names,
    alert_setting,
    has_night_schedule,
    settings_per_reading,
    settings_period,
    settings_version,
)
from apps.sandbox.generator.alerts import AlertEvent, gap_alerts, glucose_alerts
from apps.sandbox.generator.days import (
    EXERCISE_DROP,
    HEALTH_SUBTYPES,
    NOTES,
    DayPlan,
    Meal,
    day_plan,
    day_plans,
)
from apps.sandbox.generator.egvs import TREND_NAMES, EgvSeries, Trace, egv_series, trend_arrows
from apps.sandbox.generator.events import MGDL_PER_MMOLL, PlannedEvent, calibrations, planned_events
from apps.sandbox.generator.glucose import glucose_mgdl, reported_values
from apps.sandbox.generator.late import (
    BACKFILL_MINUTES,
    LATE_REACH_SECONDS,
    RECEIVER_DOCK_HOUR_UTC,
    LateUpload,
    arrival_times,
    late_upload,
    late_uploads,
)
from apps.sandbox.generator.seeds import rng_for, stable_int, unit_hash
from apps.sandbox.generator.sessions import (
    session_index,
    session_length,
    session_start,
    transmitter_id,
    transmitter_index,
    transmitter_start,
    warmup_end,
)
from apps.sandbox.generator.slots import (
    DAY_SECONDS,
    EPOCH,
    HISTORY_MIN_DAYS,
    HISTORY_STEP_DAYS,
    LOOKBACK_SECONDS,
    SLOT_SECONDS,
    history_start,
    origin,
    slot_times,
)
from apps.sandbox.generator.zones import (
    NIGHT_END_MINUTE,
    NIGHT_START_MINUTE,
    is_night,
    local_date,
    local_instant,
    zone_offsets,
)

__all__ = [
    "rng_for",
    "stable_int",
    "unit_hash",
    "DAY_SECONDS",
    "EPOCH",
    "HISTORY_MIN_DAYS",
    "HISTORY_STEP_DAYS",
    "LOOKBACK_SECONDS",
    "SLOT_SECONDS",
    "history_start",
    "origin",
    "slot_times",
    "NIGHT_END_MINUTE",
    "NIGHT_START_MINUTE",
    "is_night",
    "local_date",
    "local_instant",
    "zone_offsets",
    "DayPlan",
    "EXERCISE_DROP",
    "HEALTH_SUBTYPES",
    "Meal",
    "NOTES",
    "day_plan",
    "day_plans",
    "glucose_mgdl",
    "reported_values",
    "session_index",
    "session_length",
    "session_start",
    "transmitter_id",
    "transmitter_index",
    "transmitter_start",
    "warmup_end",
    "BACKFILL_MINUTES",
    "LATE_REACH_SECONDS",
    "LateUpload",
    "RECEIVER_DOCK_HOUR_UTC",
    "arrival_times",
    "late_upload",
    "late_uploads",
    "EgvSeries",
    "TREND_NAMES",
    "Trace",
    "egv_series",
    "trend_arrows",
    "AlertSetting",
    "GLUCOSE_ALERTS",
    "NIGHT_CYCLE_VISITS",
    "NIGHT_OFF_VISITS",
    "RATE_ALERTS",
    "alert_names",
    "alert_setting",
    "has_night_schedule",
    "settings_per_reading",
    "settings_period",
    "settings_version",
    "AlertEvent",
    "gap_alerts",
    "glucose_alerts",
    "MGDL_PER_MMOLL",
    "PlannedEvent",
    "calibrations",
    "planned_events",
]
