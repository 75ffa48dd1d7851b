"""Import a Clarity export: check the whole file, then write it in one transaction.

Two passes over the (seekable) stream keep memory flat in file size:
1. Check: every row is read and checked; nothing is written. The file is refused (with line
   numbers) when a row cannot be read and there are more than a handful of such rows
   (MAX_SKIPPED_ROWS, and at most 1 in SKIPPED_ROWS_PER), when the values look like the other
   unit, or when it has more than CLARITY_IMPORT_MAX_ROWS rows. A refused file adds nothing.
2. Write, in one transaction: rows in chunks, each chunk deduplicated against what is stored
   (apps.glucose.clarity.dedupe), and the DailySummary rows of the touched days
   (apps.glucose.summaries.rebuild_daily_summaries).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from apps.glucose import summaries
from apps.glucose.clarity import clock
from apps.glucose.clarity.dedupe import ReadingIndex, Stamp
from apps.glucose.clarity.insert import insert_new
from apps.glucose.clarity.records import RowReader
from apps.glucose.clarity.rows import (
    BadRow,
    ClarityFormatError,
    fits_other_unit,
    raw_rows,
    shown,
)
from apps.glucose.models import Calibration, Egv, Event

MAX_SKIPPED_ROWS = 10
SKIPPED_ROWS_PER = 100  # at most one skipped row per 100 rows of the file
LISTED_PROBLEMS = 10
CHUNK_ROWS = 5000
PROGRESS_EVERY = 10_000
MARKER_SECONDS = 60  # an event/calibration within a minute of a stored one of its kind is it
DEFAULT_MAX_ROWS = 300_000
SUMMARY_EVERY = 50_000


class ClarityRefused(ClarityFormatError):
    """The file was read but refused; `problems` lists (line, reason) of the first bad rows."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class ClarityImportResult:
    egvs_added: int = 0
    egvs_skipped: int = 0
    events_added: int = 0
    calibrations_added: int = 0
    rows_read: int = 0
    timezone: str = ""
    skipped_rows: list = field(default_factory=list)  # [(line, reason)] of rows left out

    def summary(self) -> str:
        text = (
            f"Clarity import: {self.egvs_added} readings added, {self.egvs_skipped} already "
            f"there, {self.events_added} events and {self.calibrations_added} calibrations added."
        )
        if self.skipped_rows:
            text += f" {len(self.skipped_rows)} rows could not be read and were left out."
        return text

    def as_dict(self) -> dict:
        return {**self.__dict__, "skipped_rows": [list(p) for p in self.skipped_rows]}


@dataclass
class _Check:
    """What the first pass learned."""

    rows: int = 0
    records: int = 0
    in_range: int = 0
    other_unit: list = field(default_factory=list)  # (line, reason) of values fitting the other unit
    other_unit_count: int = 0
    bad: list = field(default_factory=list)
    bad_count: int = 0
    starts: dict = field(default_factory=dict)
    unit: str = ""


def max_rows() -> int:
    return getattr(settings, "CLARITY_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def import_clarity_file(*, patient, stream, tzinfo, now: datetime | None = None, size: int | None = None,
                        progress: Callable[[str, float], None] | None = None) -> ClarityImportResult:
    """Import a Clarity CSV export (a seekable binary stream of `size` bytes) for `patient`,
    all or nothing.

    `progress(stage, fraction)` is called now and then: stage "checking", then "saving".
    """
    now = now or datetime.now(UTC)
    report = progress or (lambda stage, fraction: None)
    size = size or _size(stream)
    check = _check_file(patient, stream, tzinfo, now, lambda n: report("checking", n / size))
    _refuse_unless_importable(check, layout_unit=check.unit)
    report("saving", 0.0)
    stream.seek(0)
    result = ClarityImportResult(rows_read=check.rows, timezone=str(tzinfo), skipped_rows=check.bad)
    with transaction.atomic():
        _write_file(patient, stream, tzinfo, now, check.starts, result)
    return result


def _size(stream) -> int:
    try:
        size = stream.seek(0, 2)
    except (OSError, ValueError):  # e.g. gzip streams cannot seek from the end
        size = 1
    stream.seek(0)
    return max(size, 1)


def _reader(patient, stream, tzinfo, now, starts=None):
    layout, rows = raw_rows(stream)
    wall_clock = clock.WallClock(tzinfo, starts=starts)
    return layout, rows, RowReader(patient_id=patient.pk, layout=layout, wall_clock=wall_clock, now=now)


def _check_file(patient, stream, tzinfo, now, position) -> _Check:
    layout, rows, reader = _reader(patient, stream, tzinfo, now)
    check, limit = _Check(), max_rows()
    check.unit = layout.unit
    for raw in rows:
        check.rows += 1
        if check.rows > limit:
            raise ClarityRefused(
                f"The file has more than {limit:,} readings and events; nothing was imported. "
                "Export a shorter period from Clarity."
            )
        if check.rows % PROGRESS_EVERY == 0:
            position(stream.tell())
        item = raw if isinstance(raw, BadRow) else reader.record(raw)
        if isinstance(item, BadRow):
            _note_bad(check, item, raw, layout)
            continue
        check.records += 1
        check.in_range += item.model is Egv
    check.starts = reader.wall_clock.starts
    return check


def _note_bad(check: _Check, bad: BadRow, raw, layout) -> None:
    check.bad_count += 1
    if len(check.bad) < LISTED_PROBLEMS:
        check.bad.append((bad.line, bad.reason))
    fields = getattr(raw, "fields", None)
    if fields is not None and fits_other_unit(layout.get(fields, layout.glucose_column), layout.unit):
        check.other_unit_count += 1
        if not check.other_unit:
            check.other_unit.append((bad.line, layout.get(fields, layout.glucose_column)))


def _refuse_unless_importable(check: _Check, *, layout_unit: str) -> None:
    if check.other_unit_count and check.other_unit_count > check.in_range:
        line, text = check.other_unit[0]
        other = "mmol/L" if layout_unit == "mg/dL" else "mg/dL"
        raise ClarityRefused(
            f"The glucose values look like {other} although the column header says "
            f"{layout_unit} (line {line}: {shown(text)}); nothing was imported. Export the file again "
            "from Clarity without editing it.", check.bad,
        )
    allowed = min(MAX_SKIPPED_ROWS, check.rows // SKIPPED_ROWS_PER)
    if check.bad_count > allowed:
        listed = "; ".join(f"Line {line}: {reason}" for line, reason in check.bad)
        raise ClarityRefused(
            f"The file was refused and nothing was imported: {check.bad_count} of {check.rows} "
            f"rows cannot be used (a file may have at most {allowed} such rows, which are then "
            f"left out). {listed}", check.bad,
        )
    if not check.records:
        raise ClarityRefused("The file has no glucose readings or events to import.")


class _SummaryRebuild:
    """DailySummary of the touched days, rebuilt inside the import's transaction every
    SUMMARY_EVERY new readings (and at the end): the rebuild reads every reading from the
    earliest new one on, so doing it in steps keeps the memory of a long file bounded."""

    def __init__(self, patient_id: int):
        self.patient_id, self.since, self.pending = patient_id, None, 0

    def add(self, earliest: datetime | None, count: int) -> None:
        if earliest is not None:
            self.since = earliest if self.since is None else min(self.since, earliest)
            self.pending += count
        if self.pending >= SUMMARY_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.since is not None:
            summaries.rebuild_daily_summaries(patient_id=self.patient_id, since=self.since)
        self.since, self.pending = None, 0


def _write_file(patient, stream, tzinfo, now, starts, result) -> None:
    """Second pass: write every good row, and the summaries of the days they touch."""
    _, rows, reader = _reader(patient, stream, tzinfo, now, starts)
    rebuild = _SummaryRebuild(patient.pk)
    chunk = []
    for raw in rows:
        item = raw if isinstance(raw, BadRow) else reader.record(raw)
        if isinstance(item, BadRow):
            continue
        chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            rebuild.add(*_write_chunk(patient, chunk, result))
            chunk = []
    if chunk:
        rebuild.add(*_write_chunk(patient, chunk, result))
    rebuild.flush()


def _write_chunk(patient, chunk: list, result: ClarityImportResult) -> tuple[datetime | None, int]:
    """Write a chunk's new records: (earliest new reading's time, number of new readings)."""
    by_model = {Egv: [], Event: [], Calibration: []}
    for record in chunk:
        by_model[record.model].append(record.fields)
    egvs = by_model[Egv]
    fresh = _new_readings(patient, egvs)
    new_events = _new_markers(Event, patient, by_model[Event], "event_type")
    new_calibrations = _new_markers(Calibration, patient, by_model[Calibration], None)
    result.egvs_added += len(fresh)
    result.egvs_skipped += len(egvs) - len(fresh)
    result.events_added += len(new_events)
    result.calibrations_added += len(new_calibrations)
    for model, rows in ((Egv, fresh), (Event, new_events), (Calibration, new_calibrations)):
        insert_new(model, rows)
    return min((row["system_time"] for row in fresh), default=None), len(fresh)


def _stored_nearby(model, patient, rows: list[dict], *fields):
    start = min(r["system_time"] for r in rows) - timedelta(hours=1)
    end = max(r["system_time"] for r in rows) + timedelta(hours=1)
    return model.objects.filter(
        patient=patient, system_time__gte=start, system_time__lte=end
    ).values_list("record_id", "system_time", "display_delta_seconds", *fields).iterator()


def _stamp(record_id, system_time, delta, transmitter_id, ticks) -> Stamp:
    epoch = int(system_time.timestamp())
    return Stamp(record_id, epoch, epoch + delta, transmitter_id, ticks)


def _new_readings(patient, egvs: list[dict]) -> list[dict]:
    if not egvs:
        return []
    stored = _stored_nearby(Egv, patient, egvs, "transmitter_id", "transmitter_ticks")
    index = ReadingIndex(_stamp(*row) for row in stored)
    fresh = []
    for egv in egvs:
        stamp = _stamp(egv["record_id"], egv["system_time"], egv["display_delta_seconds"],
                       egv["transmitter_id"], egv["transmitter_ticks"])
        if not index.knows(stamp):
            index.add(stamp)
            fresh.append(egv)
    return fresh


def _new_markers(model, patient, rows: list[dict], kind_field: str | None) -> list[dict]:
    """Events/calibrations not stored yet: neither the same record_id nor one of the same kind
    within a minute of wall clock (and 30 minutes of UTC: the folds of a repeated hour differ);
    the synced copy of the same entry has Dexcom's own recordId."""
    if not rows:
        return []
    extra = (kind_field,) if kind_field else ()
    ids, taken = set(), {}
    for record_id, system_time, delta, *kind in _stored_nearby(model, patient, rows, *extra):
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
        abs(other - epoch) < 1800
        for d in (-1, 0, 1) for other in taken.get((minute + d, kind), ())
    )
