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
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from apps.sandbox.profiles import SandboxProfile

EPOCH = 1577836800  # 2020-01-01T00:00:00Z: sessions, settings versions and slots count from here
SLOT_SECONDS = 300
DAY_SECONDS = 86400
# The history reaches back 120..210 days: its start moves in 90-day steps so that a window's
# records never change while the process runs, and there is always more than 90 days of data.
HISTORY_MIN_DAYS = 120
HISTORY_STEP_DAYS = 90
LOOKBACK_SECONDS = DAY_SECONDS  # readings before a window, for trends and alert edges
NIGHT_START_MINUTE = 22 * 60
NIGHT_END_MINUTE = 7 * 60
MGDL_PER_MMOLL = 18.018


# --- Determinism ------------------------------------------------------------------------------


def stable_int(*parts) -> int:
    """A 64-bit seed from any parts; unlike hash() it is the same in every process."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(*parts) -> np.random.Generator:
    return np.random.default_rng(stable_int(*parts))


def unit_hash(seed: int, values: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) number per value (splitmix64), vectorized: per-reading noise and drops."""
    x = np.asarray(values).astype(np.uint64) + np.uint64(seed % 2**64)
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def origin(profile: SandboxProfile) -> int:
    """Each user's readings sit at their own second within the 5-minute slot, as real ones do."""
    return EPOCH + stable_int(profile.key, "phase") % SLOT_SECONDS


def history_start(now: int) -> int:
    step = HISTORY_STEP_DAYS * DAY_SECONDS
    return EPOCH + ((now - HISTORY_MIN_DAYS * DAY_SECONDS - EPOCH) // step) * step


# --- Time zones ---------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _hour_offset(zone_name: str, hour_index: int) -> int:
    moment = datetime.fromtimestamp(hour_index * 3600, ZoneInfo(zone_name))
    return int(moment.utcoffset().total_seconds())


def zone_offsets(zone_name: str, times: np.ndarray) -> np.ndarray:
    """UTC offset in seconds at each instant (our zones change offset on whole hours)."""
    times = np.asarray(times, dtype=np.int64)
    if times.size == 0:
        return np.zeros(0, dtype=np.int64)
    hours, inverse = np.unique(times // 3600, return_inverse=True)
    table = np.array([_hour_offset(zone_name, int(hour)) for hour in hours], dtype=np.int64)
    return table[inverse]


def local_instant(profile: SandboxProfile, day: date, minute_of_day: float) -> int:
    minute = int(min(max(minute_of_day, 0), 24 * 60 - 1))
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ZoneInfo(profile.timezone))
    return int(wall.timestamp())


def local_date(profile: SandboxProfile, instant: int) -> date:
    return datetime.fromtimestamp(instant, ZoneInfo(profile.timezone)).date()


# --- Day plans --------------------------------------------------------------------------------


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


@lru_cache(maxsize=8192)
def day_plan(profile: SandboxProfile, day: date) -> DayPlan:
    rng = rng_for(profile.key, "day", day.isoformat())
    control = profile.control
    at = lambda minute: local_instant(profile, day, minute)  # noqa: E731

    baseline = 100 + 45 * control + rng.normal(0, 6 + 10 * control)
    meals = []
    for mean_minute, spread, carbs_low, carbs_high, chance in (
        (7 * 60, 40, 25, 60, 0.92),
        (12 * 60 + 30, 50, 35, 80, 0.9),
        (15 * 60 + 30, 80, 10, 30, 0.45),
        (19 * 60, 50, 45, 100, 0.95),
    ):
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
    exercise = None
    if rng.random() < 0.35:
        intensity = str(rng.choice(["light", "medium", "heavy"]))
        minutes = int(rng.choice([20, 30, 45, 60]))
        drop = EXERCISE_DROP[intensity] * np.sqrt(minutes / 30) * rng.uniform(0.7, 1.3)
        start_minute = rng.choice([7 * 60 + 30, 17 * 60 + 30]) + rng.normal(0, 45)
        exercise = (at(start_minute), minutes, intensity, float(drop))
    hypo = None
    if rng.random() < profile.hypo_rate:
        # Lows cluster at night (after evening insulin) and in the afternoon.
        minute = rng.uniform(2 * 60, 5 * 60) if rng.random() < 0.45 else rng.uniform(13 * 60, 18 * 60)
        target = rng.uniform(25, 60) if control > 0.8 else rng.uniform(45, 66)
        hypo = (at(minute), float(max(baseline - target, 20)))
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
        meals=tuple(meals),
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


def day_plans(profile: SandboxProfile, start: int, end: int) -> list[DayPlan]:
    """Plans of every local day that can influence [start, end).

    One day either side: yesterday's dinner acts after midnight, tomorrow's baseline shapes this
    evening's (baselines are interpolated noon to noon), an early hypo starts before midnight.
    """
    first = local_date(profile, start) - timedelta(days=1)
    last = local_date(profile, end) + timedelta(days=1)
    return [day_plan(profile, first + timedelta(days=n)) for n in range((last - first).days + 1)]


# --- Glucose ------------------------------------------------------------------------------------


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


# --- Sessions and transmitters ----------------------------------------------------------------


def session_length(profile: SandboxProfile) -> int:
    return profile.session_days * DAY_SECONDS


def session_index(profile: SandboxProfile, times: np.ndarray) -> np.ndarray:
    return (np.asarray(times, dtype=np.int64) - origin(profile)) // session_length(profile)


def session_start(profile: SandboxProfile, index: int) -> int:
    return origin(profile) + int(index) * session_length(profile)


def warmup_end(profile: SandboxProfile, index: int) -> int:
    """Sensor change (5-45 min, varies) plus warm-up: no readings before this."""
    changeover = SLOT_SECONDS * (1 + stable_int(profile.key, "changeover", int(index)) % 9)
    return session_start(profile, index) + changeover + profile.warmup_minutes * 60


def transmitter_index(profile: SandboxProfile, session: np.ndarray) -> np.ndarray:
    """A G6 transmitter serves nine 10-day sensors (90 days); a G7 sensor is its own transmitter."""
    per_transmitter = 9 if profile.generation == "g6" else 1
    return np.asarray(session) // per_transmitter


def transmitter_id(profile: SandboxProfile, index: int) -> str:
    if profile.quirks:
        return ""  # Dexcom sends "" for some new users (Tidepool accepts it, dexcom.go)
    return hashlib.sha256(f"{profile.key}/transmitter/{int(index)}".encode()).hexdigest()


def transmitter_start(profile: SandboxProfile, index: int) -> int:
    per_transmitter = 9 if profile.generation == "g6" else 1
    return session_start(profile, int(index) * per_transmitter)


# --- The EGV series -------------------------------------------------------------------------------


@dataclass
class Trace:
    """Recorded readings loaded from a CSV: they replace synthetic readings inside their spans."""

    times: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class EgvSeries:
    times: np.ndarray
    values: np.ndarray
    recorded: np.ndarray  # True where the reading came from a loaded trace
    trend_rates: np.ndarray  # mg/dL/min, NaN when not computed
    trends: np.ndarray  # str
    arrivals: np.ndarray  # when Dexcom received each reading (epoch s)
    from_receiver: np.ndarray  # True where a receiver uploaded the reading (late_upload)

    def __len__(self):
        return int(self.times.size)

    def _select(self, index) -> "EgvSeries":
        return EgvSeries(
            self.times[index],
            self.values[index],
            self.recorded[index],
            self.trend_rates[index],
            self.trends[index],
            self.arrivals[index],
            self.from_receiver[index],
        )

    def between(self, start: int, end: int) -> "EgvSeries":
        low, high = np.searchsorted(self.times, [start, end])
        return self._select(slice(low, high))

    def arrived_by(self, until: int) -> "EgvSeries":
        return self._select(self.arrivals <= until)


# --- Late uploads ---------------------------------------------------------------------------------

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


def _arrivals(profile: SandboxProfile, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def slot_times(profile: SandboxProfile, start: int, end: int) -> np.ndarray:
    """The 5-minute slot instants of a user in [start, end)."""
    base = origin(profile)
    first = -((base - start) // SLOT_SECONDS)  # ceil((start - base) / slot)
    last = -((base - end) // SLOT_SECONDS)
    return base + np.arange(first, last, dtype=np.int64) * SLOT_SECONDS


def _missing_mask(profile: SandboxProfile, times: np.ndarray, plans: list[DayPlan]) -> np.ndarray:
    missing = np.zeros(times.size, dtype=bool)
    sessions = session_index(profile, times)
    for session in np.unique(sessions):
        start, end = session_start(profile, session), warmup_end(profile, session)
        missing |= (times >= start) & (times < end)
    for plan in plans:
        if plan.signal_loss:
            start, minutes = plan.signal_loss
            missing |= (times >= start) & (times < start + minutes * 60)
    missing |= unit_hash(stable_int(profile.key, "drop"), times) < 0.004
    return missing


def egv_series(
    profile: SandboxProfile,
    start: int,
    end: int,
    *,
    first_allowed: int,
    visible_until: int,
    trace: Trace | None = None,
    live: bool = False,
) -> EgvSeries:
    """Every reading in [start, end) with first_allowed <= systemTime that arrived by visible_until.

    Trends are computed from a day of readings before `start`, so a reading's trend does not
    depend on the window it is asked for in. live=True: the series the phone had as it went,
    without the stretches that were uploaded late (what alerts and calibrations come from).
    """
    trace = trace or Trace()
    compute_from = start - LOOKBACK_SECONDS
    times = slot_times(profile, compute_from, min(end, visible_until + 1))
    plans = day_plans(profile, compute_from, max(end, compute_from + 1))
    keep = ~_missing_mask(profile, times, plans) & (times >= first_allowed)
    for span_start, span_end in trace.spans:
        keep &= ~((times >= span_start) & (times <= span_end))
    times = times[keep]
    arrivals, from_receiver = _arrivals(profile, times)
    if live:
        on_time = arrivals == times
        times, arrivals, from_receiver = times[on_time], arrivals[on_time], from_receiver[on_time]
    values = reported_values(glucose_mgdl(profile, times, plans))
    recorded = np.zeros(times.size, dtype=bool)
    if trace.times.size:
        in_range = (trace.times >= compute_from) & (trace.times < end) & (trace.times <= visible_until)
        added = int(in_range.sum())
        times = np.concatenate([times, trace.times[in_range]])
        values = np.concatenate([values, trace.values[in_range]])
        recorded = np.concatenate([recorded, np.ones(added, dtype=bool)])
        arrivals = np.concatenate([arrivals, trace.times[in_range]])
        from_receiver = np.concatenate([from_receiver, np.zeros(added, dtype=bool)])
        order = np.argsort(times, kind="stable")
        times, values, recorded = times[order], values[order], recorded[order]
        arrivals, from_receiver = arrivals[order], from_receiver[order]
    rates, trends = trend_arrows(profile, times, values)
    series = EgvSeries(times, values, recorded, rates, trends, arrivals, from_receiver)
    return series.arrived_by(visible_until).between(start, end)


TREND_NAMES = np.array(
    [
        "rateOutOfRange",
        "doubleUp",
        "singleUp",
        "fortyFiveUp",
        "flat",
        "fortyFiveDown",
        "singleDown",
        "doubleDown",
        "rateOutOfRange",
    ]
)


def trend_arrows(profile: SandboxProfile, times: np.ndarray, values: np.ndarray):
    """trendRate (mg/dL/min, one decimal) and trend per reading, by Dexcom's documented mapping.

    The rate is the change since the previous reading. Right after a gap the algorithm has no
    arrow: the first reading gets "none", the second "notComputable" (both without a rate).
    Readings at LOW/HIGH get "none" as well. The quirk user shows an occasional "unknown".
    """
    count = times.size
    rates = np.full(count, np.nan)
    trends = np.full(count, "none", dtype=object)
    if count < 2:
        return rates, trends
    gaps = np.diff(times)
    has_previous = np.concatenate([[False], gaps <= 2 * SLOT_SECONDS])
    had_two = np.concatenate([[False], has_previous[:-1]]) & has_previous
    step_rates = np.concatenate([[np.nan], np.diff(values) / np.maximum(gaps, 1) * 60.0])
    rates = np.where(had_two, np.round(step_rates, 1), np.nan)
    # Thresholds from dexcom-facts.md: doubleUp +3<=r<=+8, singleUp +2<=r<+3, fortyFiveUp
    # +1<=r<+2, flat -1<r<+1, fortyFiveDown -2<r<=-1, singleDown -3<r<=-2, doubleDown -8<r<=-3.
    bucket = np.select(
        [rates > 8, rates >= 3, rates >= 2, rates >= 1, rates > -1, rates > -2, rates > -3, rates > -8],
        [0, 1, 2, 3, 4, 5, 6, 7],
        default=8,
    )
    trends = np.where(had_two, TREND_NAMES[bucket], np.where(has_previous, "notComputable", "none"))
    out_of_range = (values == 39) | (values == 401)
    trends = np.where(out_of_range & had_two, "none", trends)
    rates = np.where(out_of_range, np.nan, rates)
    if profile.quirks:
        unknown = unit_hash(stable_int(profile.key, "unknown-trend"), times) < 0.003
        trends = np.where(unknown, "unknown", trends)
        rates = np.where(unknown, np.nan, rates)
    return rates, trends.astype(object)


# --- Alert settings -----------------------------------------------------------------------------

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


def is_night(local_minutes: np.ndarray) -> np.ndarray:
    return (local_minutes >= NIGHT_START_MINUTE) | (local_minutes < NIGHT_END_MINUTE)


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


# --- Alerts ---------------------------------------------------------------------------------------


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


# --- Calibrations and events --------------------------------------------------------------------


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
    """Every event type: carbs, insulin (fast/long), exercise, health, bloodGlucose and notes."""
    found = []
    for plan in plans:
        day = plan.day.isoformat()
        for number, meal in enumerate(plan.meals):
            if meal.carbs_logged:
                found.append(
                    _event(
                        profile,
                        f"{day}/carbs/{number}",
                        meal.time,
                        "carbs",
                        None,
                        str(meal.carbs),
                        "grams",
                        meal.carbs + 10,
                    )
                )
            if meal.bolus_logged and meal.bolus_units:
                found.append(
                    _event(
                        profile,
                        f"{day}/bolus/{number}",
                        meal.time - 600,
                        "insulin",
                        "fastActing",
                        _number(meal.bolus_units),
                        "units",
                        meal.bolus_units + 1,
                    )
                )
        if plan.long_acting:
            at, units = plan.long_acting
            found.append(
                _event(profile, f"{day}/basal", at, "insulin", "longActing", str(units), "units", units + 2)
            )
        if plan.exercise:
            at, minutes, intensity, _ = plan.exercise
            # Real data has exercise without a duration as "-1" (Tidepool event.go).
            shown = "-1" if profile.quirks else str(minutes)
            found.append(
                _event(profile, f"{day}/exercise", at, "exercise", intensity, shown, "minutes", minutes + 15)
            )
        if plan.health:
            at, subtype = plan.health
            value = "1" if profile.quirks else None  # some real health events carry a value
            found.append(_event(profile, f"{day}/health", at, "health", subtype, value, None, None))
        if plan.bg_check_time:
            at = plan.bg_check_time
            mgdl = float(glucose_at(at))
            mgdl = min(max(mgdl * (1 + (stable_int(profile.key, "bg", at) % 11 - 5) / 100), 30), 450)
            if profile.glucose_unit == "mmol/L":
                value, new, unit = (
                    f"{mgdl / MGDL_PER_MMOLL:.1f}",
                    f"{mgdl / MGDL_PER_MMOLL + 0.3:.1f}",
                    "mmol/L",
                )
            else:
                value, new, unit = str(int(round(mgdl))), str(int(round(mgdl)) + 5), "mg/dL"
            found.append(_event(profile, f"{day}/bg", at, "bloodGlucose", None, value, unit, new))
        if plan.note:
            at, text = plan.note
            event_type = "note" if profile.quirks else "notes"  # "note" is seen in real data
            found.append(_event(profile, f"{day}/note", at, event_type, None, text, None, text + " (edited)"))
    return found


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
