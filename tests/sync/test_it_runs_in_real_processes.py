"""A real Celery worker syncs a patient end to end; a sync process killed mid-run loses nothing.

The subprocesses use the test database (on SQLite a file, see settings DATABASES TEST NAME) and
the broker of CELERY_BROKER_URL, and reach the emulator on the live server over HTTP.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db_connection

from apps.glucose.models import Egv
from apps.sync import services
from apps.sync.models import SyncCursor, SyncRun
from tests.sync.conftest import assert_db_equals_truth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

PROJECT_DIR = Path(settings.BASE_DIR)


def _database_url() -> str:
    db = db_connection.settings_dict
    if db_connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def _subprocess_env(emulator_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dexweb.settings",
        DATABASE_URL=_database_url(),
        DEXCOM_BASE_URL=emulator_url + "/emulator",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        DEXWEB_VAR_DIR=str(settings.VAR_DIR),
        AXES_ENABLED="false",
        **extra,
    )
    return env


def _wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _start_worker(*, emulator_url: str, queue: str, log, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dexweb",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT_DIR,
        env=_subprocess_env(emulator_url, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker(emulator, tmp_path):
    """A `celery -A dexweb worker --pool=solo` process consuming a queue of its own."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with open(tmp_path / "worker.log", "w") as log:
        process = _start_worker(emulator_url=emulator.url, queue=queue, log=log)
        yield queue
        _stop(process)


def test_it_syncs_a_patient_end_to_end_in_a_real_celery_worker(connection, worker, tmp_path):
    from apps.sync.tasks import sync_connection_task

    sync_connection_task.apply_async(args=[connection.pk], queue=worker)
    try:
        _wait_for(
            lambda: SyncRun.objects.filter(connection=connection, status=SyncRun.Status.SUCCEEDED).exists(),
            timeout=180,
            what="the worker's sync run",
        )
    except AssertionError:
        print((tmp_path / "worker.log").read_text()[-5000:])
        raise
    assert_db_equals_truth(connection)
    connection.refresh_from_db()
    assert connection.backfill_completed_at is not None


def test_it_loses_nothing_when_a_sync_process_is_killed_mid_run(connection, emulator, tmp_path):
    from apps.sandbox import faults

    faults.inject(kind="slow", endpoint="egvs", times=None, seconds=2)
    log = open(tmp_path / "sync.log", "w")  # noqa: SIM115 - the subprocess writes it until it ends
    process = subprocess.Popen(
        [sys.executable, "manage.py", "dexcom_sync", "--user", connection.user.email],
        cwd=PROJECT_DIR,
        env=_subprocess_env(emulator.url, SYNC_LEASE_SECONDS="3"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    origin = SyncCursor.objects.get(patient=connection.user, record_type="egvs").synced_until
    # Kill it once the first 30-day window of readings is committed, in the middle of the next.
    _wait_for(
        lambda: SyncCursor.objects.get(patient=connection.user, record_type="egvs").synced_until > origin,
        timeout=120,
        what="the first committed window",
    )
    process.kill()
    process.wait()
    log.close()
    partial = Egv.objects.filter(patient=connection.user).count()
    assert 0 < partial < 20000
    faults.clear()
    time.sleep(3.5)  # the dead process's lease runs out
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    killed = SyncRun.objects.exclude(pk=run.pk).get()
    assert killed.status == SyncRun.Status.FAILED and "killed" in killed.errors[0]
    assert_db_equals_truth(connection)


def test_it_loses_nothing_when_a_celery_worker_is_killed_mid_sync(connection, emulator, tmp_path):
    from apps.sandbox import faults
    from apps.sync.tasks import sync_connection_task

    queue = f"test-{uuid.uuid4().hex[:8]}"
    faults.inject(kind="slow", endpoint="egvs", times=None, seconds=2)
    origin = SyncCursor.objects.get(patient=connection.user, record_type="egvs").synced_until
    with open(tmp_path / "worker.log", "w") as log:
        doomed = _start_worker(emulator_url=emulator.url, queue=queue, log=log, SYNC_LEASE_SECONDS="3")
        sync_connection_task.apply_async(args=[connection.pk], queue=queue)
        _wait_for(
            lambda: SyncCursor.objects.get(patient=connection.user, record_type="egvs").synced_until > origin,
            timeout=120,
            what="the worker's first committed window",
        )
        doomed.kill()  # SIGKILL: no cleanup, the lease is left behind
        doomed.wait()
        partial = Egv.objects.filter(patient=connection.user).count()
        assert 0 < partial < 20000
        faults.clear()
        time.sleep(3.5)  # the dead worker's lease runs out
        # Beat queues the connection again at its next slot; a fresh worker picks it up.
        successor = _start_worker(emulator_url=emulator.url, queue=queue, log=log)
        try:
            sync_connection_task.apply_async(args=[connection.pk], queue=queue)
            _wait_for(
                lambda: SyncRun.objects.filter(
                    connection=connection, status=SyncRun.Status.SUCCEEDED
                ).exists(),
                timeout=180,
                what="the successor's sync run",
            )
        finally:
            _stop(successor)
    assert_db_equals_truth(connection)
