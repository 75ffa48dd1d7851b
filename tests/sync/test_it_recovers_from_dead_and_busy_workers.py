"""Recovery in seconds, not a lease: heartbeats, takeover from dead workers, re-queue when busy.

A live run renews its short lease before every Dexcom call, so nobody takes it over; a worker
killed with kill -9 stops renewing and the next task takes over once the lease runs out; a task
that finds a live run re-queues itself instead of being acknowledged and dropped.
"""

import threading
import time
import uuid

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from apps.glucose.models import Egv
from apps.sync import services
from apps.sync.lease import acquire_sync_lease, release_sync_lease, renew_sync_lease
from apps.sync.models import SyncCursor, SyncRun
from tests.sync.conftest import assert_db_equals_truth
from tests.sync.test_it_runs_in_real_processes import _start_worker, _stop, _wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SYNC_INTERVAL = 30  # seconds, short for the test: the target is 2 x the interval


def test_a_live_run_keeps_its_short_lease_through_slow_calls(
    connect, settings, close_thread_connections, monkeypatch
):
    from apps.sandbox import faults

    connection = connect(days=2)
    settings.SYNC_LEASE_SECONDS = 5
    # Two calls (dataRange, then the first window) take 6 s before the first window commits:
    # renewing per window would let the lease lapse; renewing per call never does.
    faults.inject(kind="slow", times=None, seconds=3)
    outcome = {}
    # The thread lives on a moment after the run gives its lease back: taking it then is no theft.
    released = threading.Event()
    real_release = services.release_sync_lease

    def release(**kwargs):
        released.set()
        real_release(**kwargs)

    monkeypatch.setattr(services, "release_sync_lease", release)

    def sync():
        try:
            outcome["run"] = services.sync_connection(connection_id=connection.pk)
        finally:
            db_connection.close()

    runner = threading.Thread(target=sync)
    runner.start()
    time.sleep(0.5)
    stolen = []
    while runner.is_alive():
        owner = f"intruder-{uuid.uuid4().hex[:6]}"
        if acquire_sync_lease(connection_id=connection.pk, owner=owner):
            if not released.is_set():
                stolen.append(time.monotonic())
            release_sync_lease(connection_id=connection.pk, owner=owner)
        time.sleep(0.2)
    runner.join()
    assert released.is_set()
    assert not stolen, "another worker could take over the lease of a live run"
    assert outcome["run"].status == SyncRun.Status.SUCCEEDED, outcome["run"].errors


@pytest.mark.worker
def test_a_task_that_finds_a_live_run_is_requeued_not_dropped(connection, emulator, settings, tmp_path):
    from apps.sync.tasks import sync_connection_task

    queue = f"test-{uuid.uuid4().hex[:8]}"
    owner = "a-live-run"
    assert acquire_sync_lease(connection_id=connection.pk, owner=owner)
    with open(tmp_path / "worker.log", "w") as log:
        worker = _start_worker(emulator_url=emulator.url, queue=queue, log=log, SYNC_LEASE_SECONDS="3")
        try:
            sync_connection_task.apply_async(args=[connection.pk], queue=queue)
            # The live run goes on for 8 s, renewing its lease: the task must wait, not run.
            for _ in range(8):
                settings.SYNC_LEASE_SECONDS = 3
                renew_sync_lease(connection_id=connection.pk, owner=owner)
                time.sleep(1)
            assert not SyncRun.objects.filter(connection=connection).exists()
            release_sync_lease(connection_id=connection.pk, owner=owner)
            _wait_for(
                lambda: SyncRun.objects.filter(
                    connection=connection, status=SyncRun.Status.SUCCEEDED
                ).exists(),
                timeout=60,
                what="the re-queued task's run",
            )
        except AssertionError:
            print((tmp_path / "worker.log").read_text()[-4000:])
            raise
        finally:
            _stop(worker)
    assert "re-queued" in (tmp_path / "worker.log").read_text()
    assert_db_equals_truth(connection)


@pytest.mark.worker
def test_after_kill_9_mid_backfill_the_next_worker_completes_within_two_intervals(
    connection, emulator, tmp_path
):
    from apps.sandbox import faults
    from apps.sync.tasks import backfill_connection_task, sync_connection_task

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {"SYNC_LEASE_SECONDS": "10", "SYNC_INTERVAL_SECONDS": str(SYNC_INTERVAL)}
    faults.inject(kind="slow", endpoint="egvs", times=None, seconds=2)
    origin = SyncCursor.objects.get(patient=connection.user, record_type="egvs").synced_until
    with open(tmp_path / "worker.log", "w") as log:
        doomed = _start_worker(emulator_url=emulator.url, queue=queue, log=log, **env)
        backfill_connection_task.apply_async(args=[connection.pk], queue=queue)
        _wait_for(
            lambda: SyncCursor.objects.get(patient=connection.user, record_type="egvs").synced_until > origin,
            timeout=120,
            what="the first committed window",
        )
        doomed.kill()  # SIGKILL mid-backfill: no cleanup, its lease and its "running" run stay
        doomed.wait()
        killed_at = time.monotonic()
        faults.clear()
        assert 0 < Egv.objects.filter(patient=connection.user).count() < 20000
        assert DexcomConnection.objects.get(pk=connection.pk).sync_lease_until > timezone.now()
        # Beat's next slot queues the connection while the dead worker's lease still holds.
        successor = _start_worker(emulator_url=emulator.url, queue=queue, log=log, **env)
        try:
            sync_connection_task.apply_async(args=[connection.pk], queue=queue)
            _wait_for(
                lambda: SyncRun.objects.filter(
                    connection=connection, status=SyncRun.Status.SUCCEEDED
                ).exists(),
                timeout=2 * SYNC_INTERVAL,
                what="the successor's run, within 2 x the sync interval",
            )
            recovered_in = time.monotonic() - killed_at
        except AssertionError:
            print((tmp_path / "worker.log").read_text()[-4000:])
            raise
        finally:
            _stop(successor)
    print(f"kill -9 mid-backfill: complete again {recovered_in:.1f} s after the kill")
    assert recovered_in < 2 * SYNC_INTERVAL
    abandoned = SyncRun.objects.exclude(status=SyncRun.Status.SUCCEEDED).get()
    assert abandoned.status == SyncRun.Status.FAILED and "killed" in abandoned.errors[0]
    assert_db_equals_truth(connection)
