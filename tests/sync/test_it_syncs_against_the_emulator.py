"""Backfill and incremental sync: over real HTTP against the emulator (live server) for a full
backfill and a demo user's OAuth connect, against the in-memory fake holding the same truth for
the rest."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.demo.services import connect_and_backfill_demo
from apps.dexcom.models import DexcomConnection
from apps.glucose.models import (
    AlertSchedule,
    AlertSettingVersion,
    DailySummary,
    DataRange,
    Device,
    Egv,
    Event,
)
from apps.sync import services
from apps.sync.models import SyncRun
from tests.sync.conftest import api_as_of, assert_db_equals_truth, load_truth

live = pytest.mark.django_db(transaction=True)


@live
def test_it_backfills_90_days_equal_to_the_emulators_truth(connection):
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.kind == SyncRun.Kind.BACKFILL
    compared = assert_db_equals_truth(connection)
    assert compared["egvs"] > 88 * 288 * 0.8  # ~90 days of 5-minute readings
    connection.refresh_from_db()
    assert connection.backfill_completed_at is not None
    assert connection.backfill_percent == 100
    assert connection.last_sync_at is not None and connection.last_error == ""
    assert Device.objects.filter(patient=connection.user).exists()
    assert AlertSchedule.objects.filter(device__patient=connection.user).exists()
    assert AlertSettingVersion.objects.filter(device__patient=connection.user).exists()
    assert DataRange.objects.get(patient=connection.user).egvs_end is not None
    assert DailySummary.objects.filter(patient=connection.user).count() >= 89
    assert run.api_calls <= 20


def test_it_makes_at_most_two_calls_when_nothing_is_new(api, api_connection):
    services.sync_connection(connection_id=api_connection.pk, api=api)
    before = Egv.objects.count()
    api.calls.clear()
    run = services.sync_connection(connection_id=api_connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert run.api_calls <= 2
    assert sum(api.calls.values()) == run.api_calls  # every call counted, none made twice
    assert Egv.objects.count() == before


def test_it_fetches_only_what_is_new(db, connect_fake, settings):
    # Dexcom publishes readings as time passes: first what it had 30 minutes ago, then now.

    now = timezone.now()
    api = api_as_of(now - timedelta(minutes=30))
    connection = connect_fake(api)
    services.sync_connection(connection_id=connection.pk, api=api)
    before = Egv.objects.filter(patient=connection.user).count()
    load_truth(api, now=now)
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    added = Egv.objects.filter(patient=connection.user).count() - before
    assert 5 <= added <= 7
    assert run.api_calls <= 5
    assert_db_equals_truth(connection, api=api)


def test_it_reflects_event_edits_and_deletions_of_the_last_24_hours(api, api_connection):
    connection = api_connection
    services.sync_connection(connection_id=connection.pk, api=api)
    recent = timezone.now() - timedelta(hours=26)
    statuses = set(
        Event.objects.filter(patient=connection.user, system_time__gte=recent).values_list(
            "event_status", flat=True
        )
    )
    # The emulator edits and deletes some events after the fact; they arrive under the same id.
    assert statuses <= {"created", "updated", "deleted"}
    # Dexcom edits and deletes events in place: the same recordId comes back changed.
    [edited] = [
        record
        for record in api.records_between("events", timezone.now() - timedelta(hours=20), timezone.now())
        if record["eventStatus"] == "created"
    ][:1]
    api.add("events", [edited | {"eventStatus": "deleted"}], arrived_at=timezone.now() - timedelta(minutes=1))
    services.sync_connection(connection_id=connection.pk, api=api)
    assert Event.objects.get(patient=connection.user, record_id=edited["recordId"]).event_status == "deleted"
    assert_db_equals_truth(connection, api=api)


def test_it_skips_a_connection_that_is_already_syncing(api, api_connection):
    connection = api_connection
    DexcomConnection.objects.filter(pk=connection.pk).update(
        sync_lease_until=timezone.now() + timedelta(minutes=5), sync_lease_owner="other-worker"
    )
    assert services.sync_connection(connection_id=connection.pk, api=api) is None
    assert not SyncRun.objects.exists()
    assert not api.calls  # Dexcom was not asked


def test_it_takes_over_a_lease_whose_worker_died(api, api_connection):
    connection = api_connection
    DexcomConnection.objects.filter(pk=connection.pk).update(
        sync_lease_until=timezone.now() - timedelta(seconds=1), sync_lease_owner="dead-worker"
    )
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED
    connection.refresh_from_db()
    assert connection.sync_lease_until is None


def test_it_restarts_a_full_backfill_without_duplicating(api, api_connection):
    connection = api_connection
    services.sync_connection(connection_id=connection.pk, api=api)
    count = Egv.objects.count()
    run = services.backfill_connection(connection_id=connection.pk, restart=True, api=api)
    assert run.kind == SyncRun.Kind.BACKFILL and run.status == SyncRun.Status.SUCCEEDED
    assert abs(Egv.objects.count() - count) <= 1
    assert_db_equals_truth(connection, api=api)


@live
def test_it_connects_and_backfills_a_demo_user(emulator, make_user):
    user = make_user("demo@example.com", "patient")
    connection = connect_and_backfill_demo(user=user, sandbox_user_key="SandboxUser7")
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert connection.backfill_completed_at is not None
    assert_db_equals_truth(connection, sandbox_user_key="SandboxUser7")
