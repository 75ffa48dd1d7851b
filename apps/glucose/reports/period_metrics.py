"""Metrics reports of one patient and period, the one place the pages, the PDF, the API and
`manage.py glucose_metrics` get their numbers from (all through apps.glucose.metrics)."""

from datetime import timedelta

from apps.glucose import localtime, metrics, selectors, targets
from apps.glucose.reports.patient import unit_for
from apps.glucose.units import MGDL_PER_MMOLL


def summary_metrics(*, patient, period: localtime.Period, unit: str, rows=None) -> dict:
    """Metrics of a period from the DailySummary rows (the overview, and what triage sums)."""
    if rows is None:
        rows = selectors.daily_summaries(
            patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
        )
    rows = [row for row in rows if period.contains(row.day)]
    return metrics.metrics_from_daily_summaries(rows, period=period, unit=unit)


def target_measures_of_rows(
    *, patient, period: localtime.Period, unit: str, target_set: targets.TargetSet, rows, cv_percent
) -> dict:
    """The target set's measures (metrics.target_measures) of a period from its DailySummary
    rows; a custom range, which has no stored counts, from the period's readings."""
    sums = metrics.sum_daily_summaries(row for row in rows if period.contains(row.day))
    counts = metrics.range_counts_of_sums(sums, target_set=target_set, unit=unit)
    if counts is None:
        series = selectors.egv_series_for_local_days(
            patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
        )
        counts = metrics.range_counts_of_values(series.value, target_set=target_set, unit=unit)
    return metrics.target_measures(sums, counts, unit=unit, cv_percent=cv_percent)


def target_measures_of_series(
    series: selectors.EgvSeries, *, unit: str, target_set: targets.TargetSet, cv_percent
) -> dict:
    """The same from a period's readings (the AGP, Compare)."""
    sums = metrics.value_sums(series.value)
    counts = metrics.range_counts_of_sums(sums, target_set=target_set, unit=unit)
    if counts is None:
        counts = metrics.range_counts_of_values(series.value, target_set=target_set, unit=unit)
    return metrics.target_measures(sums, counts, unit=unit, cv_percent=cv_percent)


def best_and_worst_days(*, patient, period: localtime.Period, unit: str, rows=None):
    """The period's best and worst day by metrics.best_and_worst_days (rule documented there)."""
    if rows is None:
        rows = selectors.daily_summaries(
            patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
        )
    rows = [row for row in rows if period.contains(row.day)]
    return metrics.best_and_worst_days(rows, unit=unit, local_now=period.local_now, tzinfo=period.tzinfo)


def reading_metrics(*, series: selectors.EgvSeries, period: localtime.Period, unit: str) -> dict:
    """Metrics of a period from its raw readings (the AGP page and PDF, the API)."""
    return metrics.compute_metrics(
        series.value,
        period=period,
        unit=unit,
        days_with_data=len(set(series.local_day.tolist())),
    )


def period_metrics_report(*, patient, period: localtime.Period, unit: str | None = None) -> dict:
    """Metrics of the patient's readings in the period's local days, plus AGP percentiles.

    Expected readings count only time already past (`period.local_now`), so today is not
    penalised; `days` is the number of local days.
    """
    unit = unit or unit_for(patient)
    series = selectors.egv_series_for_local_days(
        patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
    )
    result = reading_metrics(series=series, period=period, unit=unit)
    target_set = selectors.patient_target_set(patient_id=patient.pk)
    measures = target_measures_of_series(
        series, unit=unit, target_set=target_set, cv_percent=result["cv_percent"]
    )
    return {
        "patient_id": patient.pk,
        "start": period.first_day.isoformat(),
        "end": (period.end_day - timedelta(days=1)).isoformat(),
        "period": period.label,
        **metrics.rounded_metrics(result),
        "conventions": {
            "low_reading_counts_as_mgdl": metrics.LOW_LIMIT_MGDL,
            "high_reading_counts_as_mgdl": metrics.HIGH_LIMIT_MGDL,
            "sd": "sample (n-1), as iglu",
            "day": "the patient's local day (system time + Dexcom display offset)",
            "mgdl_per_mmoll": MGDL_PER_MMOLL,
            "bands": f"counted as the patient reads the number, in {unit}",
            "wear_percent": "Time CGM active (the AGP v4 name): readings / (real minutes of the period "
            "already past / 5)",
        },
        "agp": metrics.agp_percentiles(series.local_epoch_s, series.value),
        "targets": targets_summary(target_set, measures, unit=unit),
    }


def targets_summary(target_set: targets.TargetSet, measures: dict, *, unit: str) -> dict:
    """The patient's target set and how the period did against it (the metrics above stay the
    consensus ones): the range as written in `unit`, the percent below / in / above it, and each
    goal with whether it was met."""
    low, high = target_set.range_in(unit)
    return {
        "set": target_set.key,
        "name": target_set.name,
        "range": {"low": float(low), "high": float(high), "unit": unit},
        **{
            f"{measure}_percent": None if measures[measure] is None else round(measures[measure], 2)
            for measure in (targets.BELOW, targets.IN_RANGE, targets.ABOVE)
        },
        "goals": [
            {
                "measure": goal.measure,
                "comparison": goal.comparison,
                "percent": goal.percent,
                "met": goal.met(measures[goal.measure]),
            }
            for goal in target_set.goals
        ],
    }
