"""The real scheduler and sync code against the emulator: N patients on a budget scaled to them.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dexweb_sched \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/sched_emulator.py [--patients 500] [--minutes 20] [--workers 2]

Real parts: PostgreSQL, Redis, a real `celery worker` process (prefork, --workers), the emulator
in its own gunicorn serving Dexcom's API over HTTP with its data delay (readings are published
as wall-clock time passes), the budget of DEXCOM_RATE_LIMIT_PER_HOUR = 3 x patients (1,500 for
500: the 60,000 for 20,000 ratio). The bench plays beat: it sends `sync.enqueue_due_syncs`
every minute (what beat does), nothing else; the worker runs the scheduler tick and the syncs.

Not compressed: time is real. So that the steady state starts at once instead of after an
hour, each patient starts as if synced: cursors 2 hours back, its last sync spread over the
last 50 minutes, its last dataRange/full sync spread over 2/6 hours (as the simulation). 5 %
of patients are watched, marked through schedule.mark_watched (what a page view calls).

Prints: calls per patient-hour, the busiest budget minute against the cap, runs by status,
freshness lag (poll every 10 s for the newest stored reading; lag = when it was first seen
stored minus when the emulator published it, systemTime + the data delay) for watched and
unwatched patients, counting only readings published after the bench started.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("AXES_ENABLED", "false")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Max, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import _server  # noqa: E402

EMAIL = "bench-sched-{}@example.com"


def start_worker(env, workers: int):
    return subprocess.Popen(
        _server.celery_worker_argv("--concurrency", str(workers), "--loglevel", "warning"),
        cwd=PROJECT_DIR,
        env=env,
    )


def remove_bench_users():
    from apps.accounts.models import User

    User.objects.filter(email__startswith="bench-sched-").delete()


def connect_patients(count: int, rng: random.Random):
    from apps.accounts.models import User
    from apps.dexcom import client
    from apps.dexcom.crypto import encrypt_token
    from apps.dexcom.models import DexcomConnection
    from apps.dexcom.services import fetch_dexcom_user_id, store_connection
    from apps.sandbox.profiles import PROFILES
    from apps.sandbox.services import authorization_code_for, ensure_sandbox_users
    from apps.sync.models import SyncCursor, SyncSchedule
    from apps.sync.services import CURSOR_TYPES

    ensure_sandbox_users()
    now = timezone.now().replace(microsecond=0)
    connections = []
    for i in range(count):
        user = User.objects.create_user(email=EMAIL.format(i), password=None)
        code = authorization_code_for(
            sandbox_user_key=PROFILES[i % len(PROFILES)].key,
            client_id=settings.DEXCOM_CLIENT_ID,
            redirect_uri=settings.DEXCOM_REDIRECT_URI,
        )
        # The emulator has 7 sandbox accounts: patients share them, each with its own grant and
        # tokens (the token exchange and userId read are the real ones; the check that one
        # Dexcom account belongs to one dexweb user is what sharing them has to step around).
        pair = client.exchange_code(code=code, redirect_uri=settings.DEXCOM_REDIRECT_URI)
        dexcom_user_id = fetch_dexcom_user_id(access_token=pair.access_token)
        connection = store_connection(
            user=user,
            dexcom_user_id=f"{dexcom_user_id}#{i}",
            access_token_encrypted=encrypt_token(pair.access_token),
            refresh_token_encrypted=encrypt_token(pair.refresh_token),
            expires_at=pair.expires_at,
            start_sync=False,
        )
        SyncCursor.objects.filter(patient_id=user.pk).delete()  # replaced by the steady-state start
        SyncCursor.objects.bulk_create(
            [
                SyncCursor(patient_id=user.pk, record_type=t, synced_until=now - timedelta(hours=2))
                for t in CURSOR_TYPES
            ]
            + [SyncCursor(patient_id=user.pk, record_type="devices", synced_until=now)]
        )
        DexcomConnection.objects.filter(pk=connection.pk).update(
            backfill_completed_at=now, backfill_total_days=0
        )
        SyncSchedule.objects.create(
            connection=connection,
            fresh_as_of=now - timedelta(seconds=rng.uniform(0, 50 * 60)),
            last_range_at=now - timedelta(seconds=rng.uniform(0, 2 * 3600)),
            last_full_at=now - timedelta(seconds=rng.uniform(0, 6 * 3600)),
        )
        connections.append(connection)
    return connections


def newest_readings(patient_ids):
    from apps.glucose.models import Egv

    return dict(
        Egv.objects.filter(patient_id__in=patient_ids)
        .values("patient_id")
        .annotate(newest=Max("system_time"))
        .values_list("patient_id", "newest")
    )


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stop(worker) -> None:
    worker.terminate()  # a warm shutdown: the pool finishes its syncs and is reaped
    worker.wait(60)


def _print_cpu_per_patient(cpu_seconds: float, *, runs: int, patients: int, hours: float) -> None:
    """Worker CPU per sync and what one core can carry at the runs per patient-hour seen here
    (the web, PostgreSQL and the emulator run beside it and are not counted)."""
    if not runs:
        return
    per_run = cpu_seconds / runs
    runs_per_patient_hour = runs / (patients * hours)
    print(
        f"worker CPU: {cpu_seconds:.0f} s for {runs} runs = {per_run * 1000:.0f} ms per run; "
        f"{runs_per_patient_hour:.2f} runs per patient-hour -> one worker core carries "
        f"~{3600 / (per_run * runs_per_patient_hour):,.0f} patients"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--minutes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        raise SystemExit("run it on PostgreSQL (DATABASE_URL), with Redis as CELERY_BROKER_URL")
    rng = random.Random(args.seed)
    budget_per_hour = 3 * args.patients
    call_command("migrate", verbosity=0)
    remove_bench_users()
    from apps.sync import schedule
    from apps.sync.models import ApiBudgetWindow, SyncRun
    from apps.sync.tasks import enqueue_due_syncs_task

    ApiBudgetWindow.objects.all().delete()
    env = {**os.environ, "AXES_ENABLED": "false", "DEXCOM_RATE_LIMIT_PER_HOUR": str(budget_per_hour)}
    url, emulator = _server.start_emulator(env)
    env["DEXCOM_BASE_URL"] = url + "/emulator"
    settings.DEXCOM_BASE_URL = url + "/emulator"
    worker = None
    try:
        began_setup = time.monotonic()
        connections = connect_patients(args.patients, rng)
        patient_ids = [c.user_id for c in connections]
        watched = set(rng.sample(patient_ids, max(1, args.patients // 20)))
        print(
            f"setup: {args.patients} patients connected over HTTP in {time.monotonic() - began_setup:.0f} s; "
            f"budget {budget_per_hour} calls/h ({budget_per_hour // 60}/min), {len(watched)} watched"
        )
        cpu_before = _children_cpu_seconds()
        worker = start_worker(env, args.workers)
        delay = timedelta(minutes=settings.EMULATOR_DATA_DELAY_MINUTES)
        start = timezone.now()
        seen = newest_readings(patient_ids)
        lags = {"watched": [], "unwatched": []}
        next_tick = time.monotonic()
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end:
            if time.monotonic() >= next_tick:
                schedule.mark_watched(patient_ids=watched, for_how_long=schedule.WATCH_PATIENT_PAGE)
                enqueue_due_syncs_task.delay()  # what beat sends every minute
                next_tick += 60
            time.sleep(10)
            now = timezone.now()
            for patient_id, newest in newest_readings(patient_ids).items():
                # A patient with nothing stored yet: everything published since the start counts.
                before = seen.get(patient_id) or start - delay
                if newest > before:
                    moments = np.arange(0, (newest - before).total_seconds() + 1, 300)  # 5-min readings
                    for back in moments:
                        published = newest - timedelta(seconds=float(back)) + delay
                        if published >= start and newest - timedelta(seconds=float(back)) > before:
                            kind = "watched" if patient_id in watched else "unwatched"
                            lags[kind].append((now - published).total_seconds() / 60)
                seen[patient_id] = newest
        elapsed_hours = (timezone.now() - start).total_seconds() / 3600
        _stop(worker)  # its CPU time (and its pool's) is ours to read once it has been reaped
        worker, worker_cpu = None, _children_cpu_seconds() - cpu_before
        runs = SyncRun.objects.filter(connection__in=connections, started_at__gte=start)
        calls = runs.aggregate(total=Sum("api_calls"))["total"] or 0
        busiest = ApiBudgetWindow.objects.filter(window_start__gte=start - timedelta(minutes=1)).aggregate(
            m=Max("calls")
        )["m"]
        by_status = {s: runs.filter(status=s).count() for s in SyncRun.Status.values}
        print(f"ran {elapsed_hours * 60:.1f} min real time with {args.workers} worker processes")
        print(
            f"calls per patient-hour: {calls / (args.patients * elapsed_hours):.2f} (total {calls}); "
            f"busiest minute {busiest} of {budget_per_hour // 60} calls"
        )
        print("runs: " + ", ".join(f"{s} {n}" for s, n in by_status.items()))
        _print_cpu_per_patient(
            worker_cpu, runs=sum(by_status.values()), patients=args.patients, hours=elapsed_hours
        )
        for kind, values in lags.items():
            if values:
                p50, p95 = np.percentile(values, [50, 95])
                print(
                    f"freshness lag {kind}: p50 {p50:.1f} min, p95 {p95:.1f} min, max {max(values):.1f} min "
                    f"({len(values)} readings)"
                )
            else:
                print(f"freshness lag {kind}: no readings published and shown in the window")
    finally:
        if worker:
            _stop(worker)
        emulator.terminate()
        emulator.wait(30)
        remove_bench_users()


if __name__ == "__main__":
    main()
