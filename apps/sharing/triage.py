"""The clinician's triage list: period metrics from summed DailySummary columns, and flags.

Pure functions over numbers the selector aggregated in SQL. Conventions as in
/work/shared/cgm-metrics.md: LOW counts as 40 and HIGH as 400 (the summaries already do),
SD is the sample SD (as iglu), wear = readings / (period minutes / 5).
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apps.glucose.metrics import GMI_MIN_DAYS_WITH_DATA

READINGS_PER_DAY = 288
GRI_CAP = 100.0


@dataclass
class PeriodMetrics:
    readings: int = 0
    days_with_data: int = 0
    wear_percent: float | None = None
    mean_mgdl: float | None = None
    cv_percent: float | None = None
    gmi_percent: float | None = None
    tbr_below_54_percent: float | None = None
    tbr_below_70_percent: float | None = None
    tir_70_180_percent: float | None = None
    tar_above_180_percent: float | None = None
    tar_above_250_percent: float | None = None
    gri: float | None = None


@dataclass
class TriageRow:
    patient_id: int
    name: str
    email: str
    last_reading_at: datetime | None
    hours_since_reading: float | None
    current: PeriodMetrics
    previous: PeriodMetrics
    flags: list[str] = field(default_factory=list)
    # Larger = look first; a tuple so ties fall back on the next criterion.
    attention: tuple = ()

    @property
    def tir_change(self) -> float | None:
        return self.change("tir_70_180_percent")

    def change(self, metric: str) -> float | None:
        now, before = getattr(self.current, metric), getattr(self.previous, metric)
        if now is None or before is None:
            return None
        return now - before


def metrics_from_sums(sums: dict, *, prefix: str, period_days: int) -> PeriodMetrics:
    """Consensus metrics of a period from its summed DailySummary columns."""
    n = int(sums.get(f"{prefix}readings") or 0)
    if n == 0:
        return PeriodMetrics(readings=0, wear_percent=0.0)
    days_with_data = int(sums.get(f"{prefix}days_with_data") or 0)

    def pct(column: str) -> float:
        return 100.0 * (sums.get(f"{prefix}{column}") or 0) / n

    total = sums[f"{prefix}value_sum"]
    mean = total / n
    variance = (sums[f"{prefix}value_sq_sum"] - n * mean * mean) / (n - 1) if n > 1 else 0.0
    sd = math.sqrt(max(variance, 0.0))  # float rounding can leave a tiny negative
    very_low, low = pct("below_54"), pct("from_54_to_69")
    high, very_high = pct("from_181_to_250"), pct("above_250")
    return PeriodMetrics(
        readings=n,
        days_with_data=days_with_data,
        wear_percent=min(100.0, 100.0 * n / (period_days * READINGS_PER_DAY)),
        mean_mgdl=mean,
        cv_percent=100.0 * sd / mean if mean and n > 1 else None,
        # Same rule as the dashboard (apps.glucose.metrics): GMI needs 10+ days with data.
        gmi_percent=3.31 + 0.02392 * mean if days_with_data >= GMI_MIN_DAYS_WITH_DATA else None,
        tbr_below_54_percent=very_low,
        tbr_below_70_percent=very_low + low,
        tir_70_180_percent=pct("from_70_to_180"),
        tar_above_180_percent=high + very_high,
        tar_above_250_percent=very_high,
        gri=min(GRI_CAP, 3.0 * very_low + 2.4 * low + 1.6 * very_high + 0.8 * high),
    )


# (flag, test) in order of urgency; the first ones sort a patient to the top.
FLAG_RULES = [
    ("TBR <54 > 1%", lambda m, h: m.tbr_below_54_percent is not None and m.tbr_below_54_percent > 1),
    ("TBR <70 > 4%", lambda m, h: m.tbr_below_70_percent is not None and m.tbr_below_70_percent > 4),
    ("No data 24 h", lambda m, h: h is None or h > 24),
    ("Wear < 70%", lambda m, h: m.wear_percent is not None and m.wear_percent < 70),
    ("TIR < 70%", lambda m, h: m.tir_70_180_percent is not None and m.tir_70_180_percent < 70),
    ("TAR >250 > 5%", lambda m, h: m.tar_above_250_percent is not None and m.tar_above_250_percent > 5),
    ("CV > 36%", lambda m, h: m.cv_percent is not None and m.cv_percent > 36),
]


def flags_for(metrics: PeriodMetrics, hours_since_reading: float | None) -> list[str]:
    return [name for name, test in FLAG_RULES if test(metrics, hours_since_reading)]


def _attention(flags: list[str], metrics: PeriodMetrics) -> tuple:
    """Most urgent flag first (hypoglycaemia above all, as Tidepool's TIDE), then GRI."""
    ranks = [len(FLAG_RULES) - index for index, (name, _) in enumerate(FLAG_RULES) if name in flags]
    return (max(ranks, default=0), len(flags), metrics.gri or 0.0)


def triage_row(*, patient: dict, sums: dict, period_days: int, now: datetime) -> TriageRow:
    """`patient`: id, email, full_name, last_reading_at (a values() row, not a model)."""
    last = patient["last_reading_at"]
    hours = (now - last) / timedelta(hours=1) if last else None
    current = metrics_from_sums(sums, prefix="cur_", period_days=period_days)
    previous = metrics_from_sums(sums, prefix="prev_", period_days=period_days)
    flags = flags_for(current, hours)
    return TriageRow(
        patient_id=patient["id"],
        name=patient["full_name"] or patient["email"],
        email=patient["email"],
        last_reading_at=last,
        hours_since_reading=hours,
        current=current,
        previous=previous,
        flags=flags,
        attention=_attention(flags, current),
    )


SORT_KEYS = {
    "attention": lambda r: r.attention,
    "name": lambda r: r.name.lower(),
    "last_reading": lambda r: r.hours_since_reading if r.hours_since_reading is not None else math.inf,
    "wear": lambda r: _number(r.current.wear_percent),
    "tir": lambda r: _number(r.current.tir_70_180_percent),
    "tbr": lambda r: _number(r.current.tbr_below_70_percent),
    "tbr54": lambda r: _number(r.current.tbr_below_54_percent),
    "tar": lambda r: _number(r.current.tar_above_180_percent),
    "gmi": lambda r: _number(r.current.gmi_percent),
    "cv": lambda r: _number(r.current.cv_percent),
    "gri": lambda r: _number(r.current.gri),
    "tir_change": lambda r: _number(r.change("tir_70_180_percent")),
}
# Sorting by these puts the highest (worst) first unless the user flips it.
DESCENDING_BY_DEFAULT = {"attention", "last_reading", "tbr", "tbr54", "tar", "gmi", "cv", "gri"}


def _number(value: float | None) -> float:
    return -math.inf if value is None else value


def sort_rows(rows: list[TriageRow], *, key: str, descending: bool) -> list[TriageRow]:
    return sorted(rows, key=SORT_KEYS.get(key, SORT_KEYS["attention"]), reverse=descending)


def search_rows(rows: list[TriageRow], query: str) -> list[TriageRow]:
    query = query.strip().lower()
    if not query:
        return rows
    return [r for r in rows if query in r.name.lower() or query in r.email.lower()]
