"""Triage list server time with 1,000 patients sharing with one clinician (issue 5: <= 300 ms median).

Loads 1,000 patients, each with an active share to one clinician and 28 days of DailySummary
rows (the 14-day period and the 14 days before it), into PostgreSQL, then times GET
/sharing/triage/ in-process (Django test client: URL routing, middleware, the two aggregate
queries, the audit insert, sorting and template rendering; no network).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dexweb_bench_triage \\
        .venv/bin/python bench/triage_list.py [--patients 1000] [--runs 30]

The database is created if missing and reloaded when its patient count differs.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dexweb_bench_triage")
os.environ.setdefault("DEXWEB_VAR_DIR", "/tmp/dexweb-bench-triage")
os.environ["DEBUG"] = "False"  # no per-query bookkeeping, as in production

CLINICIAN_EMAIL = "bench-clinician@example.org"
DAYS = 28


def ensure_database(url: str) -> None:
    import psycopg
    from urllib.parse import urlparse

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
    print("loaded", flush=True)


def _day_row(rng, user, day):
    from datetime import datetime, time as dtime, timezone as dt_timezone

    from apps.glucose.models import DailySummary

    readings = rng.choice([288, 288, 280, 250, 200, 0]) if rng.random() > 0.02 else 0
    mean = rng.uniform(110, 200)
    bands = [rng.random() for _ in range(5)]
    scale = readings / sum(bands) if readings else 0
    low, low2, in_range, high, very_high = (int(b * scale) for b in bands)
    return DailySummary(
        patient=user, day=day, readings=readings, value_sum=mean * readings,
        value_sq_sum=(mean * mean + 45 * 45) * readings, below_54=low // 10, from_54_to_69=low2 // 5,
        from_70_to_140=in_range // 2, from_70_to_180=in_range, from_181_to_250=high,
        above_250=very_high // 3,
        last_reading_at=datetime.combine(day, dtime(23, 55), tzinfo=dt_timezone.utc) if readings else None,
    )


def measure(runs: int) -> None:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import User
    from apps.sharing import selectors
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

    timings = []
    for run in range(runs):
        query = {"sort": ["attention", "tir", "name", "gri"][run % 4]}
        started = time.perf_counter()
        response = client.get("/sharing/triage/", query)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200

    with CaptureQueriesContext(connection) as queries:
        client.get("/sharing/triage/")
    selector_times = []
    for _ in range(runs):
        started = time.perf_counter()
        selectors.triage_rows(viewer=clinician, period_days=14)
        selector_times.append(time.perf_counter() - started)

    rows = len(selectors.triage_rows(viewer=clinician, period_days=14))
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    timings.sort()
    print(f"patients in the list: {rows} (100 shown per page), page size {len(response.content) / 1024:.0f} KiB, runs: {runs}")
    print(f"first look (also writes 100 audit entries for the patients shown): {ms(first)}")
    print(f"triage page median: {ms(statistics.median(timings))}  p95: {ms(timings[int(0.95 * (len(timings) - 1))])}"
          f"  min: {ms(timings[0])}  max: {ms(timings[-1])}")
    print(f"  of which the two aggregate queries + metrics (selectors.triage_rows) median: "
          f"{ms(statistics.median(selector_times))}")
    print(f"SQL queries per page: {len(queries)}")
    reset_queries()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    load(args.patients)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    measure(args.runs)


if __name__ == "__main__":
    main()
