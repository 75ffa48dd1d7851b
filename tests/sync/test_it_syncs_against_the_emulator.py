"""Backfill and incremental sync over real HTTP against the emulator (live server)."""

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
from tests.sync.conftest import assert_db_equals_truth

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_it_makes_at_most_two_calls_when_nothing_is_new(connection):
    services.sync_connection(connection_id=connection.pk)
    before = Egv.objects.count()
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert run.api_calls <= 2
    assert Egv.objects.count() == before


def test_it_fetches_only_what_is_new(connection, settings):
    services.sync_connection(connection_id=connection.pk)
    before = Egv.objects.filter(patient=connection.user).count()
    # Dexcom publishes readings as time passes: a shorter delay publishes the next 30 minutes.
    settings.EMULATOR_DATA_DELAY_MINUTES = settings.EMULATOR_DATA_DELAY_MINUTES - 30
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    added = Egv.objects.filter(patient=connection.user).count() - before
    assert 5 <= added <= 7
    assert run.api_calls <= 5
    assert_db_equals_truth(connection)


def test_it_reflects_event_edits_and_deletions_of_the_last_24_hours(connection):
    services.sync_connection(connection_id=connection.pk)
    recent = timezone.now() - timedelta(hours=26)
    statuses = set(
        Event.objects.filter(patient=connection.user, system_time__gte=recent).values_list(
            "event_status", flat=True
        )
    )
    # The emulator edits and deletes some events after the fact; they arrive under the same id.
    assert statuses <= {"created", "updated", "deleted"}
    services.sync_connection(connection_id=connection.pk)
    assert_db_equals_truth(connection)


def test_it_skips_a_connection_that_is_already_syncing(connection):
    DexcomConnection.objects.filter(pk=connection.pk).update(
        sync_lease_until=timezone.now() + timedelta(minutes=5), sync_lease_owner="other-worker"
    )
    assert services.sync_connection(connection_id=connection.pk) is None
    assert not SyncRun.objects.exists()


def test_it_takes_over_a_lease_whose_worker_died(connection):
    DexcomConnection.objects.filter(pk=connection.pk).update(
        sync_lease_until=timezone.now() - timedelta(seconds=1), sync_lease_owner="dead-worker"
    )
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED
    connection.refresh_from_db()
    assert connection.sync_lease_until is None


def test_it_restarts_a_full_backfill_without_duplicating(connection):
    services.sync_connection(connection_id=connection.pk)
    count = Egv.objects.count()
    run = services.backfill_connection(connection_id=connection.pk, restart=True)
    assert run.kind == SyncRun.Kind.BACKFILL and run.status == SyncRun.Status.SUCCEEDED
    assert abs(Egv.objects.count() - count) <= 1
    assert_db_equals_truth(connection)


def test_it_connects_and_backfills_a_demo_user(emulator, make_user):
    user = make_user("demo@example.com", "patient")
    connection = connect_and_backfill_demo(user=user, sandbox_user_key="SandboxUser7")
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert connection.backfill_completed_at is not None
    assert_db_equals_truth(connection, sandbox_user_key="SandboxUser7")
