"""The sync engine: bring one patient's Dexcom data up to date, safely and idempotently.

A run takes the connection's lease, asks dataRange first, then fetches only the record types
with data past their cursor, in windows of at most 30 days with a small overlap. Each window's
rows, quarantined records, cursor move and daily summaries commit in one transaction, so a crash
at any point resumes from what is really stored and a rerun rewrites the same rows (upserts on
(patient, record_id)) without duplicating anything. Events are re-read for the last 24 hours on
every run because Dexcom edits and deletes them in place. Backfill is the same run starting from
cursors set SYNC_BACKFILL_DAYS back.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.dexcom import client, tokens
from apps.dexcom.models import DexcomConnection
from apps.glucose.models import DataRange
from apps.sync import records as record_rows
from apps.sync import writers
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
CURSOR_TYPES = ("egvs", "calibrations", "events", "alerts")
DEVICES = "devices"


@dataclass
class RunState:
    connection: DexcomConnection
    run: SyncRun
    owner: str
    calls: RunCalls
    now: datetime
    written: dict = field(default_factory=dict)


# --- Public services ----------------------------------------------------------------------------


def sync_connection(*, connection_id: int) -> SyncRun | None:
    """One run for one connection; None when another run holds it or it is not active.

    Dexcom errors are recorded on the run and the connection, then raised so the caller (the
    Celery task) can decide to retry; a refused grant is recorded and not raised.
    """
    owner = uuid.uuid4().hex
    if not acquire_sync_lease(connection_id=connection_id, owner=owner):
        logger.info("Sync of connection %s skipped: running elsewhere or not active", connection_id)
        return None
    try:
        return _run(connection_id=connection_id, owner=owner)
    finally:
        release_sync_lease(connection_id=connection_id, owner=owner)


def backfill_connection(*, connection_id: int, days: int | None = None, restart: bool = False) -> SyncRun | None:
    """Fetch history (SYNC_BACKFILL_DAYS by default). restart=True refetches everything."""
    connection = DexcomConnection.objects.get(pk=connection_id)
    if restart or not SyncCursor.objects.filter(patient_id=connection.user_id).exists():
        reset_sync_state(connection_id=connection_id, days=days)
    return sync_connection(connection_id=connection_id)


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


def connect_and_backfill_demo(*, user, sandbox_user_key: str) -> DexcomConnection:
    """Connect `user` to an emulator sandbox user and backfill now (for the demo seeder).

    Uses the emulator's consent shortcut for the code, then the real token exchange and data
    calls over HTTP, so the web server serving the emulator must be running.
    """
    from apps.dexcom.services import connect_with_authorization_code
    from apps.sandbox.services import authorization_code_for

    code = authorization_code_for(
        sandbox_user_key=sandbox_user_key,
        client_id=settings.DEXCOM_CLIENT_ID,
        redirect_uri=settings.DEXCOM_REDIRECT_URI,
    )
    connection = connect_with_authorization_code(user=user, code=code, start_sync=False)
    backfill_connection(connection_id=connection.pk)
    connection.refresh_from_db()
    return connection


# --- One run ------------------------------------------------------------------------------------


def _run(*, connection_id: int, owner: str) -> SyncRun:
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
    DexcomConnection.objects.filter(pk=connection_id).update(last_sync_attempt_at=run.started_at)
    state = RunState(
        connection=connection,
        run=run,
        owner=owner,
        calls=RunCalls(
            connection_id=connection_id,
            base_url=connection.base_url,
            heartbeat=lambda: renew_sync_lease(connection_id=connection_id, owner=owner),
        ),
        now=timezone.now(),
    )
    try:
        _sync(state)
    except client.DexcomGrantRefused:
        _finish(state, error="Dexcom refused the refresh token: the patient must reconnect")
        return run
    except tokens.ConnectionNotActive as error:
        _finish(state, error=str(error))
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
    cursors = _cursors(patient_id)
    data_range = state.calls.data_range(last_sync_time=_last_sync_time(cursors, state.now))
    _store_data_range(patient_id, data_range)
    fetched_any = False
    for record_type in ("egvs", "calibrations"):
        fetched_any |= _sync_range_type(state, record_type, data_range, cursors)
    _sync_events(state, data_range, cursors)
    _sync_alerts(state, data_range, cursors)
    _advance_quiet_cursors(state, data_range, cursors)
    if _devices_due(cursors, state.now, something_new=fetched_any):
        _sync_devices(state)


def _cursors(patient_id: int) -> dict[str, datetime]:
    cursors = dict(
        SyncCursor.objects.filter(patient_id=patient_id).values_list("record_type", "synced_until")
    )
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


def _last_sync_time(cursors: dict, now: datetime) -> datetime | None:
    oldest = min(cursors[t] for t in RANGE_TYPES)
    if now - oldest > LAST_SYNC_TIME_LIMIT:
        return None  # Dexcom answers lastSyncTime reliably only for recent data
    return oldest - OVERLAP


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


def _sync_range_type(state: RunState, record_type: str, data_range, cursors) -> bool:
    span = data_range.span(record_type)
    if span is None or span.end < cursors[record_type]:
        return False
    # The end bound may be exclusive: one second past the newest record includes it.
    end = min(span.end + timedelta(seconds=1), state.now)
    start = cursors[record_type] - OVERLAP
    for window_start, window_end in _windows(start, end):
        _fetch_and_store(state, record_type, window_start, window_end)
        cursors[record_type] = max(cursors[record_type], window_end)
        if record_type == "egvs":
            _update_backfill_progress(state, cursors["egvs"], span.end)
    return True


def _sync_events(state: RunState, data_range, cursors) -> None:
    """Events with new data, plus always the last 24 h: edits and deletions keep the recordId."""
    span = data_range.span("events")
    cursor = cursors["events"]
    new_end = cursor
    if span is not None and span.end >= cursor:
        new_end = min(span.end + timedelta(seconds=1), state.now)
    start = min(cursor - OVERLAP, state.now - EVENT_EDIT_HORIZON)
    # The window reaches now so every event of the last 24 h is read again. The cursor moves as
    # far as dataRange vouched for, and at least to 24 h ago (every later run re-reads from
    # there), so a patient who stopped logging events does not cost more calls each run.
    settled = max(new_end, state.now - EVENT_EDIT_HORIZON)
    for window_start, window_end in _windows(start, max(new_end, state.now)):
        _fetch_and_store(
            state, "events", window_start, window_end, cursor_to=min(window_end, settled)
        )
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
    for window_start, window_end in _windows(cursors["alerts"] - OVERLAP, end):
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
        writers.relax_commit_durability()
        renew_sync_lease(connection_id=state.connection.pk, owner=state.owner)
        written = writers.upsert_records(record_type, rows)
        if bad:
            state.run.quarantined += writers.quarantine(
                patient_id=patient_id, run_id=state.run.pk, record_type=record_type, bad=bad
            )
        SyncCursor.objects.filter(
            patient_id=patient_id, record_type=record_type, synced_until__lt=cursor_to
        ).update(synced_until=cursor_to)
        if record_type == "egvs" and rows:
            _rebuild_summaries(patient_id, since=min(r["system_time"] for r in rows))
    state.written[record_type] = state.written.get(record_type, 0) + written


def _rebuild_summaries(patient_id: int, *, since: datetime) -> None:
    from apps.glucose.summaries import rebuild_daily_summaries

    rebuild_daily_summaries(patient_id=patient_id, since=since)


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
                    writers.write_device(raw, patient_id=patient_id)
                written += 1
            except record_rows.BadRecord as error:
                key = writers.device_key(raw) if isinstance(raw, dict) else ""
                bad.append(record_rows.Quarantined(raw=raw, record_id=key, reason=str(error)))
        if bad:
            state.run.quarantined += writers.quarantine(
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
    return UNEXPECTED


def _finish(state: RunState, *, error: str = "", patient_message: str = "") -> None:
    run = state.run
    run.finished_at = timezone.now()
    run.api_calls = state.calls.count
    run.records = state.written
    run.status = SyncRun.Status.FAILED if error else SyncRun.Status.SUCCEEDED
    if error:
        run.errors = [*run.errors, error]
    run.save()
    updates = {}
    if not error:
        updates = {"last_sync_at": run.finished_at, "last_error": ""}
        if state.connection.backfill_completed_at is None:
            updates.update(
                backfill_completed_at=run.finished_at,
                backfill_done_days=state.connection.backfill_total_days,
            )
    elif patient_message:
        updates = {"last_error": patient_message}
    if updates:
        DexcomConnection.objects.filter(
            pk=state.connection.pk, status=DexcomConnection.Status.ACTIVE
        ).update(**updates)
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
