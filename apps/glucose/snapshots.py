"""TriageSnapshot upkeep: each patient's triage figures per period length, computed ahead.

A clinician's list of 5,000 patients cannot sum 5,000 x 28 DailySummary rows per page view;
it reads one TriageSnapshot row per patient instead and sorts and pages in SQL. The figures are
computed here exactly as the list computed them before (the same SQL sums, the same
apps.glucose.metrics call), and `period_figures` is the one place that turns sums into the
list's numbers, for the stored sort columns and for the rows shown alike.

When: with the DailySummary rebuild (apps/glucose/summaries.py, same transaction) for the
standard period lengths, and lazily for the rows a list finds missing or stale (the patient's
local day rolled over since, their zone or unit choice changed, or a new device unit was
synced: `forget`), and whenever the patient's target set changes (target_choice.py).

The target set: a snapshot carries the set its flags follow (`target_set`), the set's measures
of the current period (TRIAGE_TARGET_COLUMNS) and one threshold per flagged goal
(TRIAGE_FLAG_COLUMNS), so the list flags, counts and sorts by each patient's own goals in SQL.
A custom range's counts are taken from the period's readings here (metrics.range_counts_of_values
says why they cannot be stored per day) and kept in the sums (metrics.RANGE_COUNT_KEYS).
"""

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.glucose import localtime, metrics, selectors, targets
from apps.glucose.models import (
    TRIAGE_SORT_COLUMNS,
    TRIAGE_TARGET_COLUMNS,
    DailySummary,
    TriageSnapshot,
)
from apps.glucose.units import effective_unit

logger = logging.getLogger(__name__)

# The periods the triage list offers; the summaries rebuild keeps these current.
TRIAGE_PERIOD_DAYS = (7, 14, 30, 90)
SUMMED = [*metrics.SUM_COLUMNS, *metrics.COUNT_COLUMNS]
# The current period's figures stored as columns (the list sorts by them), defined once with
# the model; tir_change is the one that compares with the period before (_snapshot).
SORT_COLUMNS = tuple(column for column in TRIAGE_SORT_COLUMNS if column != "tir_change")
BATCH = 1000  # patients per build query: bounded IN lists, bounded memory


# Where each goal's measure and flag threshold live: the columns of a snapshot and the fields of
# apps.sharing.triage.PeriodMetrics (the same names).
MEASURE_COLUMN_OF = {
    targets.VERY_LOW: "tbr_below_54_percent",
    targets.BELOW: "target_below_percent",
    targets.IN_RANGE: "target_in_range_percent",
    targets.ABOVE: "target_above_percent",
    targets.VERY_HIGH: "tar_above_250_percent",
    targets.CV: "cv_percent",
}
FLAG_COLUMN_OF = {
    targets.VERY_LOW: "flag_very_low_above",
    targets.BELOW: "flag_below_above",
    targets.IN_RANGE: "flag_in_range_below",
    targets.ABOVE: "flag_above_above",
    targets.VERY_HIGH: "flag_very_high_above",
    targets.CV: "flag_cv_above",
}


def flag_thresholds(target_set: targets.TargetSet) -> dict:
    """Flag column -> the value beyond which the set's goal raises a flag (None: no flag)."""
    thresholds = {}
    for measure, column in FLAG_COLUMN_OF.items():
        goal = target_set.goal(measure)
        thresholds[column] = (
            None if goal is None else goal.flag_below if measure == targets.IN_RANGE else goal.flag_above
        )
    return thresholds


def _target_figures(sums: dict, m: dict, *, unit: str, target_set: targets.TargetSet | None) -> dict:
    """The set's below / in range / above percentages (None without the counts or readings)."""
    counts = metrics.range_counts_of_sums(sums, target_set=target_set, unit=unit) if target_set else None
    if counts is None or not m["readings"]:
        return dict.fromkeys(TRIAGE_TARGET_COLUMNS)
    measures = metrics.target_measures(sums, counts, unit=unit, cv_percent=m["cv_percent"])
    return {
        MEASURE_COLUMN_OF[measure]: measures[measure]
        for measure in (targets.BELOW, targets.IN_RANGE, targets.ABOVE)
    }


def period_figures(
    sums: dict, *, period: localtime.Period, unit: str, target_set: targets.TargetSet | None = None
) -> dict:
    """The triage list's numbers for one period, from its summed DailySummary columns, with
    the target set's measures when it is given."""
    m = metrics.metrics_from_sums(
        sums,
        unit=unit,
        period_minutes=period.minutes,
        days=period.days,
        days_with_data=int(sums.get("days_with_data") or 0),
    )
    return {
        "readings": m["readings"],
        "days_with_data": m["days_with_data"],
        "wear_percent": m["wear_percent"],
        "mean_mgdl": m["mean_mgdl"],
        "cv_percent": m["cv_percent"],
        "gmi_percent": m["gmi_percent"],
        "tbr_below_54_percent": m["tbr_below_54_percent"],
        "tbr_below_70_percent": _sum(m["tbr_below_54_percent"], m["tbr_54_69_percent"]),
        "tir_70_180_percent": m["tir_70_180_percent"],
        "tar_above_180_percent": _sum(m["tar_181_250_percent"], m["tar_above_250_percent"]),
        "tar_above_250_percent": m["tar_above_250_percent"],
        "gri": m["gri"],
        **_target_figures(sums, m, unit=unit, target_set=target_set),
    }


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def patient_period(patient, *, period_days: int, now: datetime) -> localtime.Period:
    """The patient's own last `period_days` full local days: today is still filling up and
    would read as poor wear, and "today" is the patient's, not the clinician's."""
    today = localtime.local_today(patient, now=now, latest_delta_seconds=patient.latest_delta_seconds)
    return localtime.period_ending(today - timedelta(days=1), days=period_days, tzinfo=patient.tzinfo)


def _local_day_starts(patient, day: date) -> datetime:
    """The UTC instant the patient's "today" becomes `day` (the inverse of local_today)."""
    if patient.latest_delta_seconds is not None:
        return datetime.combine(day, time(), tzinfo=UTC) - timedelta(seconds=patient.latest_delta_seconds)
    # fold=0: a midnight skipped by DST maps to the transition, a repeated one to its first time.
    return datetime.combine(day, time(), tzinfo=patient.tzinfo).astimezone(UTC)


def validity(patient, *, period: localtime.Period, now: datetime) -> tuple[datetime, datetime]:
    """[valid_from, valid_until): while the patient's today is the day after the period."""
    valid_from = _local_day_starts(patient, period.end_day)
    valid_until = _local_day_starts(patient, period.end_day + timedelta(days=1))
    # Never valid only in the past: that would rebuild the same row on every look.
    return min(valid_from, now), max(valid_until, now + timedelta(minutes=5))


def _period_sums(*, patient_ids: list[int], current_start: date, previous_start: date, until: date) -> dict:
    """Per patient and period ("current"/"previous"): the summed DailySummary columns, in one
    query.

    Grouping by (patient, period) rather than filtering each sum twice halves the aggregates
    PostgreSQL computes.
    """
    period = Case(When(day__gte=current_start, then=Value("current")), default=Value("previous"))
    rows = (
        DailySummary.objects.filter(patient_id__in=patient_ids, day__gte=previous_start, day__lte=until)
        .annotate(period=period)
        .values("patient_id", "period")
        .annotate(
            days_with_data=Count("day", filter=Q(readings__gt=0)),
            **{f"sum_{name}": Sum(name) for name in SUMMED},
        )
        .order_by()
    )
    sums: dict[int, dict] = {}
    for row in rows:
        period_sums = {name: row[f"sum_{name}"] for name in SUMMED}
        period_sums["days_with_data"] = row["days_with_data"]
        sums.setdefault(row["patient_id"], {})[row["period"]] = period_sums
    return sums


def _patients(patient_ids: list[int], *, now: datetime) -> list[User]:
    """The patients with what their figures depend on: newest reading (time and offset, their
    "today") and the unit their device shows."""
    # Summaries written under an old rule may date a day's last reading ahead of the clock.
    newest_reading = (
        DailySummary.objects.filter(
            patient=OuterRef("pk"),
            last_reading_at__isnull=False,
            last_reading_at__lte=localtime.newest_possible_reading_time(now),
        )
        .order_by("-day")
        .values("last_reading_at")[:1]
    )
    return list(
        selectors.with_local_clock_and_unit(
            User.objects.filter(pk__in=patient_ids)
            .order_by()
            .annotate(last_reading_at=Subquery(newest_reading))
        )
    )


def _custom_range_readings(
    patients: list[User], *, target_sets: dict, longest_days: int, now: datetime
) -> dict:
    """Patient id -> the readings of their longest triage period, for the patients whose
    custom range has no stored counts: one read each, every period length slices it (all end
    on the patient's yesterday)."""
    readings = {}
    for patient in patients:
        if target_sets[patient.pk].stored_range is None:
            period = patient_period(patient, period_days=longest_days, now=now)
            readings[patient.pk] = selectors.egv_series_for_local_days(
                patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
            )
    return readings


def _with_custom_range_counts(sums: dict, *, readings, period, target_set, unit: str) -> dict:
    """A custom range's counts of the current period, from its readings, into its sums."""
    if target_set.stored_range is not None:
        return sums
    values = readings.in_local_days(period.first_day, period.end_day).value
    counts = metrics.range_counts_of_values(values, target_set=target_set, unit=unit)
    current = {**sums.get("current", {}), **{metrics.RANGE_COUNT_KEYS[k]: n for k, n in counts.items()}}
    return {**sums, "current": current}


def _snapshots_for_period(
    patients: list[User], *, period_days: int, now: datetime, target_sets: dict, custom_readings: dict
) -> list[TriageSnapshot]:
    periods = {p.pk: patient_period(p, period_days=period_days, now=now) for p in patients}
    # One sums query per distinct local "yesterday" (patients around the world span at most three).
    by_last_day: dict[date, list[int]] = defaultdict(list)
    for patient_id, period in periods.items():
        by_last_day[period.last_day].append(patient_id)
    sums: dict[int, dict] = {}
    for patient_ids in by_last_day.values():
        period = periods[patient_ids[0]]
        sums.update(
            _period_sums(
                patient_ids=patient_ids,
                current_start=period.first_day,
                previous_start=period.previous().first_day,
                until=period.last_day,
            )
        )
    return [
        _snapshot(
            patient,
            period_days=period_days,
            period=periods[patient.pk],
            sums=sums.get(patient.pk, {}),
            now=now,
            target_set=target_sets[patient.pk],
            custom_readings=custom_readings.get(patient.pk),
        )
        for patient in patients
    ]


def _snapshot(
    patient,
    *,
    period_days: int,
    period: localtime.Period,
    sums: dict,
    now: datetime,
    target_set: targets.TargetSet,
    custom_readings: selectors.EgvSeries | None,
) -> TriageSnapshot:
    unit = effective_unit(patient, device_unit=patient.device_unit)
    sums = _with_custom_range_counts(
        sums, readings=custom_readings, period=period, target_set=target_set, unit=unit
    )
    current = period_figures(sums.get("current", {}), period=period, unit=unit, target_set=target_set)
    previous = period_figures(sums.get("previous", {}), period=period.previous(), unit=unit)
    valid_from, valid_until = validity(patient, period=period, now=now)
    tir_now, tir_before = current["tir_70_180_percent"], previous["tir_70_180_percent"]
    return TriageSnapshot(
        patient_id=patient.pk,
        period_days=period_days,
        first_day=period.first_day,
        last_day=period.last_day,
        valid_from=valid_from,
        valid_until=valid_until,
        time_zone=patient.timezone,
        unit_choice=patient.glucose_unit,
        unit=unit,
        last_reading_at=patient.last_reading_at,
        sums=sums,
        readings=current["readings"],
        tir_change=None if tir_now is None or tir_before is None else tir_now - tir_before,
        **{column: current[column] for column in SORT_COLUMNS},
        **{column: current[column] for column in TRIAGE_TARGET_COLUMNS},
        **flag_thresholds(target_set),
        target_set=target_set.as_dict(),
    )


UPDATED_FIELDS = [
    field.name
    for field in TriageSnapshot._meta.concrete_fields
    if field.name not in ("id", "patient", "period_days")
]


def build_snapshots(*, patient_ids, period_days=TRIAGE_PERIOD_DAYS, now: datetime | None = None) -> int:
    """(Re)compute the snapshots of these patients for these period lengths. Returns rows written."""
    now = now or timezone.now()
    patient_ids = list(patient_ids)
    written = 0
    with transaction.atomic():
        for start in range(0, len(patient_ids), BATCH):
            patients = _patients(patient_ids[start : start + BATCH], now=now)
            target_sets = selectors.target_sets_of(patient_ids=[p.pk for p in patients])
            custom_readings = _custom_range_readings(
                patients, target_sets=target_sets, longest_days=max(period_days), now=now
            )
            rows = [
                row
                for days in period_days
                for row in _snapshots_for_period(
                    patients,
                    period_days=days,
                    now=now,
                    target_sets=target_sets,
                    custom_readings=custom_readings,
                )
            ]
            TriageSnapshot.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["patient", "period_days"],
                update_fields=UPDATED_FIELDS,
                batch_size=500,
            )
            written += len(rows)
    return written


def fresh_snapshot(*, period_days: int, now: datetime):
    """A subquery for a User queryset: their snapshot for `period_days` can be shown at `now`."""
    return TriageSnapshot.objects.filter(
        _fresh(now=now, time_zone=OuterRef("timezone"), unit_choice=OuterRef("glucose_unit")),
        patient=OuterRef("pk"),
        period_days=period_days,
    )


def fresh_q(*, now: datetime) -> Q:
    """For TriageSnapshot rows (joined to their patient): can be shown at `now`."""
    return _fresh(now=now, time_zone=F("patient__timezone"), unit_choice=F("patient__glucose_unit"))


def _fresh(*, now: datetime, time_zone, unit_choice) -> Q:
    """Still the patient's period (their local day has not rolled over), for the zone and unit
    choice they have now."""
    return Q(valid_from__lte=now, valid_until__gt=now, time_zone=time_zone, unit_choice=unit_choice)


def refresh_stale(patients, *, period_days: int, now: datetime | None = None) -> int:
    """Build the snapshots `patients` (a User queryset) lack or have outgrown for this period.

    Usually nothing (one anti-join query); after a patient's local midnight, their row once.
    """
    now = now or timezone.now()
    stale = list(
        patients.order_by()
        .filter(~Exists(fresh_snapshot(period_days=period_days, now=now)))
        .values_list("pk", flat=True)
    )
    if not stale:
        return 0
    logger.info("triage snapshots: rebuilding %d stale for %d-day periods", len(stale), period_days)
    return build_snapshots(patient_ids=stale, period_days=[period_days], now=now)


def forget(*, patient_id: int) -> None:
    """Drop a patient's snapshots (their device unit changed): the next list rebuilds them."""
    TriageSnapshot.objects.filter(patient_id=patient_id).delete()
