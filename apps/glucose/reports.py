"""The metrics report of one period: what the JSON API and `manage.py glucose_metrics` print."""

from datetime import datetime, timedelta

from apps.glucose import localtime, metrics, selectors
from apps.glucose.units import MGDL_PER_MMOLL


def local_now_for(patient, *, now: datetime) -> datetime:
    latest = selectors.latest_egv(patient_id=patient.pk)
    return localtime.local_now(
        patient, now=now, latest_delta_seconds=latest.display_delta_seconds if latest else None
    )


def period_metrics_report(*, patient, first_day, end_day, local_now_at: datetime | None) -> dict:
    """Metrics of the patient's readings in local days [first_day, end_day), plus AGP percentiles.

    Expected readings count only time already past (`local_now_at`), so today is not penalised.
    """
    series = selectors.egv_series_for_local_days(
        patient_id=patient.pk, first_day=first_day, end_day=end_day
    )
    minutes = localtime.period_minutes(
        first_day=first_day, end_day=end_day, local_now_at=local_now_at, tzinfo=patient.tzinfo
    )
    start = datetime.combine(first_day, datetime.min.time())
    days_with_data = int(len(set(series.local_day.tolist())))
    result = metrics.compute_metrics(
        series.value, period_start=start, period_end=start + timedelta(minutes=minutes),
        days_with_data=days_with_data,
    )
    return {
        "patient_id": patient.pk,
        "start": first_day.isoformat(),
        "end": (end_day - timedelta(days=1)).isoformat(),
        **metrics.rounded_metrics(result),
        "conventions": {
            "low_reading_counts_as_mgdl": metrics.LOW_LIMIT_MGDL,
            "high_reading_counts_as_mgdl": metrics.HIGH_LIMIT_MGDL,
            "sd": "sample (n-1), as iglu",
            "day": "the patient's local day (system time + Dexcom display offset)",
            "mgdl_per_mmoll": MGDL_PER_MMOLL,
        },
        "agp": metrics.agp_percentiles(series.local_epoch_s, series.value),
    }
