"""Consensus CGM metrics as pure functions (see shared/cgm-metrics.md for the definitions).

Conventions, stated on every page that shows these numbers:
- a LOW reading (below 40 mg/dL, stored as 39) counts as 40 and a HIGH one (above 400, stored
  as 401) as 400, in averages and in the lowest/highest band;
- SD is the *sample* standard deviation (n - 1), as in the R package iglu;
- percentages are of the readings present; gaps are never interpolated;
- sensor wear ("Time CGM active") = readings present / readings expected, one per 5 real
  minutes of the period already past (a 25 h DST day expects 300, a 23 h one 276);
- bands are counted as the patient reads the number (apps.glucose.units): for mmol/L,
  181 mg/dL reads 10.0 and is in range;
- the consensus metrics are the same for every patient; the patient's target set
  (apps.glucose.targets) only adds its own range's percentages (`target_measures`).
"""

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from apps.glucose import targets
from apps.glucose.localtime import Period
from apps.glucose.units import MGDL, MMOLL, band_limits_mgdl, mgdl_to_mmoll

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


def clamp_to_sensor_range(values_mgdl) -> np.ndarray:
    """LOW counts as 40 and HIGH as 400 (the consensus convention)."""
    return np.clip(np.asarray(values_mgdl, dtype=np.int64), LOW_LIMIT_MGDL, HIGH_LIMIT_MGDL)


# Readings per band, as stored per local day (DailySummary columns, defined from this table in
# apps.glucose.models.BandCounts). The low bands read the same in both units; the upper ones
# differ at 141, 181 and 251 mg/dL (see apps.glucose.units). The pregnancy bands are the range
# of targets.PREGNANCY_T1_SET (63-140 mg/dL, 3.5-7.8 mmol/L: 141 reads 7.8); "below 63" reads
# the same in both units (62 reads 3.4, 63 reads 3.5), so like below_54 it is one column.
# TriageSnapshot.sums sums every column here (snapshots.SUMMED): a new band needs no new code
# there, only a migration for the DailySummary column.
BAND_COLUMNS = {
    MGDL: {
        "very_low": "below_54",
        "low": "from_54_to_69",
        "tight": "from_70_to_140",
        "in_range": "from_70_to_180",
        "high": "from_181_to_250",
        "very_high": "above_250",
        "pregnancy_below": "below_63",
        "pregnancy_in_range": "from_63_to_140",
    },
    MMOLL: {
        "very_low": "below_54",
        "low": "from_54_to_69",
        "tight": "from_70_to_141",
        "in_range": "from_70_to_181",
        "high": "from_182_to_251",
        "very_high": "above_251",
        "pregnancy_below": "below_63",
        "pregnancy_in_range": "from_63_to_141",
    },
}
# The bands whose stored counts give a target set's range (targets.TargetSet.stored_range):
# readings below the range (the sum of these bands) and in it.
RANGE_BANDS = {
    "consensus": {"below": ("very_low", "low"), "in_range": "in_range"},
    "pregnancy": {"below": ("pregnancy_below",), "in_range": "pregnancy_in_range"},
}
# A custom range has no stored counts (see range_counts_of_values): where its counts have been
# taken from the readings, they travel in the sums under these keys (TriageSnapshot.sums).
RANGE_COUNT_KEYS = {"below": "range_below", "in_range": "range_in_range"}
SUM_COLUMNS = ("readings", "value_sum", "value_sq_sum")
COUNT_COLUMNS = tuple(dict.fromkeys(c for columns in BAND_COLUMNS.values() for c in columns.values()))


def _band_masks(values: np.ndarray, unit: str) -> dict:
    """Boolean masks of the six bands of clamped integer mg/dL values, as `unit` reads them."""
    limits = band_limits_mgdl(unit)
    pregnancy = targets.PREGNANCY_T1_SET.edges_mgdl(unit)
    return {
        "very_low": values <= limits.very_low_max,
        "low": (values > limits.very_low_max) & (values <= limits.low_max),
        "tight": (values > limits.low_max) & (values <= limits.tight_max),
        "in_range": (values > limits.low_max) & (values <= limits.in_range_max),
        "high": (values > limits.in_range_max) & (values <= limits.high_max),
        "very_high": values > limits.high_max,
        "pregnancy_below": values <= pregnancy.below_max,
        "pregnancy_in_range": (values > pregnancy.below_max) & (values <= pregnancy.in_range_max),
    }


def _column_masks(values: np.ndarray) -> dict:
    """The mask of every stored band column (both units)."""
    masks = {}
    for unit, columns in BAND_COLUMNS.items():
        for band, mask in _band_masks(values, unit).items():
            masks[columns[band]] = mask
    return masks


def band_counts(values: np.ndarray) -> dict:
    """Readings per stored band column of clamped integer mg/dL values (both units)."""
    return {column: int(np.count_nonzero(mask)) for column, mask in _column_masks(values).items()}


def value_sums(values_mgdl) -> dict:
    """The sums every metric is computed from (what a DailySummary row holds for one day)."""
    values = clamp_to_sensor_range(values_mgdl)
    return {
        "readings": int(values.size),
        "value_sum": float(values.sum()),
        "value_sq_sum": float((values.astype(np.float64) ** 2).sum()),
        **band_counts(values),
    }


def gri_zone(gri: float | None) -> str | None:
    """GRI zone A (best) to E: 0-20, 20-40, 40-60, 60-80, 80-100."""
    if gri is None:
        return None
    for zone, upper in (("A", 20), ("B", 40), ("C", 60), ("D", 80)):
        if gri <= upper:
            return zone
    return "E"


def _percent(count: int, readings: int) -> float | None:
    return 100.0 * count / readings if readings else None


def _sample_sd(*, readings: int, total: float, squares: float) -> float | None:
    """Sample SD from sums: var = (sum(x^2) - sum(x)^2 / n) / (n - 1)."""
    if readings < 2:
        return None
    return float(np.sqrt(max(0.0, (squares - total * total / readings) / (readings - 1))))


def sensor_wear_percent(readings: int, period_minutes: float) -> float | None:
    """Time CGM active: readings present / readings expected (one per 5 real minutes)."""
    expected = period_minutes / READING_MINUTES
    return min(100.0, 100.0 * readings / expected) if expected > 0 else None


def metrics_from_sums(
    sums: dict,
    *,
    unit: str = MGDL,
    period_minutes: float,
    days: float,
    days_with_data: int | None,
) -> dict:
    """Every consensus metric of a period from its sums: the one implementation behind the
    raw readings, the DailySummary rows, the triage list, the AGP, the PDF and the API.

    `sums` holds readings, value_sum, value_sq_sum and the band columns (BAND_COLUMNS);
    `unit` picks the bands as the patient reads them; `period_minutes` are the real minutes
    past (sensor wear); `days` is the number of local days reported.
    """
    readings = int(sums.get("readings") or 0)
    total = float(sums.get("value_sum") or 0.0)
    counts = _band_counts_of_sums(sums, unit)
    mean = total / readings if readings else None
    sd = _sample_sd(readings=readings, total=total, squares=float(sums.get("value_sq_sum") or 0.0))
    tbr_54 = _percent(counts["very_low"], readings)
    tbr_54_69 = _percent(counts["low"], readings)
    tar_181_250 = _percent(counts["high"], readings)
    tar_250 = _percent(counts["very_high"], readings)
    gri = gri_hypo = gri_hyper = None
    if readings:
        gri_hypo = tbr_54 + 0.8 * tbr_54_69
        gri_hyper = tar_250 + 0.5 * tar_181_250
        gri = min(100.0, 3.0 * gri_hypo + 1.6 * gri_hyper)
    wear = sensor_wear_percent(readings, period_minutes)
    gmi_allowed = days_with_data is None or days_with_data >= GMI_MIN_DAYS_WITH_DATA
    gmi = 3.31 + 0.02392 * mean if mean is not None and gmi_allowed else None
    return {
        "days": days,
        "days_with_data": days_with_data,
        "unit": unit,
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
        "tir_70_180_percent": _percent(counts["in_range"], readings),
        "titr_70_140_percent": _percent(counts["tight"], readings),
        "tar_181_250_percent": tar_181_250,
        "tar_above_250_percent": tar_250,
        "gri": gri,
        "gri_zone": gri_zone(gri),
        "gri_hypo_component": gri_hypo,
        "gri_hyper_component": gri_hyper,
        # A period ending now has a part-day, so count local days, not hours.
        "sufficient_data": bool(
            wear is not None and wear >= SUFFICIENT_WEAR_PERCENT and days >= SUFFICIENT_DAYS
        ),
    }


def _band_counts_of_sums(sums: dict, unit: str) -> dict:
    columns = BAND_COLUMNS[unit if unit == MMOLL else MGDL]
    return {band: int(sums.get(column) or 0) for band, column in columns.items()}


# --- the patient's target set ---------------------------------------------------------------------


def range_counts_of_values(values_mgdl, *, target_set, unit: str) -> dict:
    """{"below": n, "in_range": n}: readings below and in the set's range, counted from the
    readings themselves (the same clamping as every band).

    The one way for a custom range: its counts cannot be stored per day, because a DailySummary
    row is a function of the readings alone (the ingest writer, the Clarity import and the
    rebuild command all write it without knowing any setting); counts of a patient's own range
    would tie every row to a setting that changes, and each change would have to rewrite the
    patient's whole history. Reading one period's readings (at most 90 days, 26k values) is
    cheap; the pages and the triage snapshot of such a patient do it.
    """
    values = clamp_to_sensor_range(values_mgdl)
    edges = target_set.edges_mgdl(unit)
    return {
        "below": int(np.count_nonzero(values <= edges.below_max)),
        "in_range": int(np.count_nonzero((values > edges.below_max) & (values <= edges.in_range_max))),
    }


def range_counts_of_sums(sums: dict, *, target_set, unit: str) -> dict | None:
    """The same counts from summed DailySummary columns (named sets), or from the counts a
    snapshot carries (RANGE_COUNT_KEYS); None when neither holds them (a custom range)."""
    if target_set.stored_range is not None:
        counts = _band_counts_of_sums(sums, unit)
        bands = RANGE_BANDS[target_set.stored_range]
        return {
            "below": sum(counts[band] for band in bands["below"]),
            "in_range": counts[bands["in_range"]],
        }
    if all(key in sums for key in RANGE_COUNT_KEYS.values()):
        return {measure: int(sums[key] or 0) for measure, key in RANGE_COUNT_KEYS.items()}
    return None


def target_measures(sums: dict, range_counts: dict, *, unit: str, cv_percent: float | None) -> dict:
    """The set's measures as percent of readings: very_low (<54), low (54 up to the range),
    below (the two), in_range, high (above the range up to 250), above (high and very high),
    very_high (>250); and cv (the consensus CV). None when there are no readings."""
    readings = int(sums.get("readings") or 0)
    counts = _band_counts_of_sums(sums, unit)
    very_low, very_high = counts["very_low"], counts["very_high"]
    below, in_range = range_counts["below"], range_counts["in_range"]
    above = readings - below - in_range
    return {
        targets.VERY_LOW: _percent(very_low, readings),
        "low": _percent(below - very_low, readings),
        targets.BELOW: _percent(below, readings),
        targets.IN_RANGE: _percent(in_range, readings),
        "high": _percent(above - very_high, readings),
        targets.ABOVE: _percent(above, readings),
        targets.VERY_HIGH: _percent(very_high, readings),
        targets.CV: cv_percent,
    }


def _bounds_minutes_and_days(period_start, period_end) -> tuple[float, float]:
    """Real minutes and days of explicit bounds (dates: whole days; datetimes: their span)."""
    if isinstance(period_start, datetime) or isinstance(period_end, datetime):
        minutes = (period_end - period_start).total_seconds() / 60
        return minutes, round(minutes / 1440, 4)
    if isinstance(period_start, date):
        days = (period_end - period_start).days
        return days * 1440.0, days
    raise TypeError("period_start and period_end must be dates or datetimes")


def _period_minutes_and_days(period, period_start, period_end) -> tuple[float, float]:
    if period is not None:
        return period.minutes, period.days
    return _bounds_minutes_and_days(period_start, period_end)


def compute_metrics(
    values_mgdl,
    *,
    period: Period | None = None,
    period_start=None,
    period_end=None,
    days_with_data: int | None = None,
    unit: str = MGDL,
) -> dict:
    """Consensus metrics of the readings of one period.

    The period is a localtime.Period (the pages: local days, DST-aware, clipped at now) or
    explicit bounds [period_start, period_end) (dates or datetimes). `values_mgdl` are the
    readings present (39/401 allowed). `days_with_data`, when known, is reported and gates GMI
    (10+ days). SD needs two readings, everything else one.
    """
    minutes, days = _period_minutes_and_days(period, period_start, period_end)
    return metrics_from_sums(
        value_sums(values_mgdl),
        unit=unit,
        period_minutes=minutes,
        days=days,
        days_with_data=days_with_data,
    )


def sum_daily_summaries(rows) -> dict:
    """The sums of DailySummary rows (or any objects with the same attributes)."""
    rows = list(rows)
    sums = {column: sum(getattr(row, column) for row in rows) for column in SUM_COLUMNS}
    sums.update({column: sum(getattr(row, column, 0) for row in rows) for column in COUNT_COLUMNS})
    sums["days_with_data"] = sum(1 for row in rows if row.readings)
    return sums


def metrics_from_daily_summaries(
    rows,
    *,
    period: Period | None = None,
    period_days: float | None = None,
    unit: str = MGDL,
) -> dict:
    """The same metrics from DailySummary rows (sums per local day), without raw readings.

    The period is a localtime.Period, or `period_days` whole days of 24 h.
    """
    sums = sum_daily_summaries(rows)
    if period is not None:
        minutes, days = period.minutes, period.days
    else:
        minutes, days = period_days * 1440, period_days
    return metrics_from_sums(
        sums,
        unit=unit,
        period_minutes=minutes,
        days=days,
        days_with_data=sums["days_with_data"],
    )


def rounded_metrics(metrics: dict, *, digits: int = 2) -> dict:
    """Floats rounded for JSON (the API and the command print exactly this)."""
    return {
        key: round(value, digits) if isinstance(value, float) else value for key, value in metrics.items()
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
        chunk = sorted_values[bounds[slot] : bounds[slot + 1]]
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
    arrays = {
        "day": days,
        "readings": np.bincount(index, minlength=size),
        "value_sum": np.bincount(index, weights=values, minlength=size),
        "value_sq_sum": np.bincount(index, weights=values.astype(np.float64) ** 2, minlength=size),
    }
    for column, mask in _column_masks(values).items():
        arrays[column] = np.bincount(index[mask], minlength=size)
    return arrays


# Best and worst day (the overview). The rule, documented here and on the page:
# - only days with Time CGM active of at least 70% count (a day with two hours of data says
#   little), the consensus sufficiency threshold applied to one day;
# - best day = the highest time in range (70-180 mg/dL, in the patient's unit), ties broken by
#   the lower mean glucose; worst day = the lowest time in range, ties broken by the higher mean;
# - fewer than two such days: neither is named (one day is not "best" of anything).
RANKED_DAY_MIN_WEAR_PERCENT = SUFFICIENT_WEAR_PERCENT


@dataclass(frozen=True)
class RankedDay:
    day: date
    tir_percent: float
    mean_mgdl: float
    metrics: dict


def best_and_worst_days(
    rows, *, unit: str = MGDL, local_now: datetime | None = None, tzinfo=None
) -> tuple[RankedDay | None, RankedDay | None]:
    """(best, worst) of DailySummary rows by the rule above; (None, None) when under two days."""
    ranked = []
    for row in rows:
        period = Period(
            row.day, date.fromordinal(row.day.toordinal() + 1), local_now=local_now, tzinfo=tzinfo
        )
        day_metrics = metrics_from_daily_summaries([row], period=period, unit=unit)
        wear = day_metrics["wear_percent"]
        if day_metrics["readings"] and wear is not None and wear >= RANKED_DAY_MIN_WEAR_PERCENT:
            ranked.append(
                RankedDay(row.day, day_metrics["tir_70_180_percent"], day_metrics["mean_mgdl"], day_metrics)
            )
    if len(ranked) < 2:
        return None, None
    best = max(ranked, key=lambda d: (d.tir_percent, -d.mean_mgdl))
    worst = min(ranked, key=lambda d: (d.tir_percent, -d.mean_mgdl))
    return best, worst


HOURLY_PERCENTILES = (10, 25, 50, 75, 90)


def hourly_statistics(local_epoch_s, values_mgdl, *, unit: str = MGDL) -> list[dict]:
    """Per hour of the local day (0-23): readings, mean, sample SD, the 10/25/50/75/90th
    percentiles (numpy's linear, as agp_percentiles) in mg/dL, and % below range (<70), in range
    (70-180) and above range (>180) as `unit` reads the limits. Hours without readings carry
    None. The same clamping (LOW = 40, HIGH = 400) as every other metric."""
    values = clamp_to_sensor_range(values_mgdl)
    hours = (np.asarray(local_epoch_s, dtype=np.int64) % 86400) // 3600
    masks = _band_masks(values, unit)
    below = masks["very_low"] | masks["low"]
    above = masks["high"] | masks["very_high"]
    table = []
    for hour in range(24):
        in_hour = hours == hour
        chunk = values[in_hour]
        readings = int(chunk.size)
        row = {"hour": hour, "readings": readings}
        if readings:
            row["mean_mgdl"] = float(chunk.mean())
            row["sd_mgdl"] = float(chunk.std(ddof=1)) if readings > 1 else None
            row.update(
                {
                    f"p{p}_mgdl": float(q)
                    for p, q in zip(HOURLY_PERCENTILES, np.percentile(chunk, HOURLY_PERCENTILES), strict=True)
                }
            )
        else:
            row.update(
                {"mean_mgdl": None, "sd_mgdl": None, **{f"p{p}_mgdl": None for p in HOURLY_PERCENTILES}}
            )
        row["tbr_percent"] = _percent(int(np.count_nonzero(below & in_hour)), readings)
        row["tir_percent"] = _percent(int(np.count_nonzero(masks["in_range"] & in_hour)), readings)
        row["tar_percent"] = _percent(int(np.count_nonzero(above & in_hour)), readings)
        table.append(row)
    return table
