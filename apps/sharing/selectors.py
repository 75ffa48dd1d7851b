"""Reads: who may see whom, a patient's shares and trail, a clinician's triage list."""

from datetime import date, timedelta

from django.db.models import Case, Count, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.glucose.models import DailySummary
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

_SUMMED = [
    "readings", "value_sum", "value_sq_sum", "below_54", "from_54_to_69",
    "from_70_to_180", "from_181_to_250", "above_250",
]


def _period_sums(*, viewer: User, current_start: date, previous_start: date, until: date):
    """Per patient and period ("cur_"/"prev_"): the summed DailySummary columns, in one query.

    Grouping by (patient, period) rather than filtering each sum twice halves the aggregates
    PostgreSQL computes.
    """
    period = Case(When(day__gte=current_start, then=Value("cur_")), default=Value("prev_"))
    rows = (
        DailySummary.objects.filter(
            patient_id__in=shared_patient_ids(viewer), day__gte=previous_start, day__lte=until
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
        prefix = row["period"]
        patient_sums = sums.setdefault(row["patient_id"], {})
        patient_sums[prefix + "days_with_data"] = row["days_with_data"]
        for name in _SUMMED:
            patient_sums[prefix + name] = row[f"sum_{name}"]
    return sums


def triage_rows(*, viewer: User, period_days: int, today: date) -> list[TriageRow]:
    """One row per patient shared with `viewer`: this period, the one before, the last reading.

    Two queries whatever the number of patients: the patients with their newest reading time,
    then the day sums of both periods aggregated per patient in SQL (DailySummary, never EGVs).
    """
    current_start = today - timedelta(days=period_days - 1)
    previous_start = current_start - timedelta(days=period_days)
    newest_reading = (
        DailySummary.objects.filter(patient=OuterRef("pk"), last_reading_at__isnull=False)
        .order_by("-day")
        .values("last_reading_at")[:1]
    )
    patients = (
        patients_shared_with(viewer)
        .annotate(last_reading_at=Subquery(newest_reading))
        .values("id", "email", "full_name", "last_reading_at")
    )
    sums = _period_sums(
        viewer=viewer, current_start=current_start, previous_start=previous_start, until=today
    )
    now = timezone.now()
    return [
        triage_row(patient=patient, sums=sums.get(patient["id"], {}), period_days=period_days, now=now)
        for patient in patients
    ]
