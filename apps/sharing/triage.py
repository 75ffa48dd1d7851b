"""The clinician's triage list: period metrics from summed DailySummary columns, and flags.

The numbers come from apps.glucose.metrics (the same implementation as the patient's pages),
over each patient's own local days and in the unit the patient reads. Conventions as in
/work/shared/cgm-metrics.md: LOW counts as 40 and HIGH as 400 (the summaries already do),
SD is the sample SD (as iglu), wear = readings / (real period minutes / 5).
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apps.glucose import metrics
from apps.glucose.localtime import Period


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
    period: Period | None = None  # the patient's own local days
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


def period_metrics(sums: dict, *, period: Period, unit: str) -> PeriodMetrics:
    """The triage columns of one period, from its summed DailySummary columns."""
    m = metrics.metrics_from_sums(
        sums, unit=unit, period_minutes=period.minutes, days=period.days,
        days_with_data=int(sums.get("days_with_data") or 0),
    )
    return PeriodMetrics(
        readings=m["readings"],
        days_with_data=m["days_with_data"],
        wear_percent=m["wear_percent"],
        mean_mgdl=m["mean_mgdl"],
        cv_percent=m["cv_percent"],
        gmi_percent=m["gmi_percent"],
        tbr_below_54_percent=m["tbr_below_54_percent"],
        tbr_below_70_percent=_sum(m["tbr_below_54_percent"], m["tbr_54_69_percent"]),
        tir_70_180_percent=m["tir_70_180_percent"],
        tar_above_180_percent=_sum(m["tar_181_250_percent"], m["tar_above_250_percent"]),
        tar_above_250_percent=m["tar_above_250_percent"],
        gri=m["gri"],
    )


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


# (flag, test) in order of urgency; the first ones sort a patient to the top.
FLAG_RULES = [
    ("TBR <54 > 1%", lambda m, h: m.tbr_below_54_percent is not None and m.tbr_below_54_percent > 1),
    ("TBR <70 > 4%", lambda m, h: m.tbr_below_70_percent is not None and m.tbr_below_70_percent > 4),
    ("No data 24 h", lambda m, h: h is None or h > 24),
    ("Time CGM active < 70%", lambda m, h: m.wear_percent is not None and m.wear_percent < 70),
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


def triage_row(*, patient, sums: dict, period: Period, unit: str, now: datetime) -> TriageRow:
    """`patient`: a User with `last_reading_at` annotated; `sums`: {"current": ..., "previous":
    ...}, the summed columns of `period` (the patient's own local days) and the one before."""
    last = patient.last_reading_at
    hours = (now - last) / timedelta(hours=1) if last else None
    current = period_metrics(sums.get("current", {}), period=period, unit=unit)
    previous = period_metrics(sums.get("previous", {}), period=period.previous(), unit=unit)
    flags = flags_for(current, hours)
    return TriageRow(
        patient_id=patient.pk,
        name=patient.full_name or patient.email,
        email=patient.email,
        last_reading_at=last,
        hours_since_reading=hours,
        current=current,
        previous=previous,
        period=period,
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
