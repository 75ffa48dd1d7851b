"""Data completeness (apps.sync.completeness): every missing reading of a day gets one reason,
from what we asked Dexcom for (the EGV cursor), what Dexcom reported holding (dataRange) and the
state of the connection."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from apps.dexcom.models import DexcomConnection
from apps.glucose import localtime
from apps.glucose.models import DataRange
from apps.sync import completeness
from apps.sync.models import SyncCursor, SyncRun
from tests.dashboard.conftest import _connection
from tests.glucose import factories

DAY = date(2026, 11, 10)
MIDNIGHT = datetime(2026, 11, 10, tzinfo=UTC)
NOW = MIDNIGHT + timedelta(hours=20)


def facts(**changes):
    return completeness.SyncFacts(
        **{
            "cursor": MIDNIGHT + timedelta(hours=18),
            "dexcom_start": MIDNIGHT - timedelta(days=30),
            "dexcom_end": MIDNIGHT + timedelta(hours=19),
            "connection_active": True,
            "connection_status": "Connected",
            "last_sync_at": MIDNIGHT + timedelta(hours=18),
            "last_error": "",
            "failing": False,
            **changes,
        }
    )


def hour(n):
    return MIDNIGHT + timedelta(hours=n), MIDNIGHT + timedelta(hours=n + 1)


def test_each_span_gets_the_first_reason_that_applies():
    f = facts()
    assert completeness.missing_reason(*hour(10), f) == completeness.SENSOR_GAP
    assert (
        completeness.missing_reason(*hour(18), f) == completeness.NOT_SYNCED
    )  # Dexcom has it, we did not ask
    assert completeness.missing_reason(*hour(19), f) == completeness.NOT_AT_DEXCOM
    assert completeness.missing_reason(*hour(19), facts(connection_active=False)) == completeness.ACCESS_LOST
    # What we asked for before access was lost stays a sensor gap.
    assert completeness.missing_reason(*hour(10), facts(connection_active=False)) == completeness.SENSOR_GAP
    early = facts(dexcom_start=MIDNIGHT + timedelta(hours=12))
    assert completeness.missing_reason(*hour(10), early) == completeness.NO_DATA_YET
    assert (
        completeness.missing_reason(*hour(10), facts(cursor=None, dexcom_end=None))
        == completeness.NOT_AT_DEXCOM
    )


def test_a_dst_day_expects_the_readings_its_real_hours_hold():
    zone = ZoneInfo("America/New_York")
    repeated = localtime.local_hour_utc_bounds(date(2026, 11, 1), 1, zone)
    skipped = localtime.local_hour_utc_bounds(date(2026, 3, 8), 2, zone)
    assert repeated[1] - repeated[0] == timedelta(hours=2)
    assert skipped[1] == skipped[0]


@pytest.fixture
def patient_with_gaps(patient):
    """Readings from midnight to 18:00 except 10:00-12:00; asked up to 18:00, Dexcom holds up to
    19:00, now is 20:00."""
    values = [None if 120 <= i < 144 else 130 for i in range(18 * 12)]
    factories.make_egvs(patient, MIDNIGHT, values)
    _connection(patient, last_sync_at=MIDNIGHT + timedelta(hours=18))
    SyncCursor.objects.create(
        patient=patient, record_type="egvs", synced_until=MIDNIGHT + timedelta(hours=18)
    )
    DataRange.objects.create(
        patient=patient, egvs_start=MIDNIGHT - timedelta(days=30), egvs_end=MIDNIGHT + timedelta(hours=19)
    )
    return patient


def _day_report(patient, now=NOW):
    period = localtime.period_ending(DAY, days=1, tzinfo=patient.tzinfo)
    return completeness.completeness_report(patient=patient, period=period, now=now)


def test_a_day_says_where_every_missing_reading_went(patient_with_gaps):
    (day,) = _day_report(patient_with_gaps).days
    assert day.expected == 20 * 12  # up to now
    assert day.present == 16 * 12
    assert day.missing_by_reason == {
        completeness.SENSOR_GAP: 24,
        completeness.NOT_SYNCED: 12,
        completeness.NOT_AT_DEXCOM: 12,
    }
    assert day.hours[21].expected == 0  # not yet happened


def test_a_withdrawn_permission_turns_the_unsynced_hours_into_access_lost(patient_with_gaps):
    DexcomConnection.objects.filter(user=patient_with_gaps).update(
        status=DexcomConnection.Status.NEEDS_REAUTH
    )
    (day,) = _day_report(patient_with_gaps).days
    assert day.missing_by_reason == {completeness.SENSOR_GAP: 24, completeness.ACCESS_LOST: 24}


def test_the_page_shows_the_reasons_and_a_failing_sync(client, patient_with_gaps):
    connection = DexcomConnection.objects.get(user=patient_with_gaps)
    connection.last_error = "Dexcom is not answering right now."
    connection.save(update_fields=["last_error"])
    SyncRun.objects.create(
        connection=connection,
        patient=patient_with_gaps,
        kind=SyncRun.Kind.choices[0][0],
        status=SyncRun.Status.FAILED,
    )
    client.force_login(patient_with_gaps)
    response = client.get(
        reverse("completeness", kwargs={"patient_id": patient_with_gaps.pk})
        + f"?days=1&end={DAY.isoformat()}"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sensor gap (Dexcom has no reading): 2 h 00 min" in html
    assert "The last sync failed: Dexcom is not answering right now." in html
    assert response.context["rows"][0]["day"] == DAY


def test_a_stranger_gets_a_404(client, patient_with_gaps, other_patient):
    client.force_login(other_patient)
    url = reverse("completeness", kwargs={"patient_id": patient_with_gaps.pk})
    assert client.get(url).status_code == 404


def test_an_hour_cut_by_the_cursor_gives_each_piece_its_own_reason(patient):
    """Readings up to 17:45, asked and Dexcom holding up to 17:47: the hour 17:00 holds 10 and
    misses 2 (17:50, 17:55), not yet at Dexcom; nothing is called a sensor gap or our sync."""
    factories.make_egvs(patient, MIDNIGHT, [130] * (17 * 12 + 10))
    _connection(patient, last_sync_at=MIDNIGHT + timedelta(hours=18, minutes=47))
    edge = MIDNIGHT + timedelta(hours=17, minutes=47)
    SyncCursor.objects.create(patient=patient, record_type="egvs", synced_until=edge)
    DataRange.objects.create(patient=patient, egvs_start=MIDNIGHT - timedelta(days=30), egvs_end=edge)
    (day,) = _day_report(patient, now=MIDNIGHT + timedelta(hours=18, minutes=47)).days
    seventeen = day.hours[17]
    assert (seventeen.expected, seventeen.present) == (12, 10)
    assert seventeen.missing_by_reason == {completeness.NOT_AT_DEXCOM: 2}
    assert day.hours[18].missing_by_reason == {completeness.NOT_AT_DEXCOM: 10}  # 18:00-18:45 begun
    assert day.missing_by_reason == {completeness.NOT_AT_DEXCOM: 12}
