"""Triage list with thousands of patients sharing with one clinician (issue 12 goal 3: <= 50 ms
server median for 5,000 patients, >= 100 req/s at 8 concurrent clients on 2 cores).

Loads N patients, each with an active share to one clinician and 28 days of DailySummary rows
(the 14-day period and the 14 days before it), into PostgreSQL, builds their triage snapshots
as the sync does after writing summaries, then:
- times GET /sharing/triage/ in-process (Django test client: URL routing, middleware, the
  snapshot queries, the audit check, template rendering; no network) over sorts, searches and
  pages;
  both with the page's order computed on every look (TRIAGE_ORDER_CACHE_SECONDS=0) and kept
  (the setting: a reload or another look within it reads only the rows);
- with --concurrency C (default 8), runs a production-like gunicorn (DEBUG off, --workers W)
  and has C client threads fetch triage pages for --seconds S: requests per second, the
  latency percentiles, and the CPU the server (gunicorn workers and their PostgreSQL
  backends) spent per request, which bounds the requests per second the machine's cores can
  serve when nothing else runs on them (this machine is shared).

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dexweb_bench_triage \\
        .venv/bin/python bench/triage_list.py [--patients 5000] [--runs 40] [--concurrency 8]

The database is created if missing and reloaded when its patient count differs.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/dexweb_bench_triage")
os.environ.setdefault("DEXWEB_VAR_DIR", "/tmp/dexweb-bench-triage")
os.environ["DEBUG"] = "False"  # no per-query bookkeeping, as in production

CLINICIAN_EMAIL = "bench-clinician@example.org"
DAYS = 28


def ensure_database(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def load(patients: int) -> None:
    from allauth.mfa.totp.internal.auth import TOTP
    from django.db import transaction
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.glucose.models import DailySummary
    from apps.sharing.models import AuditEntry, Share

    if User.objects.filter(role="patient").count() == patients:
        _build_snapshots(
            list(User.objects.filter(role="patient").values_list("pk", flat=True)), only_missing=True
        )
        return
    print(f"loading {patients} patients x {DAYS} days ...", flush=True)
    with transaction.atomic():
        AuditEntry.objects.all()._raw_delete(AuditEntry.objects.db)
        User.objects.all().delete()
        clinician = User.objects.create_user(email=CLINICIAN_EMAIL, password="x", role="clinician")
        TOTP.activate(clinician, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        users = User.objects.bulk_create(
            User(email=f"patient{n:04d}@example.org", full_name=f"Patient {n:04d}", role="patient")
            for n in range(patients)
        )
        Share.objects.bulk_create(Share(patient=user, clinician=clinician) for user in users)
        rng = random.Random(5)
        today = timezone.localdate()
        rows = []
        for user in users:
            for offset in range(DAYS + 1):  # today's partial day too
                rows.append(_day_row(rng, user, today - timedelta(days=offset)))
        DailySummary.objects.bulk_create(rows, batch_size=5000)
        _build_snapshots([user.pk for user in users])
    print("loaded", flush=True)


def _build_snapshots(patient_ids: list[int], *, only_missing: bool = False) -> None:
    """What the sync does after writing summaries (absent before issue 12: nothing to do)."""
    try:
        from apps.glucose.models import TriageSnapshot
        from apps.glucose.snapshots import build_snapshots
    except ImportError:
        return
    if only_missing and TriageSnapshot.objects.exists():
        return
    started = time.perf_counter()
    build_snapshots(patient_ids=patient_ids)
    print(f"triage snapshots built in {time.perf_counter() - started:.1f} s", flush=True)


def _day_row(rng, user, day):
    from datetime import datetime
    from datetime import time as dtime

    from apps.glucose.models import DailySummary

    readings = rng.choice([288, 288, 280, 250, 200, 0]) if rng.random() > 0.02 else 0
    mean = rng.uniform(110, 200)
    bands = [rng.random() for _ in range(5)]
    scale = readings / sum(bands) if readings else 0
    low, low2, in_range, high, very_high = (int(b * scale) for b in bands)
    return DailySummary(
        patient=user,
        day=day,
        readings=readings,
        value_sum=mean * readings,
        value_sq_sum=(mean * mean + 45 * 45) * readings,
        below_54=low // 10,
        from_54_to_69=low2 // 5,
        from_70_to_140=in_range // 2,
        from_70_to_180=in_range,
        from_181_to_250=high,
        above_250=very_high // 3,
        last_reading_at=datetime.combine(day, dtime(23, 55), tzinfo=UTC) if readings else None,
    )


def measure(runs: int) -> None:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import User
    from apps.sharing.models import AuditEntry

    clinician = User.objects.get(email=CLINICIAN_EMAIL)
    client = Client()
    client.force_login(clinician)

    # The first look records an audit entry per patient shown (a page of 100); reloads within
    # 15 minutes do not, so it is timed separately.
    AuditEntry.objects.filter(actor=clinician)._raw_delete(AuditEntry.objects.db)
    started = time.perf_counter()
    response = client.get("/sharing/triage/")
    first = time.perf_counter() - started
    assert response.status_code == 200, response.status_code

    variants = [
        {"sort": "attention"},
        {"sort": "tir"},
        {"sort": "name"},
        {"sort": "gri", "order": "asc"},
        {"sort": "last_reading"},
        {"q": "patient 12"},
        {"sort": "attention", "page": 7},
        {"period": 30, "sort": "tir_change"},
    ]
    for query in variants:  # each variant once untimed: a first 30-day look builds its snapshots
        client.get("/sharing/triage/", query)
    rows = User.objects.filter(role="patient").count()
    print(
        f"patients sharing with the clinician: {rows} (100 shown per page), page size {len(response.content) / 1024:.0f} KiB, runs: {runs}"
    )
    print(f"first look (also writes 100 audit entries for the patients shown): {ms(first)}")
    # The list keeps a page's order for TRIAGE_ORDER_CACHE_SECONDS (a reload, the next page
    # within them reads only the rows); both costs, the order computed first. (Code from before
    # that setting: one figure.)
    kept_for = getattr(settings, "TRIAGE_ORDER_CACHE_SECONDS", None)
    modes = [("order computed on every look", 0), (f"order kept {kept_for} s", kept_for)]
    for label, seconds in modes if kept_for is not None else [("every look", None)]:
        if seconds is not None:
            settings.TRIAGE_ORDER_CACHE_SECONDS = seconds
        _time_pages(client, clinician, variants, runs, label=label)
    if kept_for is not None:
        settings.TRIAGE_ORDER_CACHE_SECONDS = kept_for
    with CaptureQueriesContext(connection) as queries:
        client.get("/sharing/triage/")
    print(
        f"SQL queries per page (order kept): {len(queries)}, of which writing the session: "
        f"{sum(1 for q in queries if 'django_session' in q['sql'] and not q['sql'].startswith('SELECT'))}"
    )
    reset_queries()
    return client.cookies


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _time_pages(client, clinician, variants: list[dict], runs: int, *, label: str) -> None:
    from apps.sharing import selectors

    timings, cpu_times, selector_times = [], [], []
    for run in range(runs):
        query = variants[run % len(variants)]
        cpu_before = time.process_time() + _database_cpu_seconds()
        started = time.perf_counter()
        response = client.get("/sharing/triage/", query)
        timings.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() + _database_cpu_seconds() - cpu_before)
        assert response.status_code == 200
    for _ in range(runs):
        started = time.perf_counter()
        selectors.triage_page(viewer=clinician, period_days=14)
        selector_times.append(time.perf_counter() - started)
    timings.sort()
    cpu_times.sort()
    print(
        f"triage page, {label}: median {ms(statistics.median(timings))}  p95: {ms(timings[int(0.95 * (len(timings) - 1))])}"
        f"  min: {ms(timings[0])}  max: {ms(timings[-1])}"
    )
    print(
        f"  server CPU per page (this process + its PostgreSQL backend) median: {ms(statistics.median(cpu_times))}"
        f"  p95: {ms(cpu_times[int(0.95 * (len(cpu_times) - 1))])}: what the page costs on an idle machine"
    )
    print(f"  of which the selector (triage_page) median: {ms(statistics.median(selector_times))}")


def _database_cpu_seconds() -> float:
    """CPU time used so far by this connection's PostgreSQL backend (same machine: /proc).

    Wall-clock figures on a machine shared with other work include waiting for a CPU; this
    and time.process_time() do not.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(cookies, *, concurrency: int, seconds: float, workers: int) -> None:
    """Requests per second from `concurrency` client threads against a real gunicorn."""
    import http.client
    import threading
    from urllib.parse import urlparse

    from django.conf import settings

    from bench import _server

    env = _server.production_like_env(os.environ["DEXWEB_VAR_DIR"])
    _server.collectstatic(env)
    cookie = f"{settings.SESSION_COOKIE_NAME}={cookies[settings.SESSION_COOKIE_NAME].value}"
    paths = [
        "/sharing/triage/",
        "/sharing/triage/?sort=tir",
        "/sharing/triage/?sort=name&page=3",
        "/sharing/triage/?q=patient+12",
        "/sharing/triage/?sort=gri&order=asc",
    ]
    with _server.gunicorn(env, workers=workers) as base_url:
        address = urlparse(base_url)
        latencies: list[float] = []
        errors: list[str] = []
        stop_at = [0.0]

        def client(number: int) -> None:
            n = number
            while time.perf_counter() < stop_at[0]:
                conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
                started = time.perf_counter()
                conn.request(
                    "GET", paths[n % len(paths)], headers={"Cookie": cookie, "Accept-Encoding": "gzip"}
                )
                response = conn.getresponse()
                response.read()
                conn.close()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    errors.append(str(response.status))
                latencies.append(elapsed)
                n += 1

        stop_at[0] = time.perf_counter() + 3  # warm-up: every worker imports and compiles
        warm = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
        [t.start() for t in warm]
        [t.join() for t in warm]
        latencies.clear()
        load_before = os.getloadavg()[0]
        server = _server_processes(address.port)
        cpu_before = {pid: _cpu_seconds(pid) for pid in server}
        clients_cpu_before = time.process_time()
        started = time.perf_counter()
        stop_at[0] = started + seconds
        threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        wall = time.perf_counter() - started
        server_cpu = sum(_cpu_seconds(pid) - before for pid, before in cpu_before.items())
        clients_cpu = time.process_time() - clients_cpu_before
    latencies.sort()
    pick = lambda q: latencies[int(q * (len(latencies) - 1))] * 1000  # noqa: E731
    print(
        f"gunicorn {workers} sync workers, order kept {getattr(settings, 'TRIAGE_ORDER_CACHE_SECONDS', '-')} s, "
        f"{concurrency} concurrent clients, {wall:.1f} s, "
        f"load average {load_before:.1f} before on {os.cpu_count()} CPUs"
    )
    print(
        f"  throughput: {len(latencies) / wall:.1f} req/s ({len(latencies)} requests, {len(errors)} not 200)"
    )
    print(
        f"  latency: p50 {pick(0.5):.1f} ms  p90 {pick(0.9):.1f} ms  p99 {pick(0.99):.1f} ms  max {latencies[-1] * 1000:.1f} ms"
    )
    per_request = server_cpu / len(latencies)
    print(
        f"  server CPU per request (gunicorn workers + their PostgreSQL backends): {per_request * 1000:.1f} ms,"
        f" so {os.cpu_count()} idle cores serve at most {os.cpu_count() / per_request:.0f} req/s"
        f" (the {concurrency} client threads here used {clients_cpu / len(latencies) * 1000:.1f} ms more per request,"
        " on the same cores)"
    )


def _server_processes(port: int) -> list[int]:
    """gunicorn's master and workers (their command line names the port) and the PostgreSQL
    backends connected to this database (other databases' backends on the server are not ours)."""
    from django.db import connection

    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"gunicorn" in cmdline and f"127.0.0.1:{port}".encode() in cmdline:
                pids.append(int(entry.name))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids += [pid for (pid,) in cursor.fetchall()]
    return pids


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8, help="0: no throughput run")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--order-cache-seconds", type=int, help="TRIAGE_ORDER_CACHE_SECONDS for the gunicorn run (0: off)"
    )
    args = parser.parse_args()
    if args.order_cache_seconds is not None:
        os.environ["TRIAGE_ORDER_CACHE_SECONDS"] = str(args.order_cache_seconds)
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    load(args.patients)
    # VACUUM too: as autovacuum keeps a live table, the list index's pages are then marked
    # all-visible, so the page's sort and counts are index-only scans (a fresh bulk load is not).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    cookies = measure(args.runs)
    if args.concurrency:
        throughput(cookies, concurrency=args.concurrency, seconds=args.seconds, workers=args.workers)


if __name__ == "__main__":
    main()
