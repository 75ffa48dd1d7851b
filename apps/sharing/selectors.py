"""Reads: who may see whom, a patient's shares and trail, a clinician's triage list."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.glucose import localtime, metrics
from apps.glucose import selectors as glucose_selectors
from apps.glucose.models import DailySummary
from apps.glucose.units import effective_unit
from apps.sharing.models import AuditEntry, Invitation, Share, ShareCode
from apps.sharing.triage import TriageRow, triage_row

VIEW_ALL_PERMISSION = "sharing.view_all_patient_data"


def can_view_all_patients(viewer: User) -> bool:
    """Support staff: is_staff *and* the explicit permission (superusers hold every permission)."""
    return viewer.is_active and viewer.is_staff and viewer.has_perm(VIEW_ALL_PERMISSION)


def shared_patient_ids(viewer: User):
    """Ids of patients with an active share reaching `viewer` (a subquery, not a list)."""
    return Share.objects.active().reaching(viewer).values("patient_id")


def patients_shared_with(viewer: User):
    return User.objects.filter(pk__in=shared_patient_ids(viewer), is_active=True)


def patient_visible_to(*, viewer: User, patient_id: int) -> User | None:
    """The patient if `viewer` may see their data now, else None. Read fresh on every call."""
    if not viewer.is_authenticated or not viewer.is_active:
        return None
    if viewer.pk == patient_id:
        return viewer
    if can_view_all_patients(viewer):
        return User.objects.filter(pk=patient_id).first()
    return patients_shared_with(viewer).filter(pk=patient_id).first()


def shares_of_patient(patient: User):
    return Share.objects.filter(patient=patient).select_related("clinician", "clinic")


def shares_reaching(viewer: User):
    """Active shares a clinician receives, directly or through a clinic."""
    return (
        Share.objects.active()
        .reaching(viewer)
        .select_related("patient", "clinic")
        .order_by("patient__full_name", "patient__email")
        .distinct()
    )


def pending_invitations_of(patient: User):
    return Invitation.objects.filter(
        patient=patient, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def pending_share_codes_of(patient: User):
    return ShareCode.objects.filter(
        patient=patient, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def audit_entries_about(patient: User):
    """Everything recorded about `patient`'s data, newest first."""
    return AuditEntry.objects.filter(patient=patient).select_related("actor")


# --- triage -----------------------------------------------------------------------------------------

_SUMMED = [*metrics.SUM_COLUMNS, *metrics.COUNT_COLUMNS]


def _period_sums(*, patient_ids: list[int], current_start: date, previous_start: date,
                 until: date) -> dict:
    """Per patient and period ("current"/"previous"): the summed DailySummary columns, in one
    query.

    Grouping by (patient, period) rather than filtering each sum twice halves the aggregates
    PostgreSQL computes.
    """
    period = Case(When(day__gte=current_start, then=Value("current")), default=Value("previous"))
    rows = (
        DailySummary.objects.filter(
            patient_id__in=patient_ids, day__gte=previous_start, day__lte=until
        )
        .annotate(period=period)
        .values("patient_id", "period")
        .annotate(
            days_with_data=Count("id", filter=Q(readings__gt=0)),
            **{f"sum_{name}": Sum(name) for name in _SUMMED},
        )
        .order_by()
    )
    sums: dict[int, dict] = {}
    for row in rows:
        period_sums = {name: row[f"sum_{name}"] for name in _SUMMED}
        period_sums["days_with_data"] = row["days_with_data"]
        sums.setdefault(row["patient_id"], {})[row["period"]] = period_sums
    return sums


def _patient_period(patient, *, period_days: int, now: datetime) -> localtime.Period:
    """The patient's own last `period_days` full local days: today is still filling up and
    would read as poor wear, and "today" is the patient's, not the clinician's."""
    today = localtime.local_today(patient, now=now, latest_delta_seconds=patient.latest_delta_seconds)
    return localtime.period_ending(today - timedelta(days=1), days=period_days, tzinfo=patient.tzinfo)


def triage_rows(*, viewer: User, period_days: int, now: datetime | None = None) -> list[TriageRow]:
    """One row per patient shared with `viewer`: this period, the one before, the last reading.

    One query for the patients (newest reading time, offset and device unit), then one for the
    day sums of both periods aggregated per patient in SQL (DailySummary, never EGVs) for each
    distinct local "yesterday" among them (patients around the world span at most three).
    """
    now = now or timezone.now()
    # Summaries written under an old rule may date a day's last reading ahead of the clock.
    newest_reading = (
        DailySummary.objects.filter(
            patient=OuterRef("pk"), last_reading_at__isnull=False,
            last_reading_at__lte=localtime.newest_possible_reading_time(now),
        )
        .order_by("-day")
        .values("last_reading_at")[:1]
    )
    patients = list(glucose_selectors.with_local_clock_and_unit(
        patients_shared_with(viewer).annotate(last_reading_at=Subquery(newest_reading)), now=now
    ))
    periods = {p.pk: _patient_period(p, period_days=period_days, now=now) for p in patients}
    sums: dict[int, dict] = {}
    by_last_day: dict[date, list[int]] = defaultdict(list)
    for patient_id, period in periods.items():
        by_last_day[period.last_day].append(patient_id)
    for patient_ids in by_last_day.values():
        period = periods[patient_ids[0]]
        sums.update(_period_sums(
            patient_ids=patient_ids, current_start=period.first_day,
            previous_start=period.previous().first_day, until=period.last_day,
        ))
    return [
        triage_row(
            patient=patient, sums=sums.get(patient.pk, {}), period=periods[patient.pk],
            unit=effective_unit(patient, device_unit=patient.device_unit), now=now,
        )
        for patient in patients
    ]
