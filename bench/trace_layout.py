"""Bench: the 90-day trace's read on readings written grouped vs interleaved, and bytes per reading.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dexweb_bench_layout \
        .venv/bin/python bench/trace_layout.py [--patients 100] [--days 90] [--reads 30]
        [--reload] [--measure-only]

Loads `--patients` patients x `--days` days of 5-minute readings twice into one readings table,
with its indexes in place as a running site has them:
- grouped: one patient after the other (what a bulk load or a lone backfill writes);
- interleaved: every patient's reading of one 5-minute step, then the next step, one commit per
  step as live syncs write them (each sync commits its patient's new reading).
Then VACUUM ANALYZE (what autovacuum eventually does) and times the trace's read
(apps.glucose.selectors.egv_series_for_local_days over 90 local days, the call the trace page
makes) for random patients of each layout: median and p95, the interleaved / grouped ratio, the
buffers one read touches (EXPLAIN (ANALYZE, BUFFERS)), and the readings table's bytes per
reading (heap, TOAST and every index). Targets: ratio <= 1.5, interleaved median <= 40 ms,
<= 150 bytes per reading.

Once more rows of different patients share a page than one patient has on it, the interleaved
layout is as bad as it gets (every reading on a page of its own): 100 patients show the effect
of 1,000 on ~20 readings per page. The whole table then is smaller than for 1,000 patients and
stays in the OS cache, so the interleaved figure is, if anything, flattered.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/dexweb_bench_layout")
os.environ.setdefault("DEXWEB_VAR_DIR", "/tmp/dexweb-layout")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")

from dashboard_pages import _conninfo, ensure_database, present_mask, synthetic_values, time_grid  # noqa: E402

LAYOUTS = ("grouped", "interleaved")
EMAIL = "layout-{}-{:04d}@example.com"
COLUMNS = (
    "patient_id, record_id, system_time, display_delta_seconds, display_offset_seconds, "
    "display_device, display_app, transmitter_id, transmitter_generation, "
    "transmitter_generation_variant, value, status, trend, trend_rate, unit, rate_unit, "
    "transmitter_ticks"
)
TRENDS = np.array(["flat", "fortyFiveUp", "fortyFiveDown", "singleUp", "singleDown"])


def _patient_lines(rng, pid: int, epoch, deltas, stamps) -> dict[int, str]:
    """Step index -> the COPY line of this patient's reading there (absent in sensor gaps).
    Record ids are random UUIDs and the transmitter a 64-hex hash, as the Dexcom API sends."""
    values = synthetic_values(rng, epoch.size)
    trend = TRENDS[rng.integers(0, TRENDS.size, epoch.size)]
    transmitter = rng.bytes(32).hex()
    ids = rng.bytes(16 * epoch.size).hex()
    lines = {}
    for i in np.flatnonzero(present_mask(rng, epoch.size)).tolist():
        v = int(values[i])
        status = "low" if v == 39 else "high" if v == 401 else "ok"
        d = int(deltas[i])
        h = ids[32 * i : 32 * i + 32]
        record_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        lines[i] = (
            f"{pid}\t{record_id}\t{stamps[i]}\t{d}\t{d}\tandroid\tG7Android\t{transmitter}\tg7\t\t"
            f"{v}\t{status}\t{trend[i]}\t0.5\tmg/dL\tmg/dL/min\t{100000 + i * 300}\n"
        )
    return lines


def load(patients: int, days: int) -> None:
    import psycopg
    from django.db import connection

    from apps.accounts.models import User
    from apps.glucose.models import Egv

    started = time.perf_counter()
    Egv.objects.all()._raw_delete("default")
    User.objects.filter(email__startswith="layout-").delete()
    users = {
        layout: User.objects.bulk_create(
            User(email=EMAIL.format(layout, i), timezone="America/New_York") for i in range(patients)
        )
        for layout in LAYOUTS
    }
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    epoch, deltas, stamps = time_grid(days, now - timedelta(minutes=now.minute % 5 + 60))
    rng = np.random.default_rng(42)
    connection.close()
    with psycopg.connect(**_conninfo()) as raw, raw.cursor() as cursor:
        for user in users["grouped"]:
            lines = _patient_lines(rng, user.pk, epoch, deltas, stamps)
            with cursor.copy(f"COPY glucose_egv ({COLUMNS}) FROM STDIN") as copy:
                copy.write("".join(lines.values()))
            raw.commit()
        print(f"grouped loaded at {time.perf_counter() - started:.0f} s", flush=True)
        per_patient = [_patient_lines(rng, u.pk, epoch, deltas, stamps) for u in users["interleaved"]]
        for step in range(epoch.size):
            rows = "".join(lines[step] for lines in per_patient if step in lines)
            with cursor.copy(f"COPY glucose_egv ({COLUMNS}) FROM STDIN") as copy:
                copy.write(rows)
            raw.commit()
            if step % 2880 == 2879:
                print(f"  interleaved: {step + 1} steps at {time.perf_counter() - started:.0f} s", flush=True)
    with psycopg.connect(**_conninfo(), autocommit=True) as raw:
        raw.execute("VACUUM ANALYZE glucose_egv")
    print(f"loaded and vacuumed in {time.perf_counter() - started:.0f} s", flush=True)


def _trace_read(patient_id: int, today: date):
    from apps.glucose import selectors

    return selectors.egv_series_for_local_days(
        patient_id=patient_id, first_day=today - timedelta(days=89), end_day=today + timedelta(days=1)
    )


def _buffers(patient_id: int, today: date) -> str:
    """The plan of the trace's query with the buffers it touched."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _trace_read(patient_id, today)
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def measure(patients: int, reads: int) -> dict:
    from apps.accounts.models import User

    today = datetime.now(UTC).date()
    rng = np.random.default_rng(7)
    results = {}
    for layout in LAYOUTS:
        ids = list(
            User.objects.filter(email__startswith=f"layout-{layout}-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        picks = [ids[int(i)] for i in rng.choice(len(ids), size=min(reads, len(ids)), replace=False)]
        _trace_read(picks[0], today)  # warm-up: imports, connection
        timings, readings = [], 0
        for pid in picks:
            started = time.perf_counter()
            series = _trace_read(pid, today)
            timings.append((time.perf_counter() - started) * 1000)
            readings = max(readings, len(series))
        timings.sort()
        results[layout] = {
            "median": statistics.median(timings),
            "p95": timings[round(0.95 * (len(timings) - 1))],
            "readings": readings,
            "plan": _buffers(picks[-1], today),
        }
    return results


def bytes_per_reading() -> tuple[float, int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('glucose_egv'), (SELECT count(*) FROM glucose_egv)")
        size, rows = cursor.fetchone()
    return size / rows, size, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100, help="per layout")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--reads", type=int, default=30, help="timed reads per layout")
    parser.add_argument("--reload", action="store_true", help="load even if data is there")
    parser.add_argument("--measure-only", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from apps.glucose.models import Egv

    ensure_database()
    have = Egv.objects.filter(patient__email=EMAIL.format("interleaved", args.patients - 1)).exists()
    if not args.measure_only and (args.reload or not have):
        load(args.patients, args.days)
    per_reading, size, rows = bytes_per_reading()
    results = measure(args.patients, args.reads)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for layout, r in results.items():
        print(f"{layout}: trace read plan\n{r['plan']}")
    for layout, r in results.items():
        print(
            f"{layout:12s} median {r['median']:6.1f} ms   p95 {r['p95']:6.1f} ms   "
            f"({r['readings']:,} readings per 90-day read)"
        )
    ratio = results["interleaved"]["median"] / results["grouped"]["median"]
    print(f"interleaved / grouped median: {ratio:.2f}")
    print(
        f"readings table: {size / 1e6:,.0f} MB for {rows:,} readings = {per_reading:.0f} bytes per reading "
        f"({args.patients} patients per layout x {args.days} days)"
    )
    print("targets: ratio <= 1.5, interleaved median <= 40 ms, <= 150 bytes per reading")


if __name__ == "__main__":
    main()
