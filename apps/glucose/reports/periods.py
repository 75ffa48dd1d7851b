"""The Clarity-style period reports: Patterns, Statistics (hourly), Daily (overlay and per-day
table) and Compare (any two periods). One builder per page, each returning a typed report;
numbers come from apps.glucose.metrics, episodes from apps.glucose.episodes, alarms from
apps.glucose.alarm_report, local days from apps.glucose.localtime."""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from apps.glucose import alarm_report, episodes, localtime, metrics, selectors, targets
from apps.glucose.alarms import Alarm
from apps.glucose.reports.period_metrics import reading_metrics, target_measures_of_series

# What the Patterns page shows around an episode: the events logged in the 3 hours before it
# (a meal, a bolus, exercise) and the alarms from 30 minutes before it to its end.
EVENTS_BEFORE = timedelta(hours=3)
ALARMS_BEFORE = timedelta(minutes=30)
CONTEXT_EVENT_TYPES = ("carbs", "insulin", "exercise", "health")


@dataclass(frozen=True)
class EventNote:
    epoch: int
    delta: int
    event_type: str
    sub_type: str
    value: str
    unit: str

    @property
    def local_start(self):
        return localtime.wall_clock_of_local_epoch(self.epoch + self.delta)


@dataclass(frozen=True)
class EpisodeRow:
    episode: episodes.Episode
    events: tuple[EventNote, ...]
    alarms: tuple[Alarm, ...]

    @property
    def local_start(self):
        return localtime.wall_clock_of_local_epoch(self.episode.local_start_epoch)


@dataclass(frozen=True)
class PatternsReport:
    period: localtime.Period
    unit: str
    days_with_data: int
    low_patterns: tuple[episodes.Pattern, ...]
    high_patterns: tuple[episodes.Pattern, ...]
    lows: tuple[EpisodeRow, ...]
    highs: tuple[EpisodeRow, ...]


def _period_series(patient, period: localtime.Period) -> selectors.EgvSeries:
    return selectors.egv_series_for_local_days(
        patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
    )


def _event_notes(patient, period: localtime.Period) -> list[EventNote]:
    rows = selectors.marker_rows(
        selectors.events_in(patient_id=patient.pk, period=period, types=CONTEXT_EVENT_TYPES),
        "event_type",
        "event_sub_type",
        "value",
        "unit",
    )
    return [
        EventNote(epoch, delta, kind, sub or "", value or "", unit or "")
        for epoch, delta, kind, sub, value, unit in rows
    ]


def _episode_rows(found, notes: list[EventNote], alarms: list[Alarm]) -> tuple[EpisodeRow, ...]:
    events_before, alarms_before = EVENTS_BEFORE.total_seconds(), ALARMS_BEFORE.total_seconds()
    rows = []
    for episode in found:
        near_events = tuple(
            n for n in notes if episode.start_epoch - events_before <= n.epoch <= episode.end_epoch
        )
        near_alarms = tuple(
            a for a in alarms if episode.start_epoch - alarms_before <= a.start_epoch <= episode.end_epoch
        )
        rows.append(EpisodeRow(episode, near_events, near_alarms))
    return tuple(rows)


def patterns_report(*, patient, period: localtime.Period, unit: str) -> PatternsReport:
    """Low and high episodes of the period, the recurring patterns they form (rule in
    apps.glucose.episodes), each episode with the events and alarms around it."""
    series = _period_series(patient, period)
    days_with_data = len(set(series.local_day.tolist()))
    lows = episodes.detect_episodes(series, unit=unit, kind=episodes.LOW)
    highs = episodes.detect_episodes(series, unit=unit, kind=episodes.HIGH)
    notes = _event_notes(patient, period)
    alarms = alarm_report.alarms_in_period(patient_id=patient.pk, period=period)
    return PatternsReport(
        period=period,
        unit=unit,
        days_with_data=days_with_data,
        low_patterns=tuple(episodes.recurring_patterns(lows, days_with_data=days_with_data)),
        high_patterns=tuple(episodes.recurring_patterns(highs, days_with_data=days_with_data)),
        lows=_episode_rows(lows, notes, alarms),
        highs=_episode_rows(highs, notes, alarms),
    )


@dataclass(frozen=True)
class StatisticsReport:
    period: localtime.Period
    unit: str
    metrics: dict
    hours: tuple[dict, ...]


def statistics_report(*, patient, period: localtime.Period, unit: str) -> StatisticsReport:
    """The period's metrics and the hourly table (readings, mean, SD, percentiles, TIR per hour)."""
    series = _period_series(patient, period)
    return StatisticsReport(
        period=period,
        unit=unit,
        metrics=reading_metrics(series=series, period=period, unit=unit),
        hours=tuple(metrics.hourly_statistics(series.local_epoch_s, series.value, unit=unit)),
    )


@dataclass(frozen=True)
class DayRow:
    day: date
    metrics: dict
    carbs_grams: float
    insulin_units: dict  # sub type ("fastActing", "longActing", ...) -> units
    alarms: int


@dataclass(frozen=True)
class DailyReport:
    period: localtime.Period
    unit: str
    rows: tuple[DayRow, ...]  # newest day first
    series: selectors.EgvSeries  # the period's readings, for the overlay


def _event_totals(notes: list[EventNote]) -> tuple[dict, dict]:
    """Per local day number: carbs grams, and insulin units per sub type (unreadable values,
    such as an exercise's "-1", are not numbers and count for nothing)."""
    carbs: dict[int, float] = {}
    insulin: dict[int, dict] = {}
    for note in notes:
        try:
            amount = float(note.value)
        except ValueError:
            continue
        if not np.isfinite(amount) or amount < 0:
            continue
        day = (note.epoch + note.delta) // localtime.SECONDS_PER_DAY
        if note.event_type == "carbs":
            carbs[day] = carbs.get(day, 0.0) + amount
        elif note.event_type == "insulin":
            by_type = insulin.setdefault(day, {})
            kind = note.sub_type or "unspecified"
            by_type[kind] = by_type.get(kind, 0.0) + amount
    return carbs, insulin


def daily_report(*, patient, period: localtime.Period, unit: str) -> DailyReport:
    """Every local day of the period: its metrics (from its DailySummary row, as the overview),
    carbs, insulin by type and alarms; plus the readings for the overlay by time of day."""
    summaries = {
        row.day: row
        for row in selectors.daily_summaries(
            patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
        )
    }
    carbs, insulin = _event_totals(_event_notes(patient, period))
    alarm_days: dict[date, int] = {}
    for alarm in alarm_report.alarms_in_period(patient_id=patient.pk, period=period):
        alarm_days[alarm.local_day] = alarm_days.get(alarm.local_day, 0) + 1
    rows = []
    for offset in range(period.days):
        day = period.last_day - timedelta(days=offset)
        day_period = localtime.Period(
            day, day + timedelta(days=1), local_now=period.local_now, tzinfo=period.tzinfo
        )
        summary = [summaries[day]] if day in summaries else []
        number = localtime.day_number(day)
        rows.append(
            DayRow(
                day=day,
                metrics=metrics.metrics_from_daily_summaries(summary, period=day_period, unit=unit),
                carbs_grams=carbs.get(number, 0.0),
                insulin_units=insulin.get(number, {}),
                alarms=alarm_days.get(day, 0),
            )
        )
    return DailyReport(period=period, unit=unit, rows=tuple(rows), series=_period_series(patient, period))


@dataclass(frozen=True)
class ComparedPeriod:
    period: localtime.Period
    metrics: dict
    agp: dict  # metrics.agp_percentiles of the period
    target_measures: dict  # metrics.target_measures of the period, for the patient's target set


@dataclass(frozen=True)
class CompareReport:
    unit: str
    first: ComparedPeriod
    second: ComparedPeriod
    target_set: targets.TargetSet = targets.STANDARD_SET


def _compared(patient, period: localtime.Period, unit: str, target_set: targets.TargetSet) -> ComparedPeriod:
    series = _period_series(patient, period)
    period_metrics = reading_metrics(series=series, period=period, unit=unit)
    return ComparedPeriod(
        period=period,
        metrics=period_metrics,
        agp=metrics.agp_percentiles(series.local_epoch_s, series.value),
        target_measures=target_measures_of_series(
            series, unit=unit, target_set=target_set, cv_percent=period_metrics["cv_percent"]
        ),
    )


def compare_report(
    *,
    patient,
    first: localtime.Period,
    second: localtime.Period,
    unit: str,
    target_set: targets.TargetSet = targets.STANDARD_SET,
) -> CompareReport:
    """Any two periods side by side: the consensus metrics and the AGP percentiles of each,
    and each period's time in the patient's target ranges."""
    return CompareReport(
        unit=unit,
        first=_compared(patient, first, unit, target_set),
        second=_compared(patient, second, unit, target_set),
        target_set=target_set,
    )
