"""Bench: the patient's pages on 1,000 patients x 90 days of 5-minute readings in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dexweb_bench_dashboard \
        .venv/bin/python bench/dashboard_pages.py [--patients 1000] [--days 90] [--requests 30]
        [--reload] [--load-only] [--measure-only]

Loads the readings with COPY (indexes dropped during the load and rebuilt after, as a bulk load
should), builds DailySummary with the code the sync uses, then times the 90-day trace page and
the 14-day overview through the Django test client (server time: middleware, views, templates)
and prints the median, the 90th percentile and the chart-data size. Targets: trace <= 80 ms,
overview <= 60 ms, 90-day chart data <= 400 KB.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dexweb_bench_dashboard")
os.environ.setdefault("DEXWEB_VAR_DIR", "/tmp/dexweb-dashboard")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("AXES_ENABLED", "false")

EMAIL = "bench-{:04d}@example.com"
ZONE = ZoneInfo("America/New_York")  # the 90 days cross the end of DST: local days of 25 hours


def _conninfo(dbname=None) -> dict:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"] or "postgres",
        "dbname": dbname or db["NAME"],
    }


def ensure_database():
    import psycopg
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(**_conninfo("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def time_grid(days: int, end: datetime):
    """Shared 5-minute grid: epoch seconds, display deltas (New York, DST-aware), strings."""
    start = end - timedelta(days=days)
    epoch = np.arange(int(start.timestamp()), int(end.timestamp()), 300, dtype=np.int64)
    offsets = {}
    deltas = np.empty(epoch.size, dtype=np.int64)
    for i, e in enumerate(epoch):
        hour = int(e) // 3600
        if hour not in offsets:
            offsets[hour] = int(datetime.fromtimestamp(int(e), ZONE).utcoffset().total_seconds())
        deltas[i] = offsets[hour]
    stamps = [datetime.fromtimestamp(int(e), UTC).strftime("%Y-%m-%d %H:%M:%S+00") for e in epoch]
    return epoch, deltas, stamps


def synthetic_values(rng, n: int) -> np.ndarray:
    """A daily rhythm, meal peaks, a random walk and noise; a few LOW (39) and HIGH (401)."""
    t = np.arange(n) * 300
    day = 2 * np.pi * (t % 86400) / 86400
    base = rng.uniform(120, 170)
    walk = np.cumsum(rng.normal(0, 2.0, n))
    walk -= np.convolve(walk, np.ones(288) / 288, mode="same")
    values = base + 45 * np.sin(day - 1.2) + 25 * np.sin(3 * day) + walk + rng.normal(0, 6, n)
    values = np.rint(values).astype(np.int64)
    values[values < 40] = 39
    values[values > 400] = 401
    return values


def present_mask(rng, n: int) -> np.ndarray:
    """Sensor gaps: a 2-hour warm-up every 10 days and a few signal losses."""
    mask = np.ones(n, dtype=bool)
    for start in range(int(rng.integers(0, 2880)), n, 2880):
        mask[start : start + 24] = False
    for start in rng.integers(0, n, 6):
        mask[start : start + int(rng.integers(3, 30))] = False
    return mask


def drop_egv_indexes(cursor):
    cursor.execute(
        """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = 'glucose_egv'::regclass AND contype IN ('u', 'f')"""
    )
    constraints = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE glucose_egv DROP CONSTRAINT "{name}"')
    cursor.execute(
        """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'glucose_egv'
           AND indexname NOT LIKE '%%_pkey'"""
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return constraints, indexes


def restore_egv_indexes(cursor, constraints, indexes):
    cursor.execute("SET maintenance_work_mem = '1GB'")
    for _, definition in indexes:
        cursor.execute(definition)
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE glucose_egv ADD CONSTRAINT "{name}" {definition}')


def load(patients: int, days: int):
    import psycopg
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from apps.accounts.models import User
    from apps.dexcom.models import DexcomConnection
    from apps.glucose.models import Alert, DailySummary, Egv, Event
    from apps.glucose.summaries import rebuild_daily_summaries

    started = time.perf_counter()
    Egv.objects.all()._raw_delete("default")
    Alert.objects.all()._raw_delete("default")
    Event.objects.all()._raw_delete("default")
    DailySummary.objects.all()._raw_delete("default")
    DexcomConnection.objects.filter(user__email__startswith="bench-").delete()
    User.objects.filter(email__startswith="bench-").delete()
    password = make_password("bench-password-42")
    users = User.objects.bulk_create(
        User(email=EMAIL.format(i), password=password, timezone="America/New_York") for i in range(patients)
    )
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    DexcomConnection.objects.bulk_create(
        DexcomConnection(
            user=u,
            base_url="emulator",
            last_sync_at=now,
            backfill_total_days=90,
            backfill_done_days=90,
            backfill_completed_at=now,
        )
        for u in users
    )
    end = now - timedelta(minutes=now.minute % 5 + 60)
    epoch, deltas, stamps = time_grid(days, end)
    rng = np.random.default_rng(42)
    columns = (
        "patient_id, record_id, system_time, display_delta_seconds, display_offset_seconds, "
        "display_device, display_app, transmitter_id, transmitter_generation, "
        "transmitter_generation_variant, value, status, trend, trend_rate, unit, rate_unit, "
        "transmitter_ticks"
    )
    trends = np.array(["flat", "fortyFiveUp", "fortyFiveDown", "singleUp", "singleDown"])
    raw = psycopg.connect(**_conninfo())
    with raw.cursor() as cursor:
        constraints, indexes = drop_egv_indexes(cursor)
    raw.commit()
    total = 0
    with raw.cursor() as cur:
        for number, user in enumerate(users):
            values = synthetic_values(rng, epoch.size)
            mask = present_mask(rng, epoch.size)
            trend = trends[rng.integers(0, trends.size, epoch.size)]
            pid = user.pk
            lines = []
            for i in np.flatnonzero(mask).tolist():
                v = int(values[i])
                status = "low" if v == 39 else "high" if v == 401 else "ok"
                d = int(deltas[i])
                lines.append(
                    f"{pid}\tb{pid}-{i}\t{stamps[i]}\t{d}\t{d}\tandroid\tG7Android\t\tg7\t\t{v}\t"
                    f"{status}\t{trend[i]}\t0.5\tmg/dL\tmg/dL/min\t{i * 300}\n"
                )
            with cur.copy(f"COPY glucose_egv ({columns}) FROM STDIN") as copy:
                copy.write("".join(lines))
            total += len(lines)
            _load_markers(cur, pid, rng, epoch, deltas, stamps)
            if number % 100 == 99:
                raw.commit()
                print(
                    f"  {number + 1} patients, {total:,} EGVs, {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    raw.commit()
    print(f"COPY done: {total:,} EGVs in {time.perf_counter() - started:.0f} s", flush=True)
    with raw.cursor() as cursor:
        restore_egv_indexes(cursor, constraints, indexes)
    raw.commit()
    print(f"indexes rebuilt at {time.perf_counter() - started:.0f} s", flush=True)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE glucose_egv")
        cur.execute("VACUUM ANALYZE glucose_event")
        cur.execute("VACUUM ANALYZE glucose_alert")
    raw.close()
    connection.close()
    print(f"vacuum analyze done at {time.perf_counter() - started:.0f} s", flush=True)
    for user in users:
        rebuild_daily_summaries(patient_id=user.pk, since=None)
    print(f"daily summaries built at {time.perf_counter() - started:.0f} s", flush=True)
    del psycopg


def _load_markers(cur, pid, rng, epoch, deltas, stamps):
    """About 5 events and 3 alerts a day, so the trace draws markers as it would for real."""
    n = epoch.size
    event_rows = []
    for j, i in enumerate(np.sort(rng.integers(0, n, n // 58)).tolist()):
        kind = (
            ("carbs", "grams", str(int(rng.integers(10, 90))))
            if j % 2
            else ("insulin", "units", str(int(rng.integers(1, 12))))
        )
        event_rows.append(
            f"{pid}\te{pid}-{j}\t{stamps[i]}\t{deltas[i]}\t{deltas[i]}\tandroid\tG7Android\t\tg7\t\t"
            f"created\t{kind[0]}\t\t{kind[2]}\t{kind[2]}\t{kind[1]}\n"
        )
    with cur.copy(
        "COPY glucose_event (patient_id, record_id, system_time, display_delta_seconds, "
        "display_offset_seconds, display_device, display_app, transmitter_id, "
        "transmitter_generation, transmitter_generation_variant, event_status, event_type, "
        "event_sub_type, value, numeric_value, unit) FROM STDIN"
    ) as copy:
        copy.write("".join(event_rows))
    alert_rows = []
    names = ("high", "low", "urgentLow", "rise", "fall")
    for j, i in enumerate(np.sort(rng.integers(0, n, n // 96)).tolist()):
        alert_rows.append(
            f"{pid}\ta{pid}-{j}\t{stamps[i]}\t{deltas[i]}\t{deltas[i]}\tandroid\tG7Android\t\tg7\t\t"
            f"{names[j % len(names)]}\tactiveAlarming\n"
        )
    with cur.copy(
        "COPY glucose_alert (patient_id, record_id, system_time, display_delta_seconds, "
        "display_offset_seconds, display_device, display_app, transmitter_id, "
        "transmitter_generation, transmitter_generation_variant, alert_name, alert_state) "
        "FROM STDIN"
    ) as copy:
        copy.write("".join(alert_rows))


def timed_get(client, url: str) -> tuple[float, float, bytes]:
    """Wall-clock ms and the CPU ms this (Django) process spent on the request."""
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    cpu = (time.process_time() - cpu_started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, cpu, response.content


def chart_data_bytes(html: bytes, element_id: str) -> int:
    marker = f'id="{element_id}"'.encode()
    start = html.index(b">", html.index(marker)) + 1
    return html.index(b"</script>", start) - start


def measure(patients: int, requests: int):
    from django.test import Client
    from django.test.utils import setup_test_environment

    from apps.accounts.models import User

    setup_test_environment()  # lets the test client run against this (non-test) database
    rng = np.random.default_rng(7)
    picks = [EMAIL.format(int(i)) for i in rng.choice(patients, size=requests, replace=False)]
    users = {u.email: u for u in User.objects.filter(email__in=picks)}
    results = {}
    for label, page, query in (
        ("trace 90 days", "trace", "?days=90"),
        ("overview 14 days", "overview", ""),
        ("agp 14 days", "agp", ""),
    ):
        timings, cpu_times, size = [], [], 0
        for n, email in enumerate(picks):
            client = Client()
            client.force_login(users[email])
            url = f"/patients/{users[email].pk}/{page}/{query}"
            if n == 0:
                timed_get(client, url)  # warm-up: imports, template compilation
            elapsed, cpu, html = timed_get(client, url)
            timings.append(elapsed)
            cpu_times.append(cpu)
            if page == "trace":
                size = max(size, chart_data_bytes(html, "trace-data"))
        timings.sort()
        results[label] = (
            statistics.median(timings),
            timings[int(0.9 * (len(timings) - 1))],
            size,
            statistics.median(cpu_times),
        )
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reload", action="store_true", help="load even if data is there")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from apps.glucose.models import Egv

    ensure_database()
    if not args.measure_only:
        have = Egv.objects.filter(patient__email=EMAIL.format(args.patients - 1)).exists()
        if args.reload or not have:
            load(args.patients, args.days)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'glucose_egv'")
        print(f"glucose_egv: about {cursor.fetchone()[0]:,} rows")
    if args.load_only:
        return
    load_before = os.getloadavg()[0]
    results = measure(args.patients, args.requests)
    # Wall-clock figures: on a shared machine they include waiting for the CPU, so say how busy it was.
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")
    for label, (median, p90, size, cpu) in results.items():
        line = f"{label:18s} median {median:6.1f} ms   p90 {p90:6.1f} ms   (Django CPU {cpu:5.1f} ms)"
        if size:
            line += f"   chart data {size / 1000:.0f} KB"
        print(line)
    print("targets: trace <= 80 ms median, overview <= 60 ms median, chart data <= 400 KB")


if __name__ == "__main__":
    main()
