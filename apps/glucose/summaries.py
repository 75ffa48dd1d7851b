"""DailySummary upkeep: sums and band counts per local day, rebuilt after every sync or import,
and with them the patient's TriageSnapshot rows (apps/glucose/snapshots.py)."""

from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.glucose import localtime, metrics, selectors, snapshots
from apps.glucose.models import DailySummary

SUMMARY_FIELDS = (
    *metrics.SUM_COLUMNS,
    *metrics.COUNT_COLUMNS,
    "last_reading_at",
    "updated_at",
)


def rebuild_daily_summaries(*, patient_id: int, since: datetime | None) -> int:
    """Recompute the DailySummary rows of every local day that has readings from `since` on.

    `since` = None rebuilds everything (the repair path). It reads every reading of exactly the touched local days, and deletes
    and rewrites exactly those days: a reading whose device clock says 2024-01-01 rebuilds
    that one day from all of its readings, and no other day is touched. Returns the number of
    days written. The patient's triage snapshots are rebuilt in the same transaction, so a
    clinician's list never shows figures the summaries no longer hold.
    """
    with transaction.atomic():
        if since is None:
            series = selectors.egv_series(patient_id=patient_id)
            stale = DailySummary.objects.filter(patient_id=patient_id)
        else:
            touched = _touched_local_days(patient_id, since)
            if not touched.size:
                return 0
            series = _series_of_local_days(patient_id, touched)
            stale = DailySummary.objects.filter(
                patient_id=patient_id, day__in=[localtime.date_of_day_number(d) for d in touched]
            )
        rows = _summary_rows(patient_id, series)
        stale.exclude(day__in=[row.day for row in rows]).delete()
        DailySummary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["patient", "day"],
            update_fields=list(SUMMARY_FIELDS),
            batch_size=500,
        )
        snapshots.build_snapshots(patient_ids=[patient_id])
    return len(rows)


def rebuild_local_days(*, patient_id: int, days) -> int:
    """Recompute the DailySummary rows of exactly these local days (day numbers, see
    apps.glucose.localtime.day_number) from every reading of them: the ingest writer calls this
    with the days of the readings it wrote or removed. Returns the number of days written."""
    touched = np.unique(np.asarray(list(days), dtype=np.int64))
    if not touched.size:
        return 0
    with transaction.atomic():
        rows = _summary_rows(patient_id, _series_of_local_days(patient_id, touched))
        DailySummary.objects.filter(
            patient_id=patient_id, day__in=[localtime.date_of_day_number(d) for d in touched]
        ).exclude(day__in=[row.day for row in rows]).delete()
        DailySummary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["patient", "day"],
            update_fields=list(SUMMARY_FIELDS),
            batch_size=500,
        )
    return len(rows)


def _touched_local_days(patient_id: int, since: datetime) -> np.ndarray:
    """The local days of the readings written from `since` on (sorted day numbers)."""
    return np.unique(selectors.egv_series(patient_id=patient_id, start=since).local_day)


def _series_of_local_days(patient_id: int, days: np.ndarray) -> selectors.EgvSeries:
    """Every reading of exactly these local days (sorted day numbers): one query per run of
    consecutive days, so a lone day years away (a receiver with a reset clock) does not read
    everything in between."""
    runs = np.split(days, np.flatnonzero(np.diff(days) > 1) + 1)
    parts = [
        selectors.egv_series_for_local_days(
            patient_id=patient_id,
            first_day=localtime.date_of_day_number(run[0]),
            end_day=localtime.date_of_day_number(run[-1] + 1),
        )
        for run in runs
    ]
    series = selectors.EgvSeries.concatenate(parts)
    return series.select(np.isin(series.local_day, days))


def rebuild_all_daily_summaries(*, patient_id: int) -> tuple[int, int]:
    """The repair path: every day of one patient from scratch. Returns (days before, after)."""
    before = DailySummary.objects.filter(patient_id=patient_id).count()
    return before, rebuild_daily_summaries(patient_id=patient_id, since=None)


def _summary_rows(patient_id: int, series: selectors.EgvSeries) -> list[DailySummary]:
    if not len(series):
        return []
    local_day = series.local_day
    sums = metrics.daily_summary_arrays(local_day, series.value)
    # The newest reading per day (travel west can make local days go back, so no searchsorted),
    # among the real ones: a reading stored ahead of the clock under an old rule is not "last".
    _, index = np.unique(local_day, return_inverse=True)
    real = series.epoch_s <= int(localtime.newest_possible_reading_time(timezone.now()).timestamp())
    last_epoch = np.full(sums["day"].size, -1, dtype=np.int64)
    np.maximum.at(last_epoch, index[real], series.epoch_s[real])
    epoch = datetime(1970, 1, 1, tzinfo=localtime.UTC)
    rows = []
    for i, day in enumerate(sums["day"]):
        rows.append(
            DailySummary(
                patient_id=patient_id,
                day=localtime.date_of_day_number(day),
                readings=int(sums["readings"][i]),
                value_sum=float(sums["value_sum"][i]),
                value_sq_sum=float(sums["value_sq_sum"][i]),
                **{column: int(sums[column][i]) for column in metrics.COUNT_COLUMNS},
                last_reading_at=epoch + timedelta(seconds=int(last_epoch[i])) if last_epoch[i] >= 0 else None,
            )
        )
    return rows
