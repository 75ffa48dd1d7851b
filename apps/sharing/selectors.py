"""Reads: who may see whom, a patient's shares and trail, a clinician's triage list."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Subquery,
    Window,
)
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
    patients, its rows read from the snapshots' stored columns.

    The order (which ids make the page, the totals) is computed by one query over every
    matching snapshot (_order) and kept for TRIAGE_ORDER_CACHE_SECONDS; the rows themselves
    are read by id on every look. So what the page shows, and to whom, is always current: a
    shown row no longer shared, or outgrown, and any change to the shares reaching the viewer,
    make the order computed again at once. What may lag by those seconds is only a new sort
    position or count after a sync changed a patient's figures.
    """
    now = now or timezone.now()
    asked = _Asked(period_days, query, sort, descending, page_number, page_size)
    shares = _shares_fingerprint(viewer, now=now)
    key = "triage-order:" + hashlib.sha256(repr((viewer.pk, asked)).encode()).hexdigest()
    kept = cache.get(key)
    if kept and kept["shares"] == shares and timedelta(0) <= now - kept["at"] < _order_kept_for():
        rows, current = _rows_by_id(kept["ids"], viewer=viewer, period_days=period_days, now=now)
        if current:
            return _triage_page_of(rows, kept, page_size=page_size)
    order = _order(viewer=viewer, asked=asked, now=now)
    rows, _ = _rows_by_id(order["ids"], viewer=viewer, period_days=period_days, now=now)
    cache.set(key, {**order, "shares": shares, "at": now}, _order_kept_for().total_seconds())
    return _triage_page_of(rows, order, page_size=page_size)


@dataclass(frozen=True)
class _Asked:
    """What a look at the list asks for: each combination keeps its own order."""

    period_days: int
    query: str
    sort: str
    descending: bool
    page_number: object  # as given: Paginator.get_page makes sense of it
    page_size: int


def _order_kept_for() -> timedelta:  # read when used: tests change the setting
    return timedelta(seconds=settings.TRIAGE_ORDER_CACHE_SECONDS)


def _shares_fingerprint(viewer: User, *, now: datetime) -> tuple:
    """Changes when a share reaching `viewer` starts, ends or expires (or their clinic's
    membership changes): how many there are, and the newest."""
    found = Share.objects.active(now=now).reaching(viewer).aggregate(count=Count("pk"), newest=Max("pk"))
    return found["count"], found["newest"]


def _triage_page_of(rows: list[TriageRow], order: dict, *, page_size: int) -> TriagePage:
    paginator = Paginator([], page_size)
    paginator.count = order["total"]  # known already: no COUNT query
    page = paginator.page(order["number"])
    page.object_list = rows
    return TriagePage(
        page=page, total=order["total"], flagged=order["flagged"], period_labels=order["period_labels"]
    )


def _order(*, viewer: User, asked: _Asked, now: datetime) -> dict:
    """The page's snapshot ids in order, the page number and the totals.

    Usually one query: it sorts and pages the narrow columns the list index holds (an
    index-only scan in PostgreSQL), each of its rows carrying the totals over every matching
    row (window counts) and whether any of those snapshots is outgrown or missing: only then
    are they rebuilt (snapshots.refresh_stale) and the page read again. The check rides on the
    scan the counts make anyway instead of costing its own pass over every patient.
    """
    period_days, page_size = asked.period_days, asked.page_size
    matching = TriageSnapshot.objects.filter(
        period_days=period_days, patient__in=shared_patient_ids(viewer), patient__is_active=True
    ).filter(triage.search_q(asked.query))
    expected = patients_shared_with(viewer).filter(triage.search_q(asked.query, through=""))
    ordering = triage.order_by(key=asked.sort, descending=asked.descending, now=now, vendor=connection.vendor)

    def read(number: int) -> list[dict]:
        offset = (number - 1) * page_size
        return list(
            _with_totals(matching, expected, now=now).order_by(*ordering)[offset : offset + page_size]
        )

    number = _page_number_guess(asked.page_number)
    rows = read(number)
    if not rows or rows[0]["outgrown"] or rows[0]["total"] != rows[0]["expected"]:
        snapshots.refresh_stale(patients_shared_with(viewer), period_days=period_days, now=now)
        rows = read(number)
    paginator = Paginator([], page_size)
    paginator.count = rows[0]["total"] if rows else matching.count()
    page = paginator.get_page(asked.page_number)
    if page.number != number:  # past the last page, or not a page number: as Paginator.get_page
        rows = read(page.number)
    return {
        "ids": [row["pk"] for row in rows],
        "number": page.number,
        "total": paginator.count,
        "flagged": rows[0]["flagged"] if rows else 0,
        "period_labels": _period_labels(matching, rows, period_days=period_days),
    }


def _with_totals(matching, expected, *, now: datetime):
    """The ids, and on every row the same totals over all `matching` rows (a window with no
    partition: every row the query matched, counted before its LIMIT)."""
    return matching.values(
        "pk",
        total=Window(Count("pk")),
        flagged=Window(Count("pk", filter=triage.any_flag_q(now=now))),
        outgrown=Window(Count("pk", filter=~snapshots.fresh_q(now=now))),
        first_last_day=Window(Min("last_day")),
        final_last_day=Window(Max("last_day")),
        expected=Subquery(
            expected.order_by().values(n=Func("pk", function="COUNT", output_field=IntegerField()))
        ),
    )


def _rows_by_id(ids: list[int], *, viewer: User, period_days: int, now: datetime) -> tuple[list, bool]:
    """The rows of these snapshots still shared with `viewer`, in this order, and whether they
    all are, each fresh for `now`."""
    found = TriageSnapshot.objects.filter(
        pk__in=ids, period_days=period_days, patient__in=shared_patient_ids(viewer), patient__is_active=True
    ).values(
        "pk",
        *triage.ROW_COLUMNS,
        full_name=F("patient__full_name"),
        email=F("patient__email"),
        fresh=ExpressionWrapper(snapshots.fresh_q(now=now), output_field=BooleanField()),
    )
    by_id = {row["pk"]: row for row in found}
    rows = [
        triage.row_from_columns(by_id[pk], name=by_id[pk]["full_name"], email=by_id[pk]["email"], now=now)
        for pk in ids
        if pk in by_id
    ]
    return rows, len(by_id) == len(ids) and all(row["fresh"] for row in by_id.values())


def _page_number_guess(page_number) -> int:
    """The page Paginator.get_page will give when the number is in range (checked after)."""
    try:
        return max(int(page_number), 1)
    except (TypeError, ValueError):
        return 1


def _period_labels(matching, rows: list[dict], *, period_days: int) -> list[str]:
    """The labels of the distinct periods of the matching patients' local days (patients
    around the world span at most three): the earliest and latest last day the page's query
    found, unless they are more than a day apart and another may lie between."""
    if not rows:
        return []
    first, final = rows[0]["first_last_day"], rows[0]["final_last_day"]
    days = {first, final}
    if (final - first).days > 1:
        days = set(matching.order_by().values_list("last_day", flat=True).distinct())
    return sorted(localtime.period_ending(day, days=period_days).label for day in days)


def is_digest_subscriber(clinician: User) -> bool:
    return DigestSubscription.objects.filter(clinician=clinician).exists()


def digest_subscribers():
    """Active clinicians who asked for the weekly digest email."""
    return User.objects.filter(digest_subscription__isnull=False, is_active=True, role=User.Role.CLINICIAN)
