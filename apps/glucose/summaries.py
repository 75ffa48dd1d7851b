"""DailySummary upkeep: sums and band counts per local day, rebuilt after every sync or import."""

from datetime import datetime, timedelta

import numpy as np
from django.db import transaction

from apps.glucose import localtime, metrics, selectors
from apps.glucose.models import DailySummary

SUMMARY_FIELDS = (
    "readings", "value_sum", "value_sq_sum", "below_54", "from_54_to_69", "from_70_to_140",
    "from_70_to_180", "from_181_to_250", "above_250", "last_reading_at", "updated_at",
)


def rebuild_daily_summaries(*, patient_id: int, since: datetime | None) -> int:
    """Recompute the DailySummary rows of every local day that has readings from `since` on.

    The sync calls this after committing EGVs, with `since` = the earliest systemTime it wrote
    (None: everything). One query reads the readings of the touched days (numpy does the sums),
    one upsert writes them and one delete drops days that lost all readings. Returns the number
    of days written.
    """
    start = since - 2 * localtime.UTC_MARGIN if since is not None else None
    series = selectors.egv_series(patient_id=patient_id, start=start)
    if since is not None:
        touched = series.epoch_s >= int(since.timestamp())
        if not touched.any():
            return 0
        first_day = int(series.local_day[touched].min())
        series = series.select(series.local_day >= first_day)
    else:
        first_day = None
    rows = _summary_rows(patient_id, series)
    with transaction.atomic():
        stale = DailySummary.objects.filter(patient_id=patient_id)
        if first_day is not None:
            stale = stale.filter(day__gte=localtime.date_of_day_number(first_day))
        stale.exclude(day__in=[row.day for row in rows]).delete()
        DailySummary.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["patient", "day"],
            update_fields=list(SUMMARY_FIELDS), batch_size=500,
        )
    return len(rows)


def _summary_rows(patient_id: int, series: selectors.EgvSeries) -> list[DailySummary]:
    if not len(series):
        return []
    local_day = series.local_day
    sums = metrics.daily_summary_arrays(local_day, series.value)
    # The newest reading per day (travel west can make local days go back, so no searchsorted).
    _, index = np.unique(local_day, return_inverse=True)
    last_epoch = np.zeros(sums["day"].size, dtype=np.int64)
    np.maximum.at(last_epoch, index, series.epoch_s)
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
                below_54=int(sums["below_54"][i]),
                from_54_to_69=int(sums["from_54_to_69"][i]),
                from_70_to_140=int(sums["from_70_to_140"][i]),
                from_70_to_180=int(sums["from_70_to_180"][i]),
                from_181_to_250=int(sums["from_181_to_250"][i]),
                above_250=int(sums["above_250"][i]),
                last_reading_at=epoch + timedelta(seconds=int(last_epoch[i])),
            )
        )
    return rows
