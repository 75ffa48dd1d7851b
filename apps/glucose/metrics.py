"""Consensus CGM metrics as pure functions (see shared/cgm-metrics.md for the definitions).

Conventions, stated on every page that shows these numbers:
- a LOW reading (below 40 mg/dL, stored as 39) counts as 40 and a HIGH one (above 400, stored
  as 401) as 400, in averages and in the lowest/highest band;
- SD is the *sample* standard deviation (n - 1), as in the R package iglu;
- percentages are of the readings present; gaps are never interpolated;
- sensor wear = readings present / readings expected (one per 5 minutes of the period).
"""

import math
from datetime import date, datetime

import numpy as np

from apps.glucose.units import mgdl_to_mmoll

LOW_LIMIT_MGDL = 40
HIGH_LIMIT_MGDL = 400
READING_MINUTES = 5
READINGS_PER_DAY = 24 * 60 // READING_MINUTES
SD_KIND = "sample"
SUFFICIENT_WEAR_PERCENT = 70
SUFFICIENT_DAYS = 14
# GMI was derived from 10+ days of CGM; below that we show no GMI instead of a misleading one.
GMI_MIN_DAYS_WITH_DATA = 10
AGP_PERCENTILES = (5, 25, 50, 75, 95)
AGP_SLOT_SECONDS = READING_MINUTES * 60
AGP_SLOTS = READINGS_PER_DAY

METRIC_KEYS = (
    "days",
    "wear_percent",
    "mean_mgdl",
    "sd_mgdl",
    "cv_percent",
    "gmi_percent",
    "tbr_below_54_percent",
    "tbr_54_69_percent",
    "tir_70_180_percent",
    "titr_70_140_percent",
    "tar_181_250_percent",
    "tar_above_250_percent",
    "gri",
    "readings",
)

# Consensus targets, most adults with type 1 or type 2 (Battelino 2019); (comparison, percent).
CONSENSUS_TARGETS = {
    "tbr_below_54_percent": ("<", 1),
    "tbr_low_percent": ("<", 4),
    "tir_70_180_percent": (">", 70),
    "tar_high_percent": ("<", 25),
    "tar_above_250_percent": ("<", 5),
    "cv_percent": ("≤", 36),
}
OLDER_HIGH_RISK_TARGETS = {
    "tir_70_180_percent": (">", 50),
    "tbr_low_percent": ("<", 1),
    "tar_above_250_percent": ("<", 10),
}


def clamp_to_sensor_range(values_mgdl) -> np.ndarray:
    """LOW counts as 40 and HIGH as 400 (the consensus convention)."""
    return np.clip(np.asarray(values_mgdl, dtype=np.int64), LOW_LIMIT_MGDL, HIGH_LIMIT_MGDL)


def band_counts(values: np.ndarray) -> dict:
    """Readings per consensus band of clamped integer mg/dL values."""
    return {
        "below_54": int(np.count_nonzero(values < 54)),
        "from_54_to_69": int(np.count_nonzero((values >= 54) & (values <= 69))),
        "from_70_to_140": int(np.count_nonzero((values >= 70) & (values <= 140))),
        "from_70_to_180": int(np.count_nonzero((values >= 70) & (values <= 180))),
        "from_181_to_250": int(np.count_nonzero((values >= 181) & (values <= 250))),
        "above_250": int(np.count_nonzero(values > 250)),
    }


def gri_zone(gri: float | None) -> str | None:
    """GRI zone A (best) to E: 0-20, 20-40, 40-60, 60-80, 80-100."""
    if gri is None:
        return None
    for zone, upper in (("A", 20), ("B", 40), ("C", 60), ("D", 80)):
        if gri <= upper:
            return zone
    return "E"


def _period_minutes(period_start, period_end) -> float:
    if isinstance(period_start, datetime) or isinstance(period_end, datetime):
        return (period_end - period_start).total_seconds() / 60
    if isinstance(period_start, date):
        return (period_end - period_start).days * 1440.0
    raise TypeError("period_start and period_end must be dates or datetimes")


def _percent(count: int, readings: int) -> float | None:
    return 100.0 * count / readings if readings else None


def _metrics_from_counts(
    *, readings: int, mean: float | None, sd: float | None, counts: dict,
    period_minutes: float, days_with_data: int | None,
) -> dict:
    """The shared last step of both paths (raw readings and daily sums)."""
    expected = period_minutes / READING_MINUTES
    tbr_54 = _percent(counts["below_54"], readings)
    tbr_54_69 = _percent(counts["from_54_to_69"], readings)
    tar_181_250 = _percent(counts["from_181_to_250"], readings)
    tar_250 = _percent(counts["above_250"], readings)
    gri = gri_hypo = gri_hyper = None
    if readings:
        gri_hypo = tbr_54 + 0.8 * tbr_54_69
        gri_hyper = tar_250 + 0.5 * tar_181_250
        gri = min(100.0, 3.0 * gri_hypo + 1.6 * gri_hyper)
    days = period_minutes / 1440
    wear = min(100.0, 100.0 * readings / expected) if expected > 0 else None
    gmi_allowed = days_with_data is None or days_with_data >= GMI_MIN_DAYS_WITH_DATA
    gmi = 3.31 + 0.02392 * mean if mean is not None and gmi_allowed else None
    return {
        "days": round(days, 4),
        "days_with_data": days_with_data,
        "wear_percent": wear,
        "readings": readings,
        "mean_mgdl": mean,
        "sd_mgdl": sd,
        "sd_kind": SD_KIND,
        "cv_percent": 100.0 * sd / mean if sd is not None and mean else None,
        "gmi_percent": gmi,
        "gmi_mmol_mol": 12.71 + 4.70587 * mgdl_to_mmoll(mean) if gmi is not None else None,
        "tbr_below_54_percent": tbr_54,
        "tbr_54_69_percent": tbr_54_69,
        "tir_70_180_percent": _percent(counts["from_70_to_180"], readings),
        "titr_70_140_percent": _percent(counts["from_70_to_140"], readings),
        "tar_181_250_percent": tar_181_250,
        "tar_above_250_percent": tar_250,
        "gri": gri,
        "gri_zone": gri_zone(gri),
        "gri_hypo_component": gri_hypo,
        "gri_hyper_component": gri_hyper,
        # A period ending now has a part-day; DST days have 23/25 h: count started days.
        "sufficient_data": bool(
            wear is not None and wear >= SUFFICIENT_WEAR_PERCENT
            and math.ceil(round(days, 3)) >= SUFFICIENT_DAYS
        ),
    }


def compute_metrics(
    values_mgdl, *, period_start, period_end, days_with_data: int | None = None
) -> dict:
    """Consensus metrics of the readings of one period [period_start, period_end).

    `values_mgdl` are the readings present (39/401 allowed); the period bounds (dates or
    datetimes, end exclusive) give the readings expected for sensor wear. `days_with_data`, when
    known, is reported and gates GMI (10+ days). SD needs two readings, everything else one.
    """
    values = clamp_to_sensor_range(values_mgdl)
    readings = int(values.size)
    mean = float(values.mean()) if readings else None
    sd = float(values.std(ddof=1)) if readings >= 2 else None
    return _metrics_from_counts(
        readings=readings, mean=mean, sd=sd, counts=band_counts(values),
        period_minutes=_period_minutes(period_start, period_end), days_with_data=days_with_data,
    )


def metrics_from_daily_summaries(rows, *, period_days: float) -> dict:
    """The same metrics from DailySummary rows (sums per local day), without raw readings.

    `period_days` may be fractional (a period ending now). SD comes from the sums:
    var = (sum(x^2) - sum(x)^2 / n) / (n - 1), the sample variance.
    """
    rows = list(rows)
    readings = sum(row.readings for row in rows)
    total = sum(row.value_sum for row in rows)
    squares = sum(row.value_sq_sum for row in rows)
    counts = {key: sum(getattr(row, key) for row in rows) for key in band_counts(np.array([]))}
    mean = total / readings if readings else None
    sd = None
    if readings >= 2:
        sd = float(np.sqrt(max(0.0, (squares - total * total / readings) / (readings - 1))))
    return _metrics_from_counts(
        readings=readings, mean=mean, sd=sd, counts=counts, period_minutes=period_days * 1440,
        days_with_data=sum(1 for row in rows if row.readings),
    )


def rounded_metrics(metrics: dict, *, digits: int = 2) -> dict:
    """Floats rounded for JSON (the API and the command print exactly this)."""
    return {
        key: round(value, digits) if isinstance(value, float) else value
        for key, value in metrics.items()
    }


def agp_percentiles(local_epoch_s, values_mgdl) -> dict:
    """AGP: the 5/25/50/75/95th percentiles of the readings in each 5-minute slot of the local day.

    Percentiles use numpy's default (linear, = R type 7, as iglu's quantile()). A slot without
    readings gets None. Returns {"slot_minutes": [...], "p5": [...], ..., "readings": [...]}.
    """
    values = clamp_to_sensor_range(values_mgdl)
    slots = (np.asarray(local_epoch_s, dtype=np.int64) % 86400) // AGP_SLOT_SECONDS
    order = np.lexsort((values, slots))
    sorted_values, sorted_slots = values[order], slots[order]
    bounds = np.searchsorted(sorted_slots, np.arange(AGP_SLOTS + 1))
    result = {f"p{p}": [None] * AGP_SLOTS for p in AGP_PERCENTILES}
    counts = np.diff(bounds)
    for slot in np.flatnonzero(counts):
        chunk = sorted_values[bounds[slot]:bounds[slot + 1]]
        for p, q in zip(AGP_PERCENTILES, np.percentile(chunk, AGP_PERCENTILES), strict=True):
            result[f"p{p}"][slot] = round(float(q), 1)
    result["slot_minutes"] = list(range(0, 1440, READING_MINUTES))
    result["readings"] = counts.tolist()
    return result


def daily_summary_arrays(local_day: np.ndarray, values_mgdl) -> dict:
    """Per local day: readings, sums and band counts (the DailySummary columns), vectorised."""
    values = clamp_to_sensor_range(values_mgdl)
    days, index = np.unique(local_day, return_inverse=True)
    size = days.size

    def count(mask):
        return np.bincount(index[mask], minlength=size)

    return {
        "day": days,
        "readings": np.bincount(index, minlength=size),
        "value_sum": np.bincount(index, weights=values, minlength=size),
        "value_sq_sum": np.bincount(index, weights=values.astype(np.float64) ** 2, minlength=size),
        "below_54": count(values < 54),
        "from_54_to_69": count((values >= 54) & (values <= 69)),
        "from_70_to_140": count((values >= 70) & (values <= 140)),
        "from_70_to_180": count((values >= 70) & (values <= 180)),
        "from_181_to_250": count((values >= 181) & (values <= 250)),
        "above_250": count(values > 250),
    }
