"""Backfill throughput and idle-sync cost of the sync engine, against the built-in emulator.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dexweb_sync DEXWEB_VAR_DIR=/tmp/dexweb-sync \
        .venv/bin/python bench/sync_backfill.py [--days 90] [--sandbox-user SandboxUser1]

Prints:
- end to end: records/s from the emulator (over HTTP, a local gunicorn) to the database
  for one patient's backfill, with the API calls it took;
- the database write side alone: rows/s of parsing + bulk upserting the same records, and of the
  upsert alone (first insert, then a rewrite of unchanged rows as an overlap re-read does);
- API calls of an incremental sync when nothing is new (target <= 2).
The database is migrated first; the bench's own users are removed before and after.
"""

import argparse
import os
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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection as db_connection  # noqa: E402
from django.db import transaction
from django.utils import timezone  # noqa: E402

from bench import _server  # noqa: E402

BENCH_EMAILS = ("bench-sync@example.com", "bench-write@example.com")


def remove_bench_users():
    from apps.accounts.models import User

    User.objects.filter(email__in=BENCH_EMAILS).delete()


def connect(sandbox_user_key: str, days: int):
    from apps.accounts.models import User
    from apps.dexcom.services import connect_with_authorization_code
    from apps.sandbox.services import authorization_code_for
    from apps.sync.services import reset_sync_state

    user = User.objects.create_user(email=BENCH_EMAILS[0], password=None)
    code = authorization_code_for(
        sandbox_user_key=sandbox_user_key,
        client_id=settings.DEXCOM_CLIENT_ID,
        redirect_uri=settings.DEXCOM_REDIRECT_URI,
    )
    connection = connect_with_authorization_code(user=user, code=code, start_sync=False)
    reset_sync_state(connection_id=connection.pk, days=days)
    return connection


def bench_end_to_end(connection):
    from apps.sync.services import sync_connection

    started = time.perf_counter()
    run = sync_connection(connection_id=connection.pk)
    elapsed = time.perf_counter() - started
    connection.refresh_from_db()
    total = sum(n for t, n in run.records.items() if t != "devices")
    print(
        f"end to end backfill ({connection.backfill_total_days} days): {total} records in "
        f"{elapsed:.2f} s = {total / elapsed:,.0f} records/s; {run.api_calls} API calls; "
        f"per type {run.records}"
    )


def bench_idle(connection):
    from apps.sync.services import sync_connection

    run = sync_connection(connection_id=connection.pk)
    print(
        f"idle incremental sync: {run.api_calls} API calls, {run.total_records} rows upserted (the 24 h event re-read), "
        f"{(run.finished_at - run.started_at).total_seconds() * 1000:.0f} ms"
    )


def raw_records(sandbox_user_key: str, days: int) -> dict:
    from apps.sandbox import truth

    end = timezone.now()
    start = end - timedelta(days=days)
    return {
        t: truth.records(sandbox_user_key=sandbox_user_key, record_type=t, start=start, end=end)
        for t in ("egvs", "alerts", "calibrations", "events")
    }


def bench_write_side(sandbox_user_key: str, days: int, repeat: int):
    """Best of `repeat` runs (the machine may be busy), each for a fresh patient."""
    from apps.accounts.models import User
    from apps.glucose import ingest
    from apps.sync.records import rows_from_records

    raw = raw_records(sandbox_user_key, days)
    total = sum(len(v) for v in raw.values())
    best = {"parse+insert": 0.0, "insert": 0.0, "unchanged": 0.0}
    for _ in range(repeat):
        User.objects.filter(email=BENCH_EMAILS[1]).delete()
        user = User.objects.create_user(email=BENCH_EMAILS[1], password=None)
        now = timezone.now()
        started = time.perf_counter()
        rows = {
            t: rows_from_records(t, records, patient_id=user.pk, now=now)[0] for t, records in raw.items()
        }
        parsed = time.perf_counter() - started

        def write_all(rows=rows, user=user):
            begin = time.perf_counter()
            with transaction.atomic():  # one transaction, as a sync window commits
                ingest.relax_commit_durability()
                for record_type, type_rows in rows.items():
                    ingest.store_synced(record_type, type_rows, patient_id=user.pk)
            return time.perf_counter() - begin

        first = write_all()
        again = write_all()
        best["parse+insert"] = max(best["parse+insert"], total / (parsed + first))
        best["insert"] = max(best["insert"], total / first)
        best["unchanged"] = max(best["unchanged"], total / again)
    print(f"write side ({db_connection.vendor}), {total} rows of {days} days, best of {repeat}:")
    print(f"  parse + first upsert (inserts): {best['parse+insert']:,.0f} rows/s")
    print(f"  upsert alone, inserts:          {best['insert']:,.0f} rows/s")
    print(f"  upsert alone, unchanged rows:   {best['unchanged']:,.0f} rows/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sandbox-user", default="SandboxUser1")
    parser.add_argument("--repeat", type=int, default=3, help="write-side runs (best is shown)")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    url, emulator = _server.start_emulator()
    settings.DEXCOM_BASE_URL = url + "/emulator"
    settings.DEXCOM_REDIRECT_URI = url + "/accounts/dexcom/login/callback/"
    print(f"database: {db_connection.vendor} {db_connection.settings_dict['NAME']}; emulator at {url}")
    remove_bench_users()
    try:
        connection = connect(args.sandbox_user, args.days)
        bench_end_to_end(connection)
        bench_idle(connection)
        bench_write_side(args.sandbox_user, args.days, args.repeat)
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        remove_bench_users()
        emulator.terminate()
        emulator.wait(timeout=20)


if __name__ == "__main__":
    main()
