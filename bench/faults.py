"""Recovery figures of the sync under faults: kill -9 mid-backfill, 30 s database and broker outages.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dexweb_faults \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 DEXWEB_VAR_DIR=/tmp/dexweb-faults \
        .venv/bin/python bench/faults.py [--patients 4] [--interval 60] [--outage 30]

Real parts: PostgreSQL, Redis, two `celery worker --pool=solo` processes, the emulator in its
own gunicorn, patients connected by the real OAuth token exchange. Beat is played by this
process: every --beat seconds it sends the real `sync.enqueue_due_syncs` task through Redis.
The workers reach PostgreSQL through a TCP proxy in this process, so the outage is theirs
alone (the emulator and this process keep the database; other users of the server are not
touched): every open connection is cut and new ones are refused until it ends. Workers and
beat reach Redis through a second proxy the same way, so the broker outage cuts them all
without stopping the Redis server others use.

Prints one row per fault: records lost / duplicated (against the emulator's truth), runs or
leases stuck, sync tasks that ended in an error instead of being retried, and the recovery time
(kill: until every patient's backfill is complete; outage: until every connection has synced
again after the database is back) against the target of 2 x the sync interval. The bench's users are removed before and after.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("AXES_ENABLED", "false")

import django

django.setup()

import contextlib

from django.conf import settings
from django.core.management import call_command
from django.db import connection as db_connection
from django.utils import timezone

from bench import _server

EMAIL = "bench-faults-{}@example.com"
LEASE_SECONDS = 20  # against the 60 s interval, about production's 90 s lease to its 300 s interval
SANDBOX_USER_OF: dict[int, str] = {}  # connection id -> the emulator user it is connected to


# --- A TCP proxy to PostgreSQL that can go down --------------------------------------------------


class TcpProxy:
    """127.0.0.1:<port> -> a server. down() cuts every connection and refuses new ones."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_down = False
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if self.is_down:
                client.close()  # as a crashed server: the client sees the connection drop
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def down(self):
        self.is_down = True
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass

    def up(self):
        self.is_down = False


def proxied_url(url: str, proxy: TcpProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def proxy_for(url: str, default_port: int) -> TcpProxy:
    parts = urlsplit(url)
    return TcpProxy(parts.hostname or "127.0.0.1", parts.port or default_port)


# --- Workers and beat -----------------------------------------------------------------------------


class Workers:
    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir, self.processes, self.count = env, log_dir, [], 0

    def start(self) -> subprocess.Popen:
        self.count += 1
        log = open(self.log_dir / f"worker-{self.count}.log", "w")  # noqa: SIM115 - the worker writes it until it stops
        process = subprocess.Popen(
            _server.celery_worker_argv(
                "--pool=solo", "-Q", "celery", "-n", f"bench-faults-{self.count}@%h", "--loglevel=INFO"
            ),
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def log_text(self) -> str:
        return "".join(p.read_text() for p in sorted(self.log_dir.glob("worker-*.log")))


class Beat(threading.Thread):
    """Sends the real beat task every `period` seconds (as `celery beat` does every minute)."""

    def __init__(self, period: float):
        super().__init__(daemon=True)
        self.period, self.stopped = period, threading.Event()

    def run(self):
        from apps.sync.tasks import enqueue_due_syncs_task

        while not self.stopped.is_set():
            try:
                enqueue_due_syncs_task.delay()
            except Exception as error:  # noqa: BLE001 - the broker may be down; beat goes on
                print(f"  beat: could not send ({type(error).__name__})")
            self.stopped.wait(self.period)


# --- Patients and checks ----------------------------------------------------------------------------


def remove_bench_users():
    from apps.accounts.models import User

    User.objects.filter(email__startswith="bench-faults-").delete()


def connect_patients(count: int, days: int) -> list:
    from apps.accounts.models import User
    from apps.dexcom.services import connect_with_authorization_code
    from apps.sandbox.services import authorization_code_for, ensure_sandbox_users
    from apps.sync.services import reset_sync_state

    ensure_sandbox_users()
    connections = []
    for n in range(count):
        user = User.objects.create_user(email=EMAIL.format(n), password=None)
        key = f"SandboxUser{n % 6 + 1}"
        code = authorization_code_for(
            sandbox_user_key=key,
            client_id=settings.DEXCOM_CLIENT_ID,
            redirect_uri=settings.DEXCOM_REDIRECT_URI,
        )
        connection = connect_with_authorization_code(user=user, code=code, start_sync=False)
        reset_sync_state(connection_id=connection.pk, days=days)
        SANDBOX_USER_OF[connection.pk] = key
        connections.append(connection)
    return connections


def compare_with_truth(connection) -> tuple[int, int]:
    """(records missing, records extra or duplicated) over what the cursors call complete."""
    from apps.glucose.ingest import MODELS
    from apps.sandbox import truth
    from apps.sync.models import SyncCursor, SyncRun
    from apps.sync.records import rows_from_records
    from apps.sync.services import OVERLAP

    key = SANDBOX_USER_OF[connection.pk]
    first = SyncRun.objects.filter(connection=connection).order_by("started_at").first()
    start = (
        first.started_at - timedelta(days=connection.backfill_total_days) + OVERLAP + timedelta(minutes=1)
    ).replace(microsecond=0)
    cursors = dict(
        SyncCursor.objects.filter(patient=connection.user).values_list("record_type", "synced_until")
    )
    missing = extra = 0
    for record_type, model in MODELS.items():
        end = cursors[record_type].replace(microsecond=0)
        raw = truth.records(sandbox_user_key=key, record_type=record_type, start=start, end=end)
        expected, _ = rows_from_records(
            record_type, raw, patient_id=connection.user_id, now=end + timedelta(days=1)
        )
        expected_ids = {row["record_id"] for row in expected}
        stored = list(
            model.objects.filter(
                patient=connection.user, system_time__gte=start, system_time__lt=end
            ).values_list("record_id", flat=True)
        )
        missing += len(expected_ids - set(stored))
        extra += len(set(stored) - expected_ids) + (len(stored) - len(set(stored)))
    return missing, extra


def stuck_count(connections) -> int:
    """Runs still 'running' and leases still held once everything should be over."""
    from apps.dexcom.models import DexcomConnection
    from apps.sync.models import SyncRun

    ids = [c.pk for c in connections]
    running = SyncRun.objects.filter(connection_id__in=ids, status=SyncRun.Status.RUNNING).count()
    leased = DexcomConnection.objects.filter(pk__in=ids, sync_lease_until__gt=timezone.now()).count()
    return running + leased


def wait_for(predicate, *, timeout: float) -> float | None:
    """Seconds until predicate() held, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def failed_without_retry(log: str) -> int:
    """Sync tasks that ended in an error: each one a patient's sync lost until the next slot."""
    return len(re.findall(r"Task sync\.(?:sync|backfill)_connection\[[^\]]+\] raised unexpected", log))


def beat_ticks_given_up(log: str) -> int:
    # By design after 3 retries: the next tick (--beat seconds later) claims the same slots.
    return len(re.findall(r"Task sync\.enqueue_due_syncs\[[^\]]+\] raised unexpected", log))


def retried(log: str) -> int:
    return len(re.findall(r"Task sync\.\w+\[[^\]]+\] retry: ", log))


# --- Scenarios ---------------------------------------------------------------------------------------


def kill_mid_backfill(connections, workers: Workers, interval: int) -> dict:
    from apps.dexcom.models import DexcomConnection
    from apps.sandbox import faults
    from apps.sync.models import SyncCursor

    ids = [c.pk for c in connections]
    origin = {
        c.pk: SyncCursor.objects.get(patient=c.user, record_type="egvs").synced_until for c in connections
    }
    faults.inject(kind="slow", endpoint="egvs", times=None, seconds=1.5)

    def some_window_committed():
        return any(
            SyncCursor.objects.get(patient=c.user, record_type="egvs").synced_until > origin[c.pk]
            for c in connections
        )

    if wait_for(some_window_committed, timeout=180) is None:
        raise SystemExit("no backfill window was committed: are the workers running?")
    victim = workers.processes[0]
    victim.kill()  # SIGKILL: no cleanup, its lease and its running run stay behind
    victim.wait()
    killed = time.monotonic()
    faults.clear()
    print("  killed a worker mid-backfill (kill -9); starting a replacement")
    workers.start()

    def all_complete():
        return DexcomConnection.objects.filter(
            pk__in=ids, backfill_completed_at__isnull=False
        ).count() == len(ids)

    took = wait_for(all_complete, timeout=3 * interval)
    return _figures(
        "kill -9 mid-backfill", connections, workers, took and time.monotonic() - killed, interval
    )


def database_outage(connections, workers: Workers, proxy: TcpProxy, seconds: int, interval: int) -> dict:
    return _outage("database", connections, workers, proxy, seconds, interval)


def broker_outage(connections, workers: Workers, proxy: TcpProxy, seconds: int, interval: int) -> dict:
    return _outage("broker (Redis)", connections, workers, proxy, seconds, interval)


def _outage(what: str, connections, workers: Workers, proxy: TcpProxy, seconds: int, interval: int) -> dict:
    from apps.sandbox import faults
    from apps.sync.models import SyncRun, SyncSchedule

    ids = [c.pk for c in connections]
    before_log = workers.log_text()
    # Slow answers keep runs in flight when the database goes away.
    faults.inject(kind="slow", endpoint="dataRange", times=len(ids), seconds=3)
    # A fresh round in flight: every connection due now, the next beat queues them all.
    SyncSchedule.objects.filter(connection_id__in=ids).update(queued_at=None, fresh_as_of=None)
    round_started = timezone.now()
    wait_for(
        lambda: SyncRun.objects.filter(connection_id__in=ids, started_at__gte=round_started).exists(),
        timeout=60,
    )
    proxy.down()
    print(f"  {what} down for {seconds} s")
    time.sleep(seconds)
    proxy.up()
    back = time.monotonic()
    back_at = timezone.now()
    print(f"  {what} back")

    def all_synced_again():
        synced = (
            SyncRun.objects.filter(
                connection_id__in=ids, status=SyncRun.Status.SUCCEEDED, finished_at__gte=back_at
            )
            .values("connection_id")
            .distinct()
            .count()
        )
        return synced == len(ids)

    took = wait_for(all_synced_again, timeout=3 * interval)
    figures = _figures(
        f"{seconds} s {what} outage", connections, workers, took and time.monotonic() - back, interval
    )
    log = workers.log_text()[len(before_log) :]
    figures["sync tasks lost"] = failed_without_retry(log)
    figures["retries"] = retried(log)
    figures["beat ticks given up"] = beat_ticks_given_up(log)
    return figures


def _figures(fault: str, connections, workers: Workers, recovery: float | None, interval: int) -> dict:
    missing = extra = 0
    for connection in connections:
        connection.refresh_from_db()
        m, e = compare_with_truth(connection)
        missing, extra = missing + m, extra + e
    log = workers.log_text()
    return {
        "fault": fault,
        "lost": missing,
        "duplicated": extra,
        "stuck": stuck_count(connections),
        "recovery": f"{recovery:.0f} s" if recovery is not None else f"> {3 * interval} s",
        "target": f"<= {2 * interval} s",
        "sync tasks lost": failed_without_retry(log),
        "retries": retried(log),
        "beat ticks given up": beat_ticks_given_up(log),
    }


def print_table(rows: list[dict]) -> None:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print(" | ".join(c.ljust(widths[c]) for c in columns))
    print("-|-".join("-" * widths[c] for c in columns))
    for row in rows:
        print(" | ".join(str(row[c]).ljust(widths[c]) for c in columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=4)
    parser.add_argument("--days", type=int, default=90, help="backfill depth")
    parser.add_argument("--interval", type=int, default=60, help="SYNC_INTERVAL_SECONDS for the workers")
    parser.add_argument("--beat", type=float, default=10.0, help="seconds between beat ticks")
    parser.add_argument(
        "--outage", type=int, default=30, help="seconds the database, then the broker, is down"
    )
    args = parser.parse_args()
    if db_connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        raise SystemExit("needs DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...")

    from dexweb.celery import app

    call_command("migrate", verbosity=0)
    url, emulator = _server.start_emulator()
    settings.DEXCOM_BASE_URL = url + "/emulator"
    settings.DEXCOM_REDIRECT_URI = url + "/accounts/dexcom/login/callback/"
    db = db_connection.settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    broker_proxy = proxy_for(settings.CELERY_BROKER_URL, 6379)
    broker_url = proxied_url(settings.CELERY_BROKER_URL, broker_proxy)
    app.conf.broker_url = broker_url  # beat (this process) loses the broker with the workers
    log_dir = Path(settings.VAR_DIR) / "bench-faults"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("worker-*.log"):
        old.unlink()
    worker_env = {
        **os.environ,
        "DATABASE_URL": proxied_url(os.environ["DATABASE_URL"], proxy),
        "CELERY_BROKER_URL": broker_url,
        "SYNC_INTERVAL_SECONDS": str(args.interval),
        "SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
        "DEXCOM_HTTP_TIMEOUT": "10",
    }
    print(
        f"database: {db['NAME']} (workers through a proxy on :{proxy.port}); broker through a proxy "
        f"on :{broker_proxy.port}; emulator at {url}; "
        f"{args.patients} patients, {args.days}-day backfill, interval {args.interval} s, "
        f"lease {LEASE_SECONDS} s, beat every {args.beat:g} s"
    )
    remove_bench_users()
    app.control.purge()  # messages left in the default queue by earlier runs
    workers = Workers(worker_env, log_dir)
    beat = Beat(args.beat)
    rows = []
    try:
        connections = connect_patients(args.patients, args.days)
        workers.start()
        workers.start()
        beat.start()
        rows.append(kill_mid_backfill(connections, workers, args.interval))
        rows.append(database_outage(connections, workers, proxy, args.outage, args.interval))
        rows.append(broker_outage(connections, workers, broker_proxy, args.outage, args.interval))
        print()
        print_table(rows)
        print(f"\nload average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; worker logs in {log_dir}")
    finally:
        beat.stopped.set()
        workers.stop_all()
        remove_bench_users()
        emulator.terminate()
        emulator.wait(timeout=20)


if __name__ == "__main__":
    main()
