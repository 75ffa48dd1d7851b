"""The overview's report: a period's consensus metrics against the one before, its best and
worst day (all from DailySummary) and the readings of the 24 h before the newest one."""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from apps.glucose import localtime, selectors, targets
from apps.glucose.metrics import RankedDay
from apps.glucose.models import Egv
from apps.glucose.reports.period_metrics import best_and_worst_days, summary_metrics, target_measures_of_rows

MINI_TRACE = timedelta(hours=24)


@dataclass(frozen=True)
class OverviewReport:
    period: localtime.Period
    previous: localtime.Period
    metrics: dict  # apps.glucose.metrics of the period
    previous_metrics: dict  # ... and of the same number of days before it
    best_day: RankedDay | None
    worst_day: RankedDay | None
    last_day: selectors.EgvSeries  # the mini trace: 24 h up to the newest reading
    target_set: targets.TargetSet = targets.STANDARD_SET
    target_measures: dict | None = None  # metrics.target_measures of the period

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_metrics["readings"])


def last_day_of_readings(*, patient, latest: Egv | None) -> selectors.EgvSeries:
    """The readings of the 24 h before the newest one (the overview's mini trace)."""
    if latest is None:
        empty = np.array([], dtype=np.int64)
        return selectors.EgvSeries(empty, empty, empty)
    return selectors.egv_series(
        patient_id=patient.pk,
        start=latest.system_time - MINI_TRACE,
        end=latest.system_time + timedelta(seconds=1),
    )


def overview_report(
    *,
    patient,
    period: localtime.Period,
    unit: str,
    latest: Egv | None,
    target_set: targets.TargetSet = targets.STANDARD_SET,
) -> OverviewReport:
    """Two reads: the DailySummary rows of both periods, the readings of the mini trace (and
    the period's readings for a custom target range)."""
    previous = period.previous()
    rows = selectors.daily_summaries(
        patient_id=patient.pk, first_day=previous.first_day, end_day=period.end_day
    )
    best, worst = best_and_worst_days(patient=patient, period=period, unit=unit, rows=rows)
    period_metrics = summary_metrics(patient=patient, period=period, unit=unit, rows=rows)
    return OverviewReport(
        period=period,
        previous=previous,
        metrics=period_metrics,
        previous_metrics=summary_metrics(patient=patient, period=previous, unit=unit, rows=rows),
        best_day=best,
        worst_day=worst,
        last_day=last_day_of_readings(patient=patient, latest=latest),
        target_set=target_set,
        target_measures=target_measures_of_rows(
            patient=patient,
            period=period,
            unit=unit,
            target_set=target_set,
            rows=rows,
            cv_percent=period_metrics["cv_percent"],
        ),
    )
