"""Every reading exactly once, whether it came from a Clarity export, the API, or both, in either
order: the emulator's readings exported as Clarity would export them, imported and synced."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.dexcom.times import parse_dexcom_time
from apps.glucose import ingest, summaries
from apps.glucose.clarity import import_clarity_file
from apps.glucose.models import DailySummary, Egv, Event
from apps.sandbox import truth
from apps.sandbox.profiles import profile_for
from apps.sync import services
from apps.sync.records import rows_from_records
from tests.sync.conftest import SANDBOX_USER

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = (
    "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,"
    "Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),"
    "Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID\n"
)
SERIAL = "8ABCDE"  # Clarity shows the transmitter's serial; the API only a hash of it


def clarity_export(records: list[dict], *, with_ticks: bool = True) -> bytes:
    """The EGV records as rows of a Clarity export: local wall clock, Low/High, serial."""
    lines = [HEADER, "1,,FirstName,,Pat,,,,,,,,,\n", "2,,Device,,,Android G7,Android G7,,,,,,,\n"]
    for index, record in enumerate(records, start=3):
        wall = parse_dexcom_time(record["displayTime"]).wall.strftime("%Y-%m-%dT%H:%M:%S")
        status = record.get("status")
        value = "Low" if status == "low" else "High" if status == "high" else str(record["value"])
        ticks = record["transmitterTicks"] if with_ticks else ""
        lines.append(f"{index},{wall},EGV,,,,Android G7,{value},,,,,{ticks},{SERIAL}\n")
    return "".join(lines).encode()


def truth_egvs(start: datetime, end: datetime) -> list[dict]:
    return truth.records(sandbox_user_key=SANDBOX_USER, record_type="egvs", start=start, end=end)


def export_span(connection) -> tuple[datetime, datetime]:
    """Well inside what a 2-day backfill fetches: from an hour after its start to an hour
    before the newest reading the emulator publishes."""
    start = (timezone.now() - timedelta(days=2) + timedelta(hours=1)).replace(microsecond=0)
    end = datetime.fromtimestamp(truth.visible_until(), UTC) - timedelta(hours=1)
    return start, end


def import_export(patient, records, **options):
    """Read in the zone of the emulator's user, as its Clarity account would be."""
    patient.timezone = profile_for(SANDBOX_USER).timezone
    patient.save(update_fields=["timezone"])
    return import_clarity_file(
        patient=patient, stream=io.BytesIO(clarity_export(records, **options)), tzinfo=patient.tzinfo
    )


def stored_in(patient_id, start, end):
    return list(
        Egv.objects.filter(patient_id=patient_id, system_time__gte=start, system_time__lt=end).values_list(
            "record_id", flat=True
        )
    )


def summary_rows(patient_id):
    return list(
        DailySummary.objects.filter(patient_id=patient_id)
        .order_by("day")
        .values_list(
            "day", "readings", "value_sum", "value_sq_sum", "below_54", "from_70_to_180", "last_reading_at"
        )
    )


def assert_summaries_equal_a_rebuild_from_scratch(patient_id):
    kept = summary_rows(patient_id)
    summaries.rebuild_daily_summaries(patient_id=patient_id, since=None)
    assert kept == summary_rows(patient_id)
    assert sum(day[1] for day in kept) == Egv.objects.filter(patient_id=patient_id).count()


@pytest.mark.parametrize("with_ticks", [True, False], ids=["transmitter time", "no transmitter time"])
def test_clarity_import_then_sync_keeps_each_reading_once(connect, with_ticks):
    connection = connect(days=2)
    patient = connection.user
    start, end = export_span(connection)
    records = truth_egvs(start, end)
    assert len(records) > 400  # about a day and a half of readings
    imported = import_export(patient, records, with_ticks=with_ticks)
    assert imported.egvs_added == len(records)

    services.sync_connection(connection_id=connection.pk)

    ids = stored_in(patient.pk, start, end)
    assert sorted(ids) == sorted(r["recordId"] for r in records)  # the API's copies, once each
    assert not Egv.objects.filter(patient=patient, record_id__startswith="clarity-").exists()
    assert_summaries_equal_a_rebuild_from_scratch(patient.pk)


@pytest.mark.parametrize("with_ticks", [True, False], ids=["transmitter time", "no transmitter time"])
def test_sync_then_clarity_import_adds_nothing(connect, with_ticks):
    connection = connect(days=2)
    patient = connection.user
    services.sync_connection(connection_id=connection.pk)
    total = Egv.objects.filter(patient=patient).count()
    before = summary_rows(patient.pk)
    start, end = export_span(connection)
    records = truth_egvs(start, end)

    result = import_export(patient, records, with_ticks=with_ticks)

    assert (result.egvs_added, result.egvs_skipped) == (0, len(records))
    assert Egv.objects.filter(patient=patient).count() == total
    assert summary_rows(patient.pk) == before


def test_a_reimport_after_import_and_sync_changes_nothing(connect):
    connection = connect(days=2)
    patient = connection.user
    start, end = export_span(connection)
    records = truth_egvs(start, end)
    import_export(patient, records)
    services.sync_connection(connection_id=connection.pk)
    stored = sorted(Egv.objects.filter(patient=patient).values_list("record_id", "system_time", "value"))
    newest = max(system_time for _, system_time, _ in stored)

    again = import_export(patient, records)
    services.sync_connection(connection_id=connection.pk)

    assert again.egvs_added == 0
    now_stored = sorted(Egv.objects.filter(patient=patient).values_list("record_id", "system_time", "value"))
    # The emulator publishes a reading every 5 minutes as the clock runs: the second sync may
    # bring those, and nothing else; every reading held before is held once, unchanged.
    published_since = [row for row in now_stored if row[1] > newest]
    assert [row for row in now_stored if row[1] <= newest] == stored
    assert not [row for row in published_since if row[0].startswith("clarity-")]
    assert len(now_stored) == len(stored) + len(published_since)
    assert_summaries_equal_a_rebuild_from_scratch(patient.pk)


# --- Two real readings 299 s apart, both orders (no emulator needed) ------------------------------

NOW = datetime(2026, 11, 12, tzinfo=UTC)
API_TRANSMITTER = "d55d01d0" * 8
NEW_YORK = -5 * 3600  # November


def api_egv(record_id, at: datetime, value, ticks):
    return {
        "recordId": record_id,
        "systemTime": at.strftime("%Y-%m-%dT%H:%M:%S"),
        "displayTime": (at + timedelta(seconds=NEW_YORK)).strftime("%Y-%m-%dT%H:%M:%S-05:00"),
        "transmitterId": API_TRANSMITTER,
        "transmitterTicks": ticks,
        "value": value,
        "status": None,
        "trend": "flat",
        "trendRate": 0.1,
        "unit": "mg/dL",
        "rateUnit": "mg/dL/min",
        "displayDevice": "android",
        "displayApp": "G7",
        "transmitterGeneration": "g7",
    }


def clarity_row(wall: str, value, ticks):
    return (
        HEADER + f"1,,FirstName,,Pat,,,,,,,,,\n2,{wall},EGV,,,,Android G7,{value},,,,,{ticks},{SERIAL}\n"
    ).encode()


def sync_rows(patient, records):
    rows, bad = rows_from_records("egvs", records, patient_id=patient.pk, now=NOW)
    assert not bad
    return ingest.store_synced("egvs", rows, patient_id=patient.pk)


@pytest.fixture
def new_yorker(make_user):
    return make_user("once@example.com", timezone="America/New_York")


@pytest.mark.parametrize("with_ticks", [True, False], ids=["transmitter time", "no transmitter time"])
@pytest.mark.parametrize("order", ["import first", "sync first"])
def test_two_readings_299_s_apart_from_two_sources_are_both_kept(new_yorker, order, with_ticks):
    at = datetime(2026, 11, 10, 13, 0, tzinfo=UTC)  # 08:00 in New York
    clarity = clarity_row("2026-11-10T08:00:00", 120, 5000 if with_ticks else "")
    synced = [api_egv("api-later", at + timedelta(seconds=299), 125, 5299)]
    steps = [
        lambda: import_clarity_file(
            patient=new_yorker, stream=io.BytesIO(clarity), tzinfo=new_yorker.tzinfo, now=NOW
        ),
        lambda: sync_rows(new_yorker, synced),
    ]
    for step in steps if order == "import first" else reversed(steps):
        step()
    assert list(
        Egv.objects.filter(patient=new_yorker).order_by("system_time").values_list("value", flat=True)
    ) == [120, 125]
    assert DailySummary.objects.get(patient=new_yorker).readings == 2


@pytest.mark.parametrize("with_ticks", [True, False], ids=["transmitter time", "no transmitter time"])
def test_the_synced_copy_replaces_the_imported_one(new_yorker, with_ticks):
    at = datetime(2026, 11, 10, 13, 0, 0, tzinfo=UTC)
    import_clarity_file(
        patient=new_yorker,
        stream=io.BytesIO(clarity_row("2026-11-10T08:00:00", 120, 5000 if with_ticks else "")),
        tzinfo=new_yorker.tzinfo,
        now=NOW,
    )
    # Dexcom's systemTime of the same reading, a few seconds off the wall clock Clarity shows.
    stored = sync_rows(new_yorker, [api_egv("api-same", at + timedelta(seconds=7), 120, 5000)])
    assert stored.replaced == 1
    assert list(Egv.objects.filter(patient=new_yorker).values_list("record_id", "transmitter_ticks")) == [
        ("api-same", 5000)
    ]
    assert DailySummary.objects.get(patient=new_yorker).readings == 1


def test_a_different_transmitter_time_is_a_different_reading(new_yorker):
    # Same wall-clock minute, other ticks: a second transmitter warming up, not the same reading.
    at = datetime(2026, 11, 10, 13, 0, 0, tzinfo=UTC)
    import_clarity_file(
        patient=new_yorker,
        stream=io.BytesIO(clarity_row("2026-11-10T08:00:00", 120, 5000)),
        tzinfo=new_yorker.tzinfo,
        now=NOW,
    )
    sync_rows(new_yorker, [api_egv("api-other", at + timedelta(seconds=20), 180, 90)])
    assert Egv.objects.filter(patient=new_yorker).count() == 2


def api_event(record_id, at: datetime, event_type, value):
    return {
        "recordId": record_id,
        "systemTime": at.strftime("%Y-%m-%dT%H:%M:%S"),
        "displayTime": (at + timedelta(seconds=NEW_YORK)).strftime("%Y-%m-%dT%H:%M:%S-05:00"),
        "eventStatus": "created",
        "eventType": event_type,
        "eventSubType": None,
        "value": value,
        "unit": "grams" if event_type == "carbs" else "units",
        "transmitterId": API_TRANSMITTER,
        "transmitterGeneration": "g7",
        "displayDevice": "android",
    }


def test_a_synced_event_replaces_its_imported_copy_and_no_other(new_yorker):
    export = (
        HEADER + "1,,FirstName,,Pat,,,,,,,,,\n2,2026-11-10T08:30:00,Carbs,,,,Android G7,,,45,,,,\n"
    ).encode()
    import_clarity_file(patient=new_yorker, stream=io.BytesIO(export), tzinfo=new_yorker.tzinfo, now=NOW)
    at = datetime(2026, 11, 10, 13, 30, 20, tzinfo=UTC)
    rows, bad = rows_from_records(
        "events",
        [api_event("api-carbs", at, "carbs", "45"), api_event("api-insulin", at, "insulin", "4")],
        patient_id=new_yorker.pk,
        now=NOW,
    )
    assert not bad
    ingest.store_synced("events", rows, patient_id=new_yorker.pk)
    assert sorted(Event.objects.filter(patient=new_yorker).values_list("record_id", "event_type")) == [
        ("api-carbs", "carbs"),
        ("api-insulin", "insulin"),
    ]
