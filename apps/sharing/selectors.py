"""Reads: who may see whom, a patient's shares and trail, a clinician's triage list."""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import User
from apps.glucose import localtime, snapshots
from apps.glucose.models import TriageSnapshot
from apps.sharing import triage
from apps.sharing.models import AuditEntry, DigestSubscription, Invitation, Share, ShareCode
from apps.sharing.triage import TriageRow

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
# From TriageSnapshot (apps/glucose/snapshots.py): one row per patient and period length, kept
# with the DailySummary rows, so a list of thousands sorts, counts and pages in SQL.


def _triage_snapshots(*, viewer: User, period_days: int, now: datetime):
    """The snapshots of the patients shared with `viewer`, each fresh for `now` (the missing
    or outgrown ones rebuilt first)."""
    snapshots.refresh_stale(patients_shared_with(viewer), period_days=period_days, now=now)
    return TriageSnapshot.objects.filter(
        period_days=period_days, patient__in=shared_patient_ids(viewer), patient__is_active=True
    )


def triage_rows(*, viewer: User, period_days: int, now: datetime | None = None) -> list[TriageRow]:
    """Every row of `viewer`'s list, in the patients' email order (for tests and exports; the
    page itself asks triage_page for one page)."""
    now = now or timezone.now()
    rows = _triage_snapshots(viewer=viewer, period_days=period_days, now=now)
    rows = rows.select_related("patient").order_by("patient__email")
    return [triage.row_from_snapshot(snapshot, now=now) for snapshot in rows]


@dataclass
class TriagePage:
    page: Page  # of TriageRows
    total: int  # patients matching the search
    flagged: int  # of which with at least one flag
    period_labels: list[str]


def triage_page(
    *,
    viewer: User,
    period_days: int,
    query: str = "",
    sort: str = "attention",
    descending: bool = True,
    page_number=None,
    page_size: int = 100,
    now: datetime | None = None,
) -> TriagePage:
    """One page of `viewer`'s list, searched, sorted and counted in SQL whatever the number of
    patients, with rows computed for the page only.

    Besides the stale check: one query counts per period (the totals and the period labels),
    one sorts and pages the narrow columns (an index-only scan in PostgreSQL), one fetches the
    page's 100 rows with their sums and patients.
    """
    now = now or timezone.now()
    matching = _triage_snapshots(viewer=viewer, period_days=period_days, now=now).filter(
        triage.search_q(query)
    )
    per_period = list(
        matching.order_by()
        .values("last_day")
        .annotate(total=Count("pk"), flagged=Count("pk", filter=triage.any_flag_q(now=now)))
    )
    total = sum(group["total"] for group in per_period)
    ordered_ids = matching.order_by(
        *triage.order_by(key=sort, descending=descending, now=now, vendor=connection.vendor)
    ).values_list("pk", flat=True)
    paginator = Paginator(ordered_ids, page_size)
    paginator.count = total  # known already: no second COUNT query
    page = paginator.get_page(page_number)
    ids = list(page.object_list)
    by_id = TriageSnapshot.objects.select_related("patient").in_bulk(ids)
    page.object_list = [triage.row_from_snapshot(by_id[pk], now=now) for pk in ids]
    return TriagePage(
        page=page,
        total=total,
        flagged=sum(group["flagged"] for group in per_period),
        period_labels=sorted(
            localtime.period_ending(group["last_day"], days=period_days).label for group in per_period
        ),
    )


def is_digest_subscriber(clinician: User) -> bool:
    return DigestSubscription.objects.filter(clinician=clinician).exists()


def digest_subscribers():
    """Active clinicians who asked for the weekly digest email."""
    return User.objects.filter(digest_subscription__isnull=False, is_active=True, role=User.Role.CLINICIAN)
