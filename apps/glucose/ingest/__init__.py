"""The one writer of the record tables (EGVs, calibrations, events, alerts).

Every path that brings records in writes through here: the sync (rows keyed by Dexcom's
recordId, `store_synced`) and the Clarity import (rows keyed by a hash of what Clarity says a
row is, `store_imported`). The callers parse and validate; this module decides what is new,
writes it in bulk (apps.glucose.ingest.bulk) and rebuilds the DailySummary rows of exactly the
local days it touched, all in the caller's transaction, so readings never exist without their
summaries.

Every reading exactly once, whatever the order its sources arrive in
(apps.glucose.ingest.identity says when two rows are the same reading):
- sync after sync: upsert on (patient, recordId);
- import after import: the same file gives the same record ids, and rows of another export of
  the same readings match by transmitter time (or wall clock) and are skipped;
- import after sync: imported readings matching a synced one are skipped;
- sync after import: a synced reading that matches an imported one replaces it (the API's copy
  carries Dexcom's recordId, trend and transmitter, so later syncs upsert it in place).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from apps.glucose import localtime, summaries
from apps.glucose.ingest import bulk, identity
from apps.glucose.models import Alert, Calibration, Egv, Event

MODELS = {"egvs": Egv, "calibrations": Calibration, "alerts": Alert, "events": Event}
IMPORTED_PREFIX = "clarity-"  # record ids of imported rows (apps.glucose.clarity.records)
# Readings of two sources are matched as Stamps (apps.glucose.ingest.identity).
READING_MODELS = (Egv, Calibration)
MARKER_SECONDS = 60  # an event within a minute of a stored one of its kind is that event
MARKER_DRIFT_SECONDS = 30 * 60  # ...unless an hour apart in UTC: the folds of a repeated hour
NEARBY = timedelta(hours=1)

relax_commit_durability = bulk.relax_commit_durability


@dataclass(frozen=True)
class Stored:
    """What a sync write did: rows given, and imported rows they replaced."""

    given: int
    replaced: int = 0


# --- The sync ------------------------------------------------------------------------------------


def store_synced(record_type: str, rows: list[dict], *, patient_id: int) -> Stored:
    """Insert or update synced rows keyed by (patient, recordId); readings that an import
    stored already are replaced by their synced copy. Rebuilds the summaries of the days."""
    if not rows:
        return Stored(given=0)
    model = MODELS[record_type]
    with transaction.atomic():
        replaced_days = _drop_imported_copies(model, rows, patient_id=patient_id)
        bulk.upsert(model, rows)
        if model is Egv:
            summaries.rebuild_local_days(patient_id=patient_id, days=[*_local_days(rows), *replaced_days])
    return Stored(given=len(rows), replaced=len(replaced_days))


def _drop_imported_copies(model, rows: list[dict], *, patient_id: int) -> list[int]:
    """Delete imported rows that are the same records as these synced ones; returns their
    local day numbers (their summaries change)."""
    if model in READING_MODELS:
        copies = _imported_reading_copies(model, rows, patient_id)
    elif model is Event:
        copies = _imported_event_copies(rows, patient_id)
    else:
        return []  # Clarity exports have no alerts
    if not copies:
        return []
    model.objects.filter(patient_id=patient_id, record_id__in=list(copies)).delete()
    return [wall // localtime.SECONDS_PER_DAY for wall in copies.values()]


def _imported_reading_copies(model, rows: list[dict], patient_id: int) -> dict[str, int]:
    """record_id -> wall clock of the imported readings that are one of `rows`."""
    imported = list(_stored_nearby(model, patient_id, rows, Q(record_id__startswith=IMPORTED_PREFIX)))
    if not imported:
        return {}
    index = identity.ReadingIndex(_stamp(*row) for row in imported)
    copies = {}
    for row in rows:
        match = index.match(_row_stamp(row))
        if match is not None:
            copies[match.record_id] = match.wall
    return copies


def _imported_event_copies(rows: list[dict], patient_id: int) -> dict[str, int]:
    """record_id -> wall clock of the imported events of the same kind within a minute of
    wall clock of one of `rows` (the rule the import applies the other way round)."""
    fields = ("record_id", "system_time", "display_delta_seconds", "event_type")
    imported = _stored_nearby(
        Event, patient_id, rows, Q(record_id__startswith=IMPORTED_PREFIX), fields=fields
    )
    by_minute: dict[tuple, list] = {}
    for record_id, system_time, delta, kind in imported:
        epoch = int(system_time.timestamp())
        by_minute.setdefault(((epoch + delta) // MARKER_SECONDS, kind), []).append((record_id, epoch, delta))
    copies = {}
    for row in rows if by_minute else ():
        epoch = int(row["system_time"].timestamp())
        minute = (epoch + row["display_delta_seconds"]) // MARKER_SECONDS
        for d in (-1, 0, 1):
            for record_id, other, delta in by_minute.get((minute + d, row["event_type"]), ()):
                same_wall = abs((other + delta) - (epoch + row["display_delta_seconds"])) < MARKER_SECONDS
                if same_wall and abs(other - epoch) < MARKER_DRIFT_SECONDS:
                    copies[record_id] = other + delta
    return copies


# --- The Clarity import ----------------------------------------------------------------------------


def store_imported(rows_by_model: dict, *, patient_id: int) -> dict:
    """Insert the imported rows (model -> rows) that are not stored yet, by any source; returns
    model -> the rows added. Rebuilds the summaries of the days of the new readings."""
    added = {}
    with transaction.atomic():
        for model, rows in rows_by_model.items():
            fresh = (
                _new_readings(model, rows, patient_id)
                if model in READING_MODELS
                else _new_markers(model, rows, patient_id)
            )
            bulk.insert_new(model, fresh)
            added[model] = fresh
        summaries.rebuild_local_days(patient_id=patient_id, days=_local_days(added.get(Egv, [])))
    return added


def _new_readings(model, rows: list[dict], patient_id: int) -> list[dict]:
    """Rows that are neither stored (same record_id, or the same reading from another source)
    nor an earlier row of the same batch."""
    if not rows:
        return []
    index = identity.ReadingIndex(_stamp(*row) for row in _stored_nearby(model, patient_id, rows))
    fresh = []
    for row in rows:
        stamp = _row_stamp(row)
        if not index.knows(stamp):
            index.add(stamp)
            fresh.append(row)
    return fresh


def _new_markers(model, rows: list[dict], patient_id: int) -> list[dict]:
    """Events not stored yet: neither the same record_id nor one of the same kind within a
    minute of wall clock (and 30 minutes of UTC); the synced copy has Dexcom's own recordId."""
    if not rows:
        return []
    kind_field = "event_type" if model is Event else None
    extra = (kind_field,) if kind_field else ()
    ids, taken = set(), {}
    stored = _stored_nearby(
        model, patient_id, rows, fields=("record_id", "system_time", "display_delta_seconds", *extra)
    )
    for record_id, system_time, delta, *kind in stored:
        ids.add(record_id)
        _remember(taken, int(system_time.timestamp()), delta, kind[0] if kind else "")
    fresh = []
    for row in rows:
        epoch = int(row["system_time"].timestamp())
        kind = row[kind_field] if kind_field else ""
        if row["record_id"] in ids or _seen(taken, epoch, row["display_delta_seconds"], kind):
            continue
        ids.add(row["record_id"])
        _remember(taken, epoch, row["display_delta_seconds"], kind)
        fresh.append(row)
    return fresh


def _remember(taken: dict, epoch: int, delta: int, kind: str) -> None:
    taken.setdefault(((epoch + delta) // MARKER_SECONDS, kind), []).append(epoch)


def _seen(taken: dict, epoch: int, delta: int, kind: str) -> bool:
    minute = (epoch + delta) // MARKER_SECONDS
    return any(
        abs(other - epoch) < MARKER_DRIFT_SECONDS
        for d in (-1, 0, 1)
        for other in taken.get((minute + d, kind), ())
    )


# --- Shared ------------------------------------------------------------------------------------------

STAMP_FIELDS = ("record_id", "system_time", "display_delta_seconds", "transmitter_id", "transmitter_ticks")


def _stored_nearby(
    model, patient_id: int, rows: list[dict], condition: Q | None = None, *, fields=STAMP_FIELDS
):
    """Stored rows within an hour of the rows' time span (the widest a match can be apart)."""
    start = min(r["system_time"] for r in rows) - NEARBY
    end = max(r["system_time"] for r in rows) + NEARBY
    stored = model.objects.filter(patient_id=patient_id, system_time__gte=start, system_time__lte=end)
    if condition is not None:
        stored = stored.filter(condition)
    return stored.values_list(*fields).iterator()


def _stamp(record_id, system_time, delta, transmitter_id, ticks) -> identity.Stamp:
    epoch = int(system_time.timestamp())
    return identity.Stamp(record_id, epoch, epoch + delta, transmitter_id or "", ticks)


def _row_stamp(row: dict) -> identity.Stamp:
    return _stamp(*(row.get(name) for name in STAMP_FIELDS))


def _local_days(rows: list[dict]) -> set[int]:
    return {
        localtime.day_number(localtime.record_local_day(row["system_time"], row["display_delta_seconds"]))
        for row in rows
    }
