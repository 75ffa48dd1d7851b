"""The sync engine: bring one patient's Dexcom data up to date, safely and idempotently.

A run takes the connection's lease, asks dataRange first, then fetches only the record types
with data past their cursor, in windows of at most 30 days with a small overlap. dataRange asked
with lastSyncTime reports what ARRIVED at Dexcom since then, so a stretch uploaded late (a
backfilled signal gap, a receiver docked after days) shows as a start before our cursor: the run
then fetches from that start. Fetching starts no earlier than dataRange's start and ends no
later than its end (no empty windows). Each window's
rows, quarantined records, cursor move and daily summaries commit in one transaction, so a crash
at any point resumes from what is really stored and a rerun rewrites the same rows without
duplicating anything (apps.glucose.ingest, the one writer of record tables: upserts on
(patient, record_id), and a reading imported from Clarity earlier is replaced by its synced copy). Events are re-read for the last 24 hours on
every run because Dexcom edits and deletes them in place. Backfill is the same run starting from
cursors set SYNC_BACKFILL_DAYS back.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.dexcom import client, tokens
from apps.dexcom.api import HTTP_API, DexcomApi
from apps.dexcom.models import DexcomConnection
from apps.glucose import ingest
from apps.glucose.models import DataRange, Egv
from apps.sync import devices as device_rows
from apps.sync import quarantine
from apps.sync import records as record_rows
from apps.sync.budget import BACKFILL as BACKFILL_LANE
from apps.sync.budget import STEADY as STEADY_LANE
from apps.sync.budget import RequestBudgetExhausted
from apps.sync.calls import RunCalls
from apps.sync.lease import LeaseLost, acquire_sync_lease, release_sync_lease, renew_sync_lease
from apps.sync.models import SyncCursor, SyncRun

logger = logging.getLogger(__name__)

WINDOW = client.MAX_WINDOW
OVERLAP = timedelta(minutes=10)  # re-read a little of the last window: Dexcom's bounds are fuzzy
EVENT_EDIT_HORIZON = timedelta(hours=24)  # Dexcom lets users edit or delete events for 24 h
DEVICES_EVERY = timedelta(hours=1)
LAST_SYNC_TIME_LIMIT = timedelta(days=90)  # lastSyncTime is unreliable for older data
RANGE_TYPES = ("egvs", "calibrations", "events")  # the types dataRange reports
LATE_CHECKED_TYPES = ("egvs", "calibrations")  # lastSyncTime follows their cursors
CURSOR_TYPES = ("egvs", "calibrations", "events", "alerts")
DEVICES = "devices"


@dataclass(frozen=True)
class FetchPlan:
    """Which endpoints a run calls (the scheduler picks one; see apps/sync/scheduler.py).

    FULL is everything above. STANDARD asks dataRange and fetches only the types it says
    changed: no 24 h events re-read, no alerts, no devices (FULL catches them up from their own
    cursors). QUICK skips dataRange too and reads the EGVs past the cursor: one call, used
    between STANDARD runs, which still see late uploads (lastSyncTime trails the EGV cursor).
    """

    name: str
    data_range: bool = True
    events_reread: bool = True
    alerts: bool = True
    devices: bool = True


FULL = FetchPlan("full")
STANDARD = FetchPlan("standard", events_reread=False, alerts=False, devices=False)
QUICK = FetchPlan("quick", data_range=False, events_reread=False, alerts=False, devices=False)
PLANS = {plan.name: plan for plan in (FULL, STANDARD, QUICK)}


@dataclass
class RunState:
    connection: DexcomConnection
    run: SyncRun
    owner: str
    calls: RunCalls
    now: datetime
    plan: FetchPlan = FULL
    written: dict = field(default_factory=dict)
    # dataRange was asked with lastSyncTime: its starts are of data that arrived since, and may
    # lie before a cursor (late uploads). Without it, they are the start of all history.
    ranges_by_arrival: bool = False
    readings_before: int = 0  # the patient's EGVs when the run began (did any arrive?)


# --- Public services ----------------------------------------------------------------------------


def sync_connection(
    *, connection_id: int, plan: FetchPlan = FULL, api: DexcomApi = HTTP_API
) -> SyncRun | None:
    """One run for one connection; None when another run holds it or it is not active.

    `api` is what answers for Dexcom: the HTTP client unless a caller (a test) passes another.

    Dexcom errors are recorded on the run and the connection, then raised so the caller (the
    Celery task) can decide to retry; a refused grant is recorded and not raised.
    """
    owner = uuid.uuid4().hex
    if not acquire_sync_lease(connection_id=connection_id, owner=owner):
        logger.info("Sync of connection %s skipped: running elsewhere or not active", connection_id)
        return None
    try:
        return _run(connection_id=connection_id, owner=owner, plan=plan, api=api)
    finally:
        release_sync_lease(connection_id=connection_id, owner=owner)


def backfill_connection(
    *, connection_id: int, days: int | None = None, restart: bool = False, api: DexcomApi = HTTP_API
) -> SyncRun | None:
    """Fetch history (SYNC_BACKFILL_DAYS by default). restart=True refetches everything."""
    connection = DexcomConnection.objects.get(pk=connection_id)
    if restart or not SyncCursor.objects.filter(patient_id=connection.user_id).exists():
        reset_sync_state(connection_id=connection_id, days=days)
    return sync_connection(connection_id=connection_id, api=api)


def reset_sync_state(*, connection_id: int, days: int | None = None) -> None:
    """Put every cursor `days` back so the next run backfills; shows progress from 0."""
    days = days or settings.SYNC_BACKFILL_DAYS
    connection = DexcomConnection.objects.get(pk=connection_id)
    origin = (timezone.now() - timedelta(days=days)).replace(microsecond=0)
    with transaction.atomic():
        SyncCursor.objects.filter(patient_id=connection.user_id).delete()
        SyncCursor.objects.bulk_create(
            [
                SyncCursor(patient_id=connection.user_id, record_type=t, synced_until=origin)
                for t in CURSOR_TYPES
            ]
        )
        DexcomConnection.objects.filter(pk=connection_id).update(
            backfill_total_days=days, backfill_done_days=0, backfill_completed_at=None
        )


# --- One run ------------------------------------------------------------------------------------


def _run(*, connection_id: int, owner: str, plan: FetchPlan, api: DexcomApi) -> SyncRun:
    connection = DexcomConnection.objects.select_related("user").get(pk=connection_id)
    # We hold the lease, so a run still marked running was cut short (worker killed, time limit).
    SyncRun.objects.filter(connection=connection, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        errors=["the worker stopped before finishing (killed or timed out); the next run resumed"],
    )
    run = SyncRun.objects.create(
        connection=connection,
        patient_id=connection.user_id,
        kind=SyncRun.Kind.INCREMENTAL if connection.backfill_completed_at else SyncRun.Kind.BACKFILL,
    )
    if run.kind == SyncRun.Kind.BACKFILL:
        plan = FULL  # history needs every type
    DexcomConnection.objects.filter(pk=connection_id).update(last_sync_attempt_at=run.started_at)
    state = RunState(
        connection=connection,
        run=run,
        owner=owner,
        calls=RunCalls(
            connection_id=connection_id,
            base_url=connection.base_url,
            heartbeat=lambda: renew_sync_lease(connection_id=connection_id, owner=owner),
            lane=BACKFILL_LANE if run.kind == SyncRun.Kind.BACKFILL else STEADY_LANE,
            api=api,
        ),
        now=timezone.now(),
        plan=plan,
        readings_before=_readings_held(connection.user_id),
    )
    try:
        _sync(state)
    except RequestBudgetExhausted:
        # Not an error: what was fetched is committed, the rest waits for budget. The patient
        # reads "waiting for Dexcom"; the scheduler queues the connection again.
        _finish(state, waiting=True)
        raise
    except client.DexcomGrantRefused:
        _finish(state, error="Dexcom refused the refresh token: the patient must reconnect")
        return run
    except tokens.ConnectionNotActive as error:
        _finish(state, error=str(error))
        return run
    except client.DexcomAccessRefused as error:
        # The tokens stay (nothing to refresh) and a quick retry would be refused the same way:
        # the patient is told, and the next scheduled sync tries again.
        _finish(state, error=str(error), patient_message=_plain_words(error))
        return run
    except (client.DexcomError, LeaseLost) as error:
        _finish(state, error=str(error), patient_message=_plain_words(error))
        raise
    except Exception as error:
        _finish(state, error=f"{type(error).__name__}: {error}", patient_message=UNEXPECTED)
        raise
    _finish(state)
    return run


def _sync(state: RunState) -> None:
    patient_id = state.connection.user_id
    cursors = _cursors(patient_id, state.now)
    if not state.plan.data_range:
        _sync_egvs_past_cursor(state, cursors)
        return
    last_sync_time = _last_sync_time(cursors, state.now)
    state.ranges_by_arrival = last_sync_time is not None
    data_range = state.calls.data_range(last_sync_time=last_sync_time)
    known_events_end = _stored_events_end(patient_id)
    _store_data_range(patient_id, data_range)
    fetched_any = False
    for record_type in ("egvs", "calibrations"):
        fetched_any |= _sync_range_type(state, record_type, data_range, cursors)
    if state.plan.events_reread:
        _sync_events(state, data_range, cursors, known_end=known_events_end)
    else:
        _sync_range_type(state, "events", data_range, cursors)
    if state.plan.alerts:
        _sync_alerts(state, data_range, cursors)
    _advance_quiet_cursors(state, data_range, cursors)
    if state.plan.devices and _devices_due(cursors, state.now, something_new=fetched_any):
        _sync_devices(state)


def _sync_egvs_past_cursor(state: RunState, cursors) -> None:
    """QUICK: the readings past the EGV cursor, in one call for a recent cursor. The cursor moves
    only to just past the newest reading received, so a reading uploaded later than its
    neighbours is still ahead of it (and dataRange's lastSyncTime, which trails the cursor)."""
    for window_start, window_end in _windows(cursors["egvs"] - OVERLAP, state.now):
        page = state.calls.records(record_type="egvs", start=window_start, end=window_end)
        rows, bad = record_rows.rows_from_records(
            "egvs", page.records, patient_id=state.connection.user_id, now=state.now
        )
        newest = max((row["system_time"] for row in rows), default=None)
        cursor_to = newest + timedelta(seconds=1) if newest else cursors["egvs"]
        _commit_window(state, "egvs", rows, bad, cursor_to=cursor_to)
        cursors["egvs"] = max(cursors["egvs"], cursor_to)


def _cursors(patient_id: int, now: datetime) -> dict[str, datetime]:
    cursors = dict(
        SyncCursor.objects.filter(patient_id=patient_id).values_list("record_type", "synced_until")
    )
    for record_type, synced_until in list(cursors.items()):
        if synced_until > now + record_rows.FUTURE_TOLERANCE:
            cursors[record_type] = _reset_future_cursor(patient_id, record_type, synced_until, now)
            if cursors[record_type] is None:
                del cursors[record_type]
    missing = [t for t in CURSOR_TYPES if t not in cursors]
    if missing:
        # A connection made before cursors existed: start them at the backfill horizon.
        origin = timezone.now() - timedelta(days=settings.SYNC_BACKFILL_DAYS)
        origin = origin.replace(microsecond=0)
        for record_type in missing:
            SyncCursor.objects.get_or_create(
                patient_id=patient_id, record_type=record_type, defaults={"synced_until": origin}
            )
            cursors[record_type] = origin
    return cursors


def _reset_future_cursor(patient_id: int, record_type: str, synced_until: datetime, now: datetime):
    """A cursor ahead of our clock (a server clock that ran fast) would skip everything Dexcom
    has until that moment: move it back to just after the newest record we hold of its type,
    or to the backfill horizon without any. The devices cursor is dropped (devices are due)."""
    cursors = SyncCursor.objects.filter(patient_id=patient_id, record_type=record_type)
    model = ingest.MODELS.get(record_type)
    if model is None:
        cursors.delete()
        sane = None
    else:
        newest = model.objects.filter(patient_id=patient_id, system_time__lte=now).aggregate(
            newest=Max("system_time")
        )["newest"]
        sane = newest + timedelta(seconds=1) if newest else now - timedelta(days=settings.SYNC_BACKFILL_DAYS)
        cursors.update(synced_until=sane)
    logger.warning(
        "Patient %s: the %s cursor %s was in the future (clock skew); reset to %s",
        patient_id,
        record_type,
        synced_until,
        sane or "due now",
    )
    return sane


def _last_sync_time(cursors: dict, now: datetime) -> datetime | None:
    """Dexcom reports what arrived after this, as one range per type starting at its oldest
    record. So it must not be older than the EGV cursor needs: from a day back (the events
    cursor, which the 24 h re-read keeps there) the range would start at a reading we hold,
    and a stretch uploaded late in the middle of it would go unseen. Events need no say here:
    they are re-read from 24 h back up to the newest event dataRange ever reported."""
    oldest = min(cursors[t] for t in LATE_CHECKED_TYPES)
    if now - oldest > LAST_SYNC_TIME_LIMIT:
        return None  # Dexcom answers lastSyncTime reliably only for recent data
    return oldest - OVERLAP


def _stored_events_end(patient_id: int) -> datetime | None:
    return DataRange.objects.filter(patient_id=patient_id).values_list("events_end", flat=True).first()


def _store_data_range(patient_id: int, data_range: client.DataRange) -> None:
    row, _ = DataRange.objects.get_or_create(patient_id=patient_id)
    for record_type in RANGE_TYPES:
        span = data_range.span(record_type)
        if span is None:
            continue  # with lastSyncTime a missing block means "nothing new", not "no data"
        start_field = f"{record_type}_start"
        if getattr(row, start_field) is None or span.start < getattr(row, start_field):
            setattr(row, start_field, span.start)
        setattr(row, f"{record_type}_end", span.end)
    row.save()


def _windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    # Whole seconds: Dexcom's dates have no fraction, and a cursor a fraction past the end we
    # really asked for would claim a record at that exact second that was never fetched.
    start = start.replace(microsecond=0)
    if end.microsecond:
        end = end.replace(microsecond=0) + timedelta(seconds=1)
    windows = []
    while start < end:
        windows.append((start, min(start + WINDOW, end)))
        start = windows[-1][1]
    return windows


def _late_start(state: RunState, record_type: str, span: client.TimeSpan, cursor: datetime):
    """Where data that arrived late starts, or None.

    Asked with lastSyncTime, dataRange reports what arrived since, in one range per type: a
    start before our cursor is a stretch uploaded late (or one we fetched on the previous run
    that arrived just before it, reported again while lastSyncTime trails its arrival). Going
    back costs no extra call when the run fetches new data anyway (one window holds both), so
    then it always goes back. With nothing new past the cursor it goes back only when we lack
    the stretch's first record, which keeps an idle patient at two calls.
    """
    if not state.ranges_by_arrival or span.start >= cursor:
        return None
    if span.end < cursor and _holds_record_at(state, record_type, span.start):
        return None
    return span.start


def _holds_record_at(state: RunState, record_type: str, moment: datetime) -> bool:
    model = ingest.MODELS[record_type]
    return model.objects.filter(patient_id=state.connection.user_id, system_time=moment).exists()


def _fetch_start(state: RunState, record_type: str, span: client.TimeSpan, cursor: datetime) -> datetime:
    """From the cursor (minus the overlap), from dataRange's start when that is later (nothing
    lies between), or from a late upload's start, never before the backfill horizon."""
    start = cursor - OVERLAP
    if span.start > cursor:
        return span.start
    late = _late_start(state, record_type, span, cursor)
    if late is None or late >= start:
        return start
    if not _holds_record_at(state, record_type, late):
        logger.info(
            "Connection %s: %s uploaded late from %s (cursor %s); fetching from there",
            state.connection.pk,
            record_type,
            late,
            cursor,
        )
    return max(late, state.now - timedelta(days=settings.SYNC_BACKFILL_DAYS))


def _sync_range_type(state: RunState, record_type: str, data_range, cursors) -> bool:
    span = data_range.span(record_type)
    if span is None:
        return False
    cursor = cursors[record_type]
    if span.end < cursor and _late_start(state, record_type, span, cursor) is None:
        return False  # only the overlap we already hold
    # The end bound may be exclusive: one second past the newest record includes it.
    end = min(span.end + timedelta(seconds=1), state.now)
    start = _fetch_start(state, record_type, span, cursor)
    for window_start, window_end in _windows(start, end):
        _fetch_and_store(state, record_type, window_start, window_end)
        cursors[record_type] = max(cursors[record_type], window_end)
        if record_type == "egvs":
            _update_backfill_progress(state, cursors["egvs"], span.end)
    return True


def _sync_events(state: RunState, data_range, cursors, *, known_end: datetime | None) -> None:
    """Events with new data, plus always the last 24 h: edits and deletions keep the recordId."""
    span = data_range.span("events")
    cursor = cursors["events"]
    reread_from = state.now - EVENT_EDIT_HORIZON
    new_end = cursor
    start = min(cursor - OVERLAP, reread_from)
    if span is not None:
        if span.end >= cursor:
            new_end = min(span.end + timedelta(seconds=1), state.now)
        start = min(_fetch_start(state, "events", span, cursor), reread_from)
    # Every event of the last 24 h is read again, up to the newest event Dexcom has reported
    # (none lies past it). The cursor moves as far as dataRange vouched for, and at least to
    # 24 h ago (every later run re-reads from there), so a patient who stopped logging events
    # does not cost more calls each run.
    ends = [moment + timedelta(seconds=1) for moment in (known_end, span and span.end) if moment]
    end = min(max([new_end, *ends]) if ends else state.now, state.now)
    settled = max(new_end, reread_from)
    for window_start, window_end in _windows(start, end):
        _fetch_and_store(state, "events", window_start, window_end, cursor_to=min(window_end, settled))
    cursors["events"] = max(cursor, settled)


def _sync_alerts(state: RunState, data_range, cursors) -> None:
    # dataRange has no alerts block: alerts come with uploads, so fetch them up to the newest
    # record of any type.
    latest = data_range.latest_end
    if latest is None:
        return
    end = min(latest + timedelta(seconds=1), state.now)
    if end <= cursors["alerts"]:
        return
    start = cursors["alerts"] - OVERLAP
    if not state.ranges_by_arrival:
        # dataRange spans all history: no alert is older than its earliest start. (Asked with
        # lastSyncTime it only spans new data, and a noReadings alert lies in a gap before it.)
        start = max(
            start, min(s.start for s in (data_range.egvs, data_range.events, data_range.calibrations) if s)
        )
    for window_start, window_end in _windows(start, end):
        _fetch_and_store(state, "alerts", window_start, window_end)
    cursors["alerts"] = max(cursors["alerts"], end)


def _advance_quiet_cursors(state: RunState, data_range, cursors) -> None:
    """EGVs and calibrations come from the same uploads: once dataRange shows data up to T, a
    type with nothing newer has nothing up to T either. Moving its cursor there keeps
    lastSyncTime recent (e.g. G7 users, who never calibrate)."""
    latest = data_range.latest_end
    if latest is None:
        return
    horizon = min(latest + timedelta(seconds=1), state.now)
    for record_type in ("egvs", "calibrations"):
        if cursors[record_type] < horizon:
            SyncCursor.objects.filter(
                patient_id=state.connection.user_id,
                record_type=record_type,
                synced_until__lt=horizon,
            ).update(synced_until=horizon)
            cursors[record_type] = horizon


def _fetch_and_store(state, record_type, start, end, *, cursor_to: datetime | None = None) -> None:
    page = state.calls.records(record_type=record_type, start=start, end=end)
    rows, bad = record_rows.rows_from_records(
        record_type, page.records, patient_id=state.connection.user_id, now=state.now
    )
    _commit_window(state, record_type, rows, bad, cursor_to=cursor_to or end)


def _commit_window(state, record_type, rows, bad, *, cursor_to: datetime) -> None:
    patient_id = state.connection.user_id
    with transaction.atomic():
        ingest.relax_commit_durability()
        renew_sync_lease(connection_id=state.connection.pk, owner=state.owner)
        # The one writer: upserts by recordId, replaces imported copies, rebuilds the summaries.
        written = ingest.store_synced(record_type, rows, patient_id=patient_id).given
        if bad:
            state.run.quarantined += quarantine.quarantine(
                patient_id=patient_id, run_id=state.run.pk, record_type=record_type, bad=bad
            )
        SyncCursor.objects.filter(
            patient_id=patient_id, record_type=record_type, synced_until__lt=cursor_to
        ).update(synced_until=cursor_to)
    state.written[record_type] = state.written.get(record_type, 0) + written


def _update_backfill_progress(state: RunState, egvs_cursor: datetime, target_end: datetime) -> None:
    connection = state.connection
    if connection.backfill_completed_at or not connection.backfill_total_days:
        return
    remaining_days = max(0, (target_end - egvs_cursor).total_seconds() / 86400)
    done = max(0, connection.backfill_total_days - round(remaining_days + 0.49))
    DexcomConnection.objects.filter(pk=connection.pk).update(backfill_done_days=done)


def _devices_due(cursors: dict, now: datetime, *, something_new: bool) -> bool:
    last = cursors.get(DEVICES)
    if last is None:
        return True
    return something_new and now - last >= DEVICES_EVERY


def _sync_devices(state: RunState) -> None:
    page = state.calls.devices()
    patient_id = state.connection.user_id
    bad, written = [], 0
    with transaction.atomic():
        for raw in page.records:
            try:
                with transaction.atomic():
                    bad += device_rows.write_device(raw, patient_id=patient_id)
                written += 1
            except record_rows.BadRecord as error:
                key = device_rows.device_key(raw) if isinstance(raw, dict) else ""
                bad.append(record_rows.Quarantined(raw=raw, record_id=key, reason=str(error)))
        if bad:
            state.run.quarantined += quarantine.quarantine(
                patient_id=patient_id, run_id=state.run.pk, record_type=DEVICES, bad=bad
            )
        SyncCursor.objects.update_or_create(
            patient_id=patient_id, record_type=DEVICES, defaults={"synced_until": state.now}
        )
    state.written[DEVICES] = written


# --- Finishing ----------------------------------------------------------------------------------

UNEXPECTED = "Syncing failed unexpectedly; dexweb will try again. If this persists, contact support."


def _plain_words(error: Exception) -> str:
    if isinstance(error, client.DexcomRateLimited):
        return "Dexcom is receiving too many requests right now; dexweb will try again shortly."
    if isinstance(error, client.DexcomServerError | client.DexcomUnavailable):
        return "Dexcom's service is not responding properly at the moment; dexweb will retry automatically."
    if isinstance(error, client.DexcomBadResponse):
        return "Dexcom sent data dexweb could not read; dexweb will retry automatically."
    if isinstance(error, client.DexcomAuthError):
        return "Dexcom refused dexweb's access to your data; if this persists, please reconnect."
    if isinstance(error, client.DexcomAccessRefused):
        return (
            "Dexcom refused dexweb access to your data: your permission to share it may have "
            "lapsed or been withdrawn in your Dexcom account. Your connection is kept; dexweb "
            "tries again at the next sync."
        )
    return UNEXPECTED


def _readings_held(patient_id: int) -> int:
    return Egv.objects.filter(patient_id=patient_id).count()


def _finish(state: RunState, *, error: str = "", patient_message: str = "", waiting: bool = False) -> None:
    run = state.run
    run.finished_at = timezone.now()
    run.api_calls = state.calls.count
    run.records = state.written
    run.status = SyncRun.Status.FAILED if error else SyncRun.Status.SUCCEEDED
    if waiting:
        run.status = SyncRun.Status.WAITING
    if error:
        run.errors = [*run.errors, error]
    run.save()
    updates = {}
    if _readings_held(state.connection.user_id) > state.readings_before:
        updates["last_data_at"] = run.finished_at  # windows commit one by one, failed run or not
    if waiting:
        pass  # neither a success nor an error: the last sync time and message stay
    elif not error:
        updates.update(last_sync_at=run.finished_at, last_error="")
        if state.connection.backfill_completed_at is None:
            updates.update(
                backfill_completed_at=run.finished_at,
                backfill_done_days=state.connection.backfill_total_days,
            )
    elif patient_message:
        updates["last_error"] = patient_message
    if updates:
        DexcomConnection.objects.filter(pk=state.connection.pk, status=DexcomConnection.Status.ACTIVE).update(
            **updates
        )
    log = logger.warning if error else logger.info
    log(
        "Sync run %s of connection %s %s: %s API calls, records %s%s",
        run.pk,
        state.connection.pk,
        run.status,
        run.api_calls,
        run.records,
        f", error: {error}" if error else "",
    )
