"""Clocks ahead of ours: future systemTimes, a cursor in the future, and what the page says."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.glucose.models import Egv
from apps.sync import services
from apps.sync.models import SyncCursor, SyncRun
from apps.sync.records import FUTURE_TOLERANCE, rows_from_records

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def egv_at(moment, record_id="a"):
    return {
        "recordId": record_id,
        "systemTime": f"{moment:%Y-%m-%dT%H:%M:%S}Z",
        "displayTime": f"{moment:%Y-%m-%dT%H:%M:%S}Z",
        "value": 120,
        "trend": "flat",
    }


@pytest.mark.parametrize("ahead", [timedelta(minutes=11), timedelta(hours=5), timedelta(days=1, hours=23)])
def test_it_quarantines_a_system_time_ahead_of_the_clock(ahead):
    rows, bad = rows_from_records("egvs", [egv_at(NOW + ahead)], patient_id=1, now=NOW)
    assert rows == [] and len(bad) == 1
    assert "in the future" in bad[0].reason and "10 min of clock skew" in bad[0].reason


def test_it_accepts_a_few_minutes_of_clock_skew():
    rows, bad = rows_from_records("egvs", [egv_at(NOW + FUTURE_TOLERANCE)], patient_id=1, now=NOW)
    assert not bad and rows[0]["system_time"] == NOW + FUTURE_TOLERANCE


@pytest.mark.django_db
def test_a_cursor_in_the_future_is_reset_and_the_data_is_fetched(api, api_connection, caplog):
    connection = api_connection
    services.sync_connection(connection_id=connection.pk, api=api)
    newest = Egv.objects.filter(patient=connection.user).latest("system_time").system_time
    # A worker whose clock ran two days fast wrote cursors in the future; readings went missing.
    Egv.objects.filter(patient=connection.user, system_time__gte=newest - timedelta(hours=6)).delete()
    held = Egv.objects.filter(patient=connection.user).latest("system_time").system_time
    SyncCursor.objects.filter(patient=connection.user).update(synced_until=timezone.now() + timedelta(days=2))
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert "in the future (clock skew); reset to" in caplog.text
    cursors = dict(
        SyncCursor.objects.filter(patient=connection.user).values_list("record_type", "synced_until")
    )
    assert all(moment <= timezone.now() for moment in cursors.values())
    assert cursors["egvs"] > held
    assert (
        Egv.objects.filter(patient=connection.user).latest("system_time").system_time == newest
    )  # refetched
    from tests.sync.conftest import assert_db_equals_truth

    assert_db_equals_truth(connection, api=api)


@pytest.mark.django_db
def test_last_data_at_moves_only_when_readings_arrive(connect_fake):
    from tests.sync.conftest import api_as_of, load_truth

    now = timezone.now()
    api = api_as_of(now - timedelta(minutes=30))
    connection = connect_fake(api)
    services.sync_connection(connection_id=connection.pk, api=api)
    connection.refresh_from_db()
    first_data, first_sync = connection.last_data_at, connection.last_sync_at
    assert first_data is not None
    services.sync_connection(connection_id=connection.pk, api=api)  # nothing new
    connection.refresh_from_db()
    assert connection.last_sync_at > first_sync and connection.last_data_at == first_data
    load_truth(api, now=now)  # the next half hour of readings is published
    services.sync_connection(connection_id=connection.pk, api=api)
    connection.refresh_from_db()
    assert connection.last_data_at > first_data


@pytest.mark.django_db
def test_the_page_says_when_readings_last_arrived_not_only_when_we_checked(client, patient):
    now = timezone.now()
    DexcomConnection.objects.create(
        user=patient,
        base_url="http://example.invalid",
        last_sync_at=now - timedelta(minutes=3),
        last_data_at=now - timedelta(hours=5),
        backfill_completed_at=now - timedelta(days=3),
    )
    client.force_login(patient)
    page = client.get(reverse("dexcom:status")).content.decode()
    assert "Last synced" not in page
    assert "Last checked with Dexcom" in page and "3\xa0minutes ago" in page
    assert "New readings last arrived" in page and "5\xa0hours ago" in page
    assert "Dexcom has sent no new readings since 5\xa0hours ago" in page


@pytest.mark.django_db
def test_the_page_has_no_notice_while_readings_keep_coming(client, patient):
    now = timezone.now()
    DexcomConnection.objects.create(
        user=patient,
        base_url="http://example.invalid",
        last_sync_at=now - timedelta(minutes=3),
        last_data_at=now - timedelta(minutes=3),
        backfill_completed_at=now - timedelta(days=3),
    )
    client.force_login(patient)
    page = client.get(reverse("dexcom:status")).content.decode()
    assert "3\xa0minutes ago" in page and "has sent no new readings" not in page
