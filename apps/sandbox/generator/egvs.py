"""The EGV series: which slots have a reading, its value, when it arrived, and its trend."""

from dataclasses import dataclass, field

import numpy as np

from apps.sandbox.generator.days import DayPlan, day_plans
from apps.sandbox.generator.glucose import glucose_mgdl, reported_values
from apps.sandbox.generator.late import arrival_times
from apps.sandbox.generator.seeds import stable_int, unit_hash
from apps.sandbox.generator.sessions import session_index, session_start, warmup_end
from apps.sandbox.generator.slots import LOOKBACK_SECONDS, SLOT_SECONDS, slot_times
from apps.sandbox.profiles import SandboxProfile


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
    arrivals, from_receiver = arrival_times(profile, times)
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
