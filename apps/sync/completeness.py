"""Data completeness: for each local day, where every missing reading went.

Dexcom sends one reading every 5 minutes while a sensor runs. For each wall-clock hour of a
day (the patient's zone; a DST day has 23 or 25 hours) we expect one reading per 5 real
minutes already past and count the readings we hold in it. The hour is cut where the reason
changes (at the first Dexcom data, at our cursor, at Dexcom's newest reading), and the readings
missing in each piece get one reason, the first that applies:
  * **no Dexcom data yet**: before the first reading Dexcom reports for the patient (dataRange);
  * **access lost**: after what we last synced, while there is no active Dexcom connection (never
    connected, permission withdrawn or expired, or disconnected): we cannot ask;
  * **not yet at Dexcom**: after the newest reading Dexcom reported holding (dataRange at our
    last sync): Dexcom's own delay, or the phone has not uploaded yet;
  * **not synced yet**: Dexcom holds it but our sync has not fetched it (the sync is behind or
    failing; the page says which, with the last error);
  * **sensor gap**: we asked Dexcom for that time and it had no reading (no sensor, warm-up,
    signal loss that was never filled in).
The sync's EGV cursor (apps.sync.models.SyncCursor) is "what we asked for": it moves only to
just past the newest reading received or to dataRange's newest end.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.glucose import localtime, selectors
from apps.glucose.metrics import READING_MINUTES
from apps.glucose.models import DataRange
from apps.sync.models import SyncCursor, SyncRun

NO_DATA_YET = "no_data_yet"
ACCESS_LOST = "access_lost"
NOT_AT_DEXCOM = "not_at_dexcom"
NOT_SYNCED = "not_synced"
SENSOR_GAP = "sensor_gap"
REASONS = {
    SENSOR_GAP: "Sensor gap (Dexcom has no reading)",
    NOT_AT_DEXCOM: "Not yet at Dexcom (Dexcom's delay)",
    NOT_SYNCED: "Not synced yet (our sync)",
    ACCESS_LOST: "Access lost (Dexcom not connected or permission withdrawn)",
    NO_DATA_YET: "Before the first Dexcom data",
}
READING_SECONDS = READING_MINUTES * 60


@dataclass(frozen=True)
class SyncFacts:
    """What decides the reason of a missing reading, read once per page."""

    cursor: datetime | None  # EGVs asked from Dexcom up to here
    dexcom_start: datetime | None
    dexcom_end: datetime | None  # newest reading Dexcom reported holding
    connection_active: bool
    connection_status: str
    last_sync_at: datetime | None
    last_error: str
    failing: bool  # the newest sync run failed


@dataclass(frozen=True)
class HourCompleteness:
    hour: int
    expected: int
    present: int
    missing_by_reason: dict  # reason -> readings missing for it

    @property
    def missing(self) -> int:
        return sum(self.missing_by_reason.values())

    @property
    def reason(self) -> str | None:
        """The reason of most of the hour's missing readings (the hour strip's colour)."""
        if not self.missing_by_reason:
            return None
        return max(self.missing_by_reason.items(), key=lambda item: item[1])[0]


@dataclass(frozen=True)
class DayCompleteness:
    day: object
    hours: tuple[HourCompleteness, ...]

    @property
    def expected(self) -> int:
        return sum(h.expected for h in self.hours)

    @property
    def present(self) -> int:
        return sum(min(h.present, h.expected) for h in self.hours)

    @property
    def missing_by_reason(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for hour in self.hours:
            for reason, count in hour.missing_by_reason.items():
                totals[reason] = totals.get(reason, 0) + count
        return totals


@dataclass(frozen=True)
class CompletenessReport:
    period: localtime.Period
    facts: SyncFacts
    days: tuple[DayCompleteness, ...]  # newest first


def sync_facts(patient) -> SyncFacts:
    connection = DexcomConnection.objects.filter(user=patient).first()
    cursor = (
        SyncCursor.objects.filter(patient=patient, record_type="egvs")
        .values_list("synced_until", flat=True)
        .first()
    )
    data_range = DataRange.objects.filter(patient=patient).first()
    newest_run = (
        SyncRun.objects.filter(patient=patient).order_by("-started_at").values_list("status", flat=True)
    )
    return SyncFacts(
        cursor=cursor,
        dexcom_start=data_range.egvs_start if data_range else None,
        dexcom_end=data_range.egvs_end if data_range else None,
        connection_active=bool(connection and connection.is_syncing_enabled),
        connection_status=connection.get_status_display() if connection else "Not connected",
        last_sync_at=connection.last_sync_at if connection else None,
        last_error=connection.last_error if connection else "",
        failing=newest_run.first() == SyncRun.Status.FAILED,
    )


def missing_reason(start: datetime, end: datetime, facts: SyncFacts) -> str:
    """The reason (rule above) for readings missing in a real span [start, end) that lies on
    one side of each of the facts' instants (spans_of cuts an hour there)."""
    if facts.dexcom_start is not None and end <= facts.dexcom_start:
        return NO_DATA_YET
    if facts.cursor is not None and end <= facts.cursor:
        return SENSOR_GAP
    if not facts.connection_active:
        return ACCESS_LOST
    if facts.dexcom_end is None or start >= facts.dexcom_end:
        return NOT_AT_DEXCOM
    return NOT_SYNCED


def spans_of(start: datetime, end: datetime, facts: SyncFacts) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at the first Dexcom data, our cursor and Dexcom's newest reading, so
    each piece has one reason."""
    cuts = sorted({t for t in (facts.dexcom_start, facts.cursor, facts.dexcom_end) if t and start < t < end})
    edges = [start, *cuts, end]
    return list(zip(edges, edges[1:], strict=False))


def _hour(day, hour: int, tzinfo, now: datetime, epoch_s: np.ndarray, facts: SyncFacts) -> HourCompleteness:
    """One wall-clock hour: its 5-minute slots begun before `now`; a reading counts for the
    piece (spans_of) where its slot begins, so a reading just past a cut is not counted twice."""
    start, end = localtime.local_hour_utc_bounds(day, hour, tzinfo)
    end = max(start, min(end, now))
    origin = int(start.timestamp())

    def slots_before(moment: datetime) -> int:  # slots of the hour begun before `moment`
        return -(-(int(moment.timestamp()) - origin) // READING_SECONDS)

    first, last = np.searchsorted(epoch_s, [origin, end.timestamp()])
    slot_starts = origin + (epoch_s[first:last] - origin) // READING_SECONDS * READING_SECONDS
    expected = present = 0
    missing: dict[str, int] = {}
    for span_start, span_end in spans_of(start, end, facts):
        span_expected = slots_before(span_end) - slots_before(span_start)
        inside = (slot_starts >= span_start.timestamp()) & (slot_starts < span_end.timestamp())
        span_present = int(np.count_nonzero(inside))
        expected, present = expected + span_expected, present + span_present
        if span_present < span_expected:
            reason = missing_reason(span_start, span_end, facts)
            missing[reason] = missing.get(reason, 0) + span_expected - span_present
    return HourCompleteness(hour, expected, present, missing)


def completeness_report(
    *, patient, period: localtime.Period, now: datetime | None = None
) -> CompletenessReport:
    """Each local day of the period: readings expected and held per hour, and the reason for
    every missing one (rule above)."""
    now = now or timezone.now()
    facts = sync_facts(patient)
    series = selectors.egv_series_for_local_days(
        patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
    )
    epoch_s = np.sort(series.epoch_s)
    days = []
    for offset in range(period.days):
        day = period.last_day - timedelta(days=offset)
        hours = tuple(_hour(day, hour, period.tzinfo, now, epoch_s, facts) for hour in range(24))
        days.append(DayCompleteness(day, hours))
    return CompletenessReport(period=period, facts=facts, days=tuple(days))
