"""Import a Clarity export: check the whole file, then write it in one transaction.

Two passes over the (seekable) stream keep memory flat in file size:
1. Check: every row is read and checked; nothing is written. The file is refused (with line
   numbers) when a row cannot be read and there are more than a handful of such rows
   (MAX_SKIPPED_ROWS, and at most 1 in SKIPPED_ROWS_PER), when the values look like the other
   unit, or when it has more than CLARITY_IMPORT_MAX_ROWS rows. A refused file adds nothing.
2. Write, in one transaction: rows in chunks through the one writer (apps.glucose.ingest), which
   skips what is stored already, from any source, and rebuilds the DailySummary rows of the
   days each chunk touched.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from apps.glucose import ingest
from apps.glucose.clarity import clock
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
DEFAULT_MAX_ROWS = 300_000


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


def import_clarity_file(
    *,
    patient,
    stream,
    tzinfo,
    now: datetime | None = None,
    size: int | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> ClarityImportResult:
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
            "from Clarity without editing it.",
            check.bad,
        )
    allowed = min(MAX_SKIPPED_ROWS, check.rows // SKIPPED_ROWS_PER)
    if check.bad_count > allowed:
        listed = "; ".join(f"Line {line}: {reason}" for line, reason in check.bad)
        raise ClarityRefused(
            f"The file was refused and nothing was imported: {check.bad_count} of {check.rows} "
            f"rows cannot be used (a file may have at most {allowed} such rows, which are then "
            f"left out). {listed}",
            check.bad,
        )
    if not check.records:
        raise ClarityRefused("The file has no glucose readings or events to import.")


def _write_file(patient, stream, tzinfo, now, starts, result) -> None:
    """Second pass: write every good row, and the summaries of the days they touch."""
    _, rows, reader = _reader(patient, stream, tzinfo, now, starts)
    chunk = []
    for raw in rows:
        item = raw if isinstance(raw, BadRow) else reader.record(raw)
        if isinstance(item, BadRow):
            continue
        chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            _write_chunk(patient, chunk, result)
            chunk = []
    if chunk:
        _write_chunk(patient, chunk, result)


def _write_chunk(patient, chunk: list, result: ClarityImportResult) -> None:
    """Write a chunk's new records (and the summaries of their days) through the one writer."""
    by_model = {Egv: [], Event: [], Calibration: []}
    for record in chunk:
        by_model[record.model].append(record.fields)
    added = ingest.store_imported(by_model, patient_id=patient.pk)
    result.egvs_added += len(added[Egv])
    result.egvs_skipped += len(by_model[Egv]) - len(added[Egv])
    result.events_added += len(added[Event])
    result.calibrations_added += len(added[Calibration])
