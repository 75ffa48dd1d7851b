from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.sync import budget, schedule
from apps.sync.lease import LeaseLost, acquire_sync_lease, release_sync_lease, renew_sync_lease
from apps.sync.models import ApiBudgetWindow


@pytest.fixture
def connection(patient):
    return DexcomConnection.objects.create(
        user=patient, base_url="https://dexcom.test", refresh_token_encrypted="x"
    )


def test_it_gives_the_lease_to_one_worker_at_a_time(connection):
    assert acquire_sync_lease(connection_id=connection.pk, owner="a")
    assert not acquire_sync_lease(connection_id=connection.pk, owner="b")
    release_sync_lease(connection_id=connection.pk, owner="a")
    assert acquire_sync_lease(connection_id=connection.pk, owner="b")


def test_it_lets_an_expired_lease_be_taken_over(connection):
    assert acquire_sync_lease(connection_id=connection.pk, owner="dead")
    DexcomConnection.objects.filter(pk=connection.pk).update(
        sync_lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert acquire_sync_lease(connection_id=connection.pk, owner="alive")
    with pytest.raises(LeaseLost):
        renew_sync_lease(connection_id=connection.pk, owner="dead")
    release_sync_lease(connection_id=connection.pk, owner="dead")  # does not free the new owner's lease
    assert not acquire_sync_lease(connection_id=connection.pk, owner="third")


def test_it_gives_no_lease_for_an_inactive_connection(connection):
    DexcomConnection.objects.filter(pk=connection.pk).update(status=DexcomConnection.Status.NEEDS_REAUTH)
    assert not acquire_sync_lease(connection_id=connection.pk, owner="a")


def test_it_spends_at_most_the_per_minute_budget(db, settings):
    import time

    settings.DEXCOM_RATE_LIMIT_PER_HOUR = 180  # 3 per minute
    if timezone.now().second >= 55:
        time.sleep(60 - timezone.now().second)  # keep the four calls inside one minute
    for _ in range(3):
        budget.take_api_call(max_wait_seconds=0)
    with pytest.raises(budget.RequestBudgetExhausted) as raised:
        budget.take_api_call(max_wait_seconds=0)
    assert 0 < raised.value.retry_after <= 60
    assert ApiBudgetWindow.objects.get().calls == 3


def test_it_forgets_old_budget_windows(db):
    ApiBudgetWindow.objects.create(window_start=timezone.now() - timedelta(hours=3), calls=5)
    assert budget.forget_old_windows() == 1


def _chosen(now):
    return [choice.connection_id for choice in schedule.plan_tick(now=now)[0]]


def test_it_queues_each_connection_once_until_its_run_reports(make_user):
    connections = [
        DexcomConnection.objects.create(
            user=make_user(f"p{i}@example.com"), base_url="x", refresh_token_encrypted="x"
        )
        for i in range(10)
    ]
    now = timezone.now()
    first = _chosen(now)
    assert sorted(first) == sorted(c.pk for c in connections)  # never synced: all due
    # A second beat in the same minute, or the next minute, queues nothing more: the claims hold.
    assert _chosen(now) == []
    assert _chosen(now + timedelta(minutes=1)) == []
    # A claim the broker refused is released: the next tick takes it again.
    schedule.release_claim(connection_id=connections[0].pk)
    assert _chosen(now + timedelta(minutes=2)) == [connections[0].pk]


def test_it_does_not_queue_inactive_connections(patient):
    DexcomConnection.objects.create(user=patient, base_url="x", status=DexcomConnection.Status.NEEDS_REAUTH)
    assert _chosen(timezone.now()) == []


def test_it_registers_the_beat_entry(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sync-enqueue-due"]
    assert entry["task"] == "sync.enqueue_due_syncs" and entry["schedule"] == 60.0
    from dexweb.celery import app

    app.loader.import_default_modules()
    assert "sync.enqueue_due_syncs" in app.tasks
