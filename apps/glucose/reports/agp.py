"""The AGP report (the page and the PDF draw the same one): consensus metrics of the period's
readings, the modal day's percentiles and the daily profiles of its last 14 days."""

from dataclasses import dataclass
from datetime import date

import numpy as np

from apps.glucose import localtime, metrics, selectors, targets
from apps.glucose.reports.period_metrics import reading_metrics, target_measures_of_series

# The AGP v4 report shows 14 daily profiles: the last 14 days of a longer period.
DAILY_PROFILE_DAYS = 14


@dataclass(frozen=True)
class DailyProfile:
    """One local day's readings, midnight to midnight of its own wall clock."""

    day: date
    minutes: np.ndarray  # local minute of the day of each reading (int32)
    values: np.ndarray  # mg/dL


@dataclass(frozen=True)
class AgpReport:
    period: localtime.Period
    unit: str
    series: selectors.EgvSeries
    metrics: dict  # apps.glucose.metrics.compute_metrics of the readings
    percentiles: dict  # apps.glucose.metrics.agp_percentiles: the modal day
    profiles: list[DailyProfile]
    target_set: targets.TargetSet = targets.STANDARD_SET
    target_measures: dict | None = None  # metrics.target_measures of the readings

    @property
    def days(self) -> int:
        return self.period.days


def daily_profile_day_numbers(first_day: date, days: int) -> range:
    """The local days the daily profiles show: the last 14 of the period (all if shorter)."""
    first = localtime.day_number(first_day)
    return range(max(first, first + days - DAILY_PROFILE_DAYS), first + days)


def daily_profiles(series: selectors.EgvSeries, period: localtime.Period) -> list[DailyProfile]:
    local = series.local_epoch_s
    day_numbers = localtime.local_day_numbers(local)
    profiles = []
    for number in daily_profile_day_numbers(period.first_day, period.days):
        mask = day_numbers == number
        profiles.append(
            DailyProfile(
                day=localtime.date_of_day_number(number),
                minutes=(local[mask] % localtime.SECONDS_PER_DAY // 60).astype(np.int32),
                values=series.value[mask],
            )
        )
    return profiles


def agp_report(
    *, patient, period: localtime.Period, unit: str, target_set: targets.TargetSet = targets.STANDARD_SET
) -> AgpReport:
    """One read: the readings of the period's local days."""
    series = selectors.egv_series_for_local_days(
        patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
    )
    period_metrics = reading_metrics(series=series, period=period, unit=unit)
    return AgpReport(
        period=period,
        unit=unit,
        series=series,
        metrics=period_metrics,
        percentiles=metrics.agp_percentiles(series.local_epoch_s, series.value),
        profiles=daily_profiles(series, period),
        target_set=target_set,
        target_measures=target_measures_of_series(
            series, unit=unit, target_set=target_set, cv_percent=period_metrics["cv_percent"]
        ),
    )
