"""The clinician's triage list: period metrics from summed DailySummary columns, and flags.

The numbers come from apps.glucose.metrics (the same implementation as the patient's pages),
over each patient's own local days and in the unit the patient reads. Conventions as in
/work/shared/cgm-metrics.md: LOW counts as 40 and HIGH as 400 (the summaries already do),
SD is the sample SD (as iglu), wear = readings / (real period minutes / 5).
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Collate, Lower, NullIf

from apps.accounts.models import zone_named
from apps.glucose import snapshots, targets
from apps.glucose.localtime import Period, period_ending
from apps.glucose.targets import TargetSet
from apps.glucose.units import MGDL


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
    # The patient's target set: below, in and above its range (the consensus metrics above
    # stay the consensus ones).
    target_below_percent: float | None = None
    target_in_range_percent: float | None = None
    target_above_percent: float | None = None


@dataclass
class TriageRow:
    patient_id: int
    name: str
    email: str
    last_reading_at: datetime | None
    hours_since_reading: float | None
    current: PeriodMetrics
    # None on a page's rows, read from the snapshot's stored columns (row_from_columns): of the
    # period before they know only the TIR change.
    previous: PeriodMetrics | None
    period: Period | None = None  # the patient's own local days
    flags: list[str] = field(default_factory=list)
    # Larger = look first; a tuple so ties fall back on the next criterion.
    attention: tuple = ()
    unit: str = MGDL  # the unit the patient reads, which the row's bands were counted in
    target_set: TargetSet = targets.STANDARD_SET  # the goals its flags follow
    tir_change: float | None = None  # TIR now minus TIR in the period before

    def change(self, metric: str) -> float | None:
        if self.previous is None:
            return self.tir_change if metric == "tir_70_180_percent" else None
        now, before = getattr(self.current, metric), getattr(self.previous, metric)
        if now is None or before is None:
            return None
        return now - before

    @property
    def metric_cells(self) -> list[str] | None:
        """The current period's columns as shown (None: no readings in the period).

        Formatted here, once per row, rather than by floatformat filters in the template:
        at 100 rows a page those filters were most of the page's time.
        """
        m = self.current
        if not m.readings:
            return None
        return [
            f"{fixed(m.tir_70_180_percent, 1)}%",
            f"{fixed(m.tbr_below_70_percent, 1)}%",
            f"{fixed(m.tbr_below_54_percent, 1)}%",
            f"{fixed(m.tar_above_180_percent, 1)}%",
            f"{fixed(m.gmi_percent, 1)}%" if m.gmi_percent is not None else "—",
            f"{fixed(m.cv_percent, 1)}%" if m.cv_percent is not None else "—",
            fixed(m.gri, 0),
        ]

    @property
    def wear_cell(self) -> str:
        return f"{fixed(self.current.wear_percent, 0)}%"

    @property
    def tir_change_cell(self) -> str:
        change = self.tir_change
        if change is None:
            return "—"
        return f"{'+' if change > 0 else ''}{fixed(change, 1)} pts"


@lru_cache(maxsize=1 << 16, typed=True)  # a pure function: a reload shows the same few hundred numbers
def fixed(value: float | None, places: int) -> str:
    """What Django's floatformat filter shows for `value` with `places` (0 or more) decimals
    in this site's locale (no grouping), at a fraction of its cost: the decimal text of the
    float rounded half up, with no sign on a value that rounds to zero; "" for None.
    tests/sharing/test_it_triages_from_snapshots.py compares the two on many values."""
    if value is None:
        return ""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if not rounded:
        rounded = abs(rounded)
    return f"{rounded:f}"


def period_metrics(
    sums: dict, *, period: Period, unit: str, target_set: TargetSet | None = None
) -> PeriodMetrics:
    """The triage columns of one period, from its summed DailySummary columns."""
    return PeriodMetrics(**snapshots.period_figures(sums, period=period, unit=unit, target_set=target_set))


@dataclass(frozen=True)
class GoalRule:
    """A flag raised when the current period misses a goal of the patient's target set by
    more than nothing: above an upper-bound goal ("TBR <70 > 4%") or below the in-range one.

    The same rule answers in Python (for the rows shown, from the row's target set) and in SQL
    (to sort and count every row, from TriageSnapshot's measure and threshold columns, written
    from the same set by apps.glucose.snapshots): a missing metric or a goal the set does not
    flag (None, NULL) never raises it.
    """

    measure: str

    @property
    def metric(self) -> str:
        return snapshots.MEASURE_COLUMN_OF[self.measure]

    @property
    def threshold_column(self) -> str:
        return snapshots.FLAG_COLUMN_OF[self.measure]

    def threshold(self, target_set: TargetSet) -> float | None:
        return snapshots.flag_thresholds(target_set)[self.threshold_column]

    def name(self, target_set: TargetSet, unit: str) -> str:
        return target_set.flag_name(target_set.goal(self.measure), unit)

    def applies(
        self, metrics: PeriodMetrics, hours_since_reading: float | None, target_set: TargetSet
    ) -> bool:
        value, threshold = getattr(metrics, self.metric), self.threshold(target_set)
        if value is None or threshold is None:
            return False
        return value < threshold if self.measure == targets.IN_RANGE else value > threshold

    def q(self, *, now: datetime) -> Q:
        comparison = "lt" if self.measure == targets.IN_RANGE else "gt"
        return Q(**{f"{self.metric}__{comparison}": F(self.threshold_column)})


@dataclass(frozen=True)
class FixedRule:
    """A flag the same for every target set: sensor wear below the consensus' 70%."""

    fixed_name: str
    metric: str
    below: float

    def name(self, target_set: TargetSet, unit: str) -> str:
        return self.fixed_name

    def applies(
        self, metrics: PeriodMetrics, hours_since_reading: float | None, target_set: TargetSet
    ) -> bool:
        value = getattr(metrics, self.metric)
        return value is not None and value < self.below

    def q(self, *, now: datetime) -> Q:
        return Q(**{f"{self.metric}__lt": self.below})


class NoRecentDataRule(FixedRule):
    """No reading for more than 24 hours, or none at all."""

    def applies(
        self, metrics: PeriodMetrics, hours_since_reading: float | None, target_set: TargetSet
    ) -> bool:
        return hours_since_reading is None or hours_since_reading > NO_DATA_HOURS

    def q(self, *, now: datetime) -> Q:
        return Q(last_reading_at__isnull=True) | Q(last_reading_at__lt=now - timedelta(hours=NO_DATA_HOURS))


NO_DATA_HOURS = 24
# In order of urgency; the first ones sort a patient to the top. The goal rules' names and
# thresholds follow each patient's target set (apps.glucose.targets).
FLAG_RULES = [
    GoalRule(targets.VERY_LOW),
    GoalRule(targets.BELOW),
    NoRecentDataRule("No data 24 h", "last_reading_at", below=0),
    FixedRule("Time CGM active < 70%", "wear_percent", below=70),
    GoalRule(targets.IN_RANGE),
    GoalRule(targets.ABOVE),
    GoalRule(targets.VERY_HIGH),
    GoalRule(targets.CV),
]


def raised_rules(
    metrics: PeriodMetrics, hours_since_reading: float | None, target_set: TargetSet = targets.STANDARD_SET
) -> list[int]:
    """The indexes in FLAG_RULES of the rules the period raises."""
    return [i for i, rule in enumerate(FLAG_RULES) if rule.applies(metrics, hours_since_reading, target_set)]


def flags_for(
    metrics: PeriodMetrics,
    hours_since_reading: float | None,
    target_set: TargetSet = targets.STANDARD_SET,
    unit: str = MGDL,
) -> list[str]:
    return [
        FLAG_RULES[i].name(target_set, unit) for i in raised_rules(metrics, hours_since_reading, target_set)
    ]


def _attention(raised: list[int], metrics: PeriodMetrics) -> tuple:
    """Most urgent flag first (hypoglycaemia above all, as Tidepool's TIDE), then GRI."""
    ranks = [len(FLAG_RULES) - index for index in raised]
    return (max(ranks, default=0), len(raised), metrics.gri or 0.0)


def triage_row(
    *,
    patient,
    last_reading_at: datetime | None,
    sums: dict,
    period: Period,
    unit: str,
    now: datetime,
    target_set: TargetSet = targets.STANDARD_SET,
) -> TriageRow:
    """`sums`: {"current": ..., "previous": ...}, the summed columns of `period` (the
    patient's own local days) and the one before; `target_set`: the goals the flags follow."""
    current = period_metrics(sums.get("current", {}), period=period, unit=unit, target_set=target_set)
    previous = period_metrics(sums.get("previous", {}), period=period.previous(), unit=unit)
    tir_now, tir_before = current.tir_70_180_percent, previous.tir_70_180_percent
    return _row(
        patient_id=patient.pk,
        name=patient.full_name or patient.email,
        email=patient.email,
        last_reading_at=last_reading_at,
        current=current,
        previous=previous,
        tir_change=None if tir_now is None or tir_before is None else tir_now - tir_before,
        period=period,
        unit=unit,
        target_set=target_set,
        now=now,
    )


def _row(
    *,
    last_reading_at: datetime | None,
    current: PeriodMetrics,
    unit: str,
    target_set: TargetSet,
    now: datetime,
    **fields,
) -> TriageRow:
    """The row with what follows from its metrics: hours since the last reading, flags, rank."""
    hours = (now - last_reading_at) / timedelta(hours=1) if last_reading_at else None
    raised = raised_rules(current, hours, target_set)
    return TriageRow(
        last_reading_at=last_reading_at,
        hours_since_reading=hours,
        current=current,
        flags=[FLAG_RULES[i].name(target_set, unit) for i in raised],
        attention=_attention(raised, current),
        unit=unit,
        target_set=target_set,
        **fields,
    )


def row_from_snapshot(snapshot, *, now: datetime) -> TriageRow:
    """The row of a TriageSnapshot (with its patient): recomputed from the stored sums by the
    same code, so the numbers shown are the ones it was sorted by."""
    patient = snapshot.patient
    period = period_ending(snapshot.last_day, days=snapshot.period_days, tzinfo=patient.tzinfo)
    return triage_row(
        patient=patient,
        last_reading_at=snapshot.last_reading_at,
        sums=snapshot.sums,
        period=period,
        unit=snapshot.unit,
        now=now,
        target_set=_stored_target_set(snapshot.target_set),
    )


def _stored_target_set(stored: dict) -> TargetSet:
    return TargetSet.from_dict(stored) if stored else targets.STANDARD_SET


# What row_from_columns reads of a TriageSnapshot (with its patient's name and email).
ROW_COLUMNS = (
    "patient_id",
    "period_days",
    "last_day",
    "time_zone",
    "unit",
    "last_reading_at",
    "readings",
    *snapshots.SORT_COLUMNS,
    *snapshots.TRIAGE_TARGET_COLUMNS,
    "tir_change",
    "target_set",
)


def row_from_columns(columns: dict, *, name: str, email: str, now: datetime) -> TriageRow:
    """A page's row from a snapshot's stored columns (ROW_COLUMNS): the numbers the list was
    sorted by, without decoding and summing the snapshot's sums again (computed from them by
    the same code when the snapshot was built)."""
    period = period_ending(
        columns["last_day"], days=columns["period_days"], tzinfo=zone_named(columns["time_zone"])
    )
    measured = (*snapshots.SORT_COLUMNS, *snapshots.TRIAGE_TARGET_COLUMNS)
    return _row(
        patient_id=columns["patient_id"],
        name=name or email,
        email=email,
        last_reading_at=columns["last_reading_at"],
        current=PeriodMetrics(
            readings=columns["readings"],
            **{column: columns[column] for column in measured},
        ),
        previous=None,
        tir_change=columns["tir_change"],
        period=period,
        unit=columns["unit"],
        target_set=_stored_target_set(columns["target_set"]),
        now=now,
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
    "tir_change": lambda r: _number(r.tir_change),
}
# Sorting by these puts the highest (worst) first unless the user flips it.
DESCENDING_BY_DEFAULT = {"attention", "last_reading", "tbr", "tbr54", "tar", "gmi", "cv", "gri"}


def _number(value: float | None) -> float:
    return -math.inf if value is None else value


def sort_rows(rows: list[TriageRow], *, key: str, descending: bool) -> list[TriageRow]:
    return sorted(rows, key=SORT_KEYS.get(key, SORT_KEYS["attention"]), reverse=descending)


def search_rows(rows: list[TriageRow], query: str) -> list[TriageRow]:
    """In Python, for lists already in memory; triage_page searches in SQL (search_q)."""
    query = query.strip().lower()
    if not query:
        return rows
    return [r for r in rows if query in r.name.lower() or query in r.email.lower()]


# --- the same sorting, flags and search in SQL, over TriageSnapshot rows --------------------------
# Every expression mirrors its Python twin above (SORT_KEYS, flags_for, _attention,
# search_rows); tests compare the two on the same rows.


def any_flag_q(*, now: datetime) -> Q:
    combined = Q()
    for rule in FLAG_RULES:
        combined |= rule.q(now=now)
    return combined


def _attention_expressions(*, now: datetime) -> list:
    rules = [(rule, rule.q(now=now)) for rule in FLAG_RULES]
    rank = Case(
        *[When(q, then=Value(len(FLAG_RULES) - index)) for index, (_, q) in enumerate(rules)],
        default=Value(0),
        output_field=IntegerField(),
    )
    count = sum(
        (Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField()) for _, q in rules),
        start=Value(0),
    )
    return [rank, count, Coalesce(F("gri"), Value(0.0))]


SORT_COLUMN_OF = {
    "wear": "wear_percent",
    "tir": "tir_70_180_percent",
    "tbr": "tbr_below_70_percent",
    "tbr54": "tbr_below_54_percent",
    "tar": "tar_above_180_percent",
    "gmi": "gmi_percent",
    "cv": "cv_percent",
    "gri": "gri",
    "tir_change": "tir_change",
}


def _name_expression(vendor: str):
    name = Lower(Coalesce(NullIf(F("patient__full_name"), Value("")), F("patient__email")))
    # Python compares code points; PostgreSQL's "C" collation compares UTF-8 bytes, the same
    # order (SQLite compares bytes already).
    return Collate(name, "C") if vendor == "postgresql" else name


def order_by(*, key: str, descending: bool, now: datetime, vendor: str) -> list:
    """ORDER BY for TriageSnapshot rows, as sort_rows orders TriageRows: missing numbers count
    as -inf (first ascending, last descending), a missing last reading as +inf hours, ties in
    the patients' email order (Python's sort is stable, and the patients came by email)."""
    key = key if key in SORT_KEYS else "attention"
    if key == "attention":
        terms = [e.desc() if descending else e.asc() for e in _attention_expressions(now=now)]
    elif key == "name":
        name = _name_expression(vendor)
        terms = [name.desc() if descending else name.asc()]
    elif key == "last_reading":
        # More hours since = an older reading; no reading at all = the most hours.
        last = F("last_reading_at")
        terms = [last.asc(nulls_first=True) if descending else last.desc(nulls_last=True)]
    else:
        column = F(SORT_COLUMN_OF[key])
        terms = [column.desc(nulls_last=True) if descending else column.asc(nulls_first=True)]
    return [*terms, F("patient__email").asc(), F("patient_id").asc()]


def search_q(query: str, *, through: str = "patient__") -> Q:
    """For TriageSnapshot rows; through="" for the User rows themselves."""
    query = query.strip()
    if not query:
        return Q()
    return Q(**{f"{through}full_name__icontains": query}) | Q(**{f"{through}email__icontains": query})
