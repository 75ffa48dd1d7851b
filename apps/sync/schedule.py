"""When each connection syncs: the rows the budget-aware scheduler (apps/sync/scheduler.py)
reads and writes.

Beat runs `sync.enqueue_due_syncs` every minute; plan_tick loads every active connection's
SyncSchedule row, lets the scheduler choose within the Dexcom budget, and claims each choice
with a conditional UPDATE on queued_at, so two beats (or a beat restarted mid-minute) never
queue one connection twice. A claim ends when its run reports back (record_outcome), when the
broker refused the task (release_claim), or after the claim timeout.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.sync import budget
from apps.sync.models import SyncRun, SyncSchedule
from apps.sync.scheduler import FULL, QUICK, Candidate, Policy, choose, in_flight_calls

# --- The budget-aware tick (apps/sync/scheduler.py decides; this reads and writes the rows) ------

WATCH_PATIENT_PAGE = timedelta(minutes=15)  # a page open now counts as watched for this long
WATCH_TRIAGE_LIST = timedelta(hours=1)


def policy_from_settings():

    return Policy(
        watched_every=timedelta(seconds=settings.SYNC_WATCHED_EVERY_SECONDS),
        unwatched_every=timedelta(seconds=settings.SYNC_UNWATCHED_EVERY_SECONDS),
        unwatched_limit=timedelta(seconds=settings.SYNC_UNWATCHED_EVERY_SECONDS) * 1.2,
        backfill_share=settings.SYNC_BACKFILL_SHARE,
    )


def _ensure_schedule_rows() -> None:

    missing = DexcomConnection.objects.filter(
        status=DexcomConnection.Status.ACTIVE, schedule__isnull=True
    ).values_list("pk", flat=True)
    SyncSchedule.objects.bulk_create(
        [SyncSchedule(connection_id=pk) for pk in missing], ignore_conflicts=True
    )


def load_candidates(*, now: datetime, policy) -> tuple[list, dict[int, str]]:
    """Every active connection as the scheduler sees it, and the plans of those queued."""

    _ensure_schedule_rows()
    rows = SyncSchedule.objects.filter(connection__status=DexcomConnection.Status.ACTIVE).values_list(
        "connection_id",
        "watched_until",
        "fresh_as_of",
        "last_range_at",
        "last_full_at",
        "queued_at",
        "queued_plan",
        "last_attempt_at",
        "connection__backfill_completed_at",
    )
    candidates, plans = [], {}
    stale_claim = now - policy.claim_timeout
    for pk, watched_until, fresh, ranged, full, queued_at, plan, attempt, backfilled in rows:
        queued = queued_at is not None and queued_at > stale_claim
        if queued:
            plans[pk] = plan
        candidates.append(
            Candidate(
                connection_id=pk,
                watched=watched_until is not None and watched_until > now,
                fresh_as_of=fresh,
                last_range_at=ranged,
                last_full_at=full,
                backfilling=backfilled is None,
                queued=queued,
                last_attempt_at=attempt,
            )
        )
    return candidates, plans


def claim(*, connection_id: int, plan: str, now: datetime, policy) -> bool:
    """Mark one connection queued; False when another tick got it first (no double sync)."""

    return bool(
        SyncSchedule.objects.filter(connection_id=connection_id)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=now - policy.claim_timeout))
        .update(queued_at=now, queued_plan=plan, last_attempt_at=now)
    )


def plan_tick(*, now: datetime | None = None):
    """This minute's choices, claimed; the connections left waiting are marked so."""

    now = now or timezone.now()
    policy = policy_from_settings()
    candidates, plans = load_candidates(now=now, policy=policy)
    available = budget.calls_per_minute() - in_flight_calls(candidates, plans)
    tick = choose(candidates, now=now, calls_available=max(0.0, available), policy=policy)
    chosen = [
        c for c in tick.chosen if claim(connection_id=c.connection_id, plan=c.plan, now=now, policy=policy)
    ]
    if tick.waiting:
        SyncSchedule.objects.filter(connection_id__in=tick.waiting, waiting_since__isnull=True).update(
            waiting_since=now
        )
    return chosen, tick.waiting


def release_claim(*, connection_id: int) -> None:

    SyncSchedule.objects.filter(connection_id=connection_id).update(queued_at=None)


def record_outcome(
    *, connection_id: int, plan: str, run, waiting: bool = False, release: bool = True
) -> None:
    """After a run: how fresh the data now is, or that it waits for budget; the claim ends
    (release=False: the run was not the scheduler's, whose claim, if any, stays)."""

    updates = {"queued_at": None} if release else {}
    if waiting:
        updates["waiting_since"] = timezone.now()
    elif run is not None and run.status == SyncRun.Status.SUCCEEDED:
        updates.update(fresh_as_of=run.started_at, waiting_since=None)
        if plan != QUICK:
            updates["last_range_at"] = run.started_at
        if plan == FULL or run.kind == SyncRun.Kind.BACKFILL:
            updates.update(last_full_at=run.started_at, last_range_at=run.started_at)
    if updates:
        SyncSchedule.objects.filter(connection_id=connection_id).update(**updates)


def mark_watched(*, patient_ids, for_how_long: timedelta, now: datetime | None = None) -> int:
    """Someone is looking at these patients: sync them at the watched pace for a while.

    One UPDATE whatever the number of patients, writing only rows whose mark would otherwise
    lapse within half the period, so a list viewed again and again writes a few times an hour.
    A patient whose data is older than the watched pace is taken at the next tick (within a
    minute). Rows are made by the tick for every active connection.
    """

    now = now or timezone.now()
    until = now + for_how_long
    return (
        SyncSchedule.objects.filter(connection__user_id__in=list(patient_ids))
        .filter(Q(watched_until__isnull=True) | Q(watched_until__lt=until - for_how_long / 2))
        .update(watched_until=until)
    )


def waiting_for_dexcom(*, connection_id: int) -> bool:

    return SyncSchedule.objects.filter(connection_id=connection_id, waiting_since__isnull=False).exists()


def note_page_view(*, connection, now: datetime | None = None) -> bool:
    """A patient page was opened: mark the connection watched; True if it waits for Dexcom.

    `connection` comes with its schedule row (select_related("schedule")), so a page view adds
    no query; the UPDATE happens a few times an hour. A connection without a row yet (made
    since the last tick, which creates them) is marked from the next view.
    """

    now = now or timezone.now()
    try:
        row = connection.schedule
    except SyncSchedule.DoesNotExist:
        return False
    if row.watched_until is None or row.watched_until < now + WATCH_PATIENT_PAGE / 2:
        SyncSchedule.objects.filter(pk=row.pk).update(watched_until=now + WATCH_PATIENT_PAGE)
    return row.waiting_since is not None
