"""Time the emulator's hottest path: one 30-day /egvs request (8,640 slots), end to end.

    DEXWEB_VAR_DIR=/tmp/dexweb-bench .venv/bin/python bench/emulator_egvs.py

Runs the Django test client against a throwaway test database, so nothing real is touched. Prints
the median and worst of several requests per sandbox user, and the time of the pure generation.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from apps.sandbox import records, services  # noqa: E402
from apps.sandbox.profiles import PROFILES  # noqa: E402

REPEATS = 7


def main():
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        client_id = next(iter(settings.EMULATOR_CLIENTS))
        secret = settings.EMULATOR_CLIENTS[client_id]
        client = Client()
        end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        params = {
            "startDate": (end - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S"),
            "endDate": end.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        for profile in PROFILES:
            code = services.authorization_code_for(
                sandbox_user_key=profile.key, client_id=client_id, redirect_uri="http://127.0.0.1/cb"
            )
            token = client.post(
                "/emulator/v3/oauth2/token",
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": "http://127.0.0.1/cb",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            ).json()["access_token"]
            timings, size, count = [], 0, 0
            for _ in range(REPEATS):
                started = time.perf_counter()
                response = client.get(
                    "/emulator/v3/users/self/egvs", params, HTTP_AUTHORIZATION=f"Bearer {token}"
                )
                timings.append((time.perf_counter() - started) * 1000)
                size = len(response.content)
            count = response.content.count(b'"recordId"')
            now = int(end.timestamp())
            started = time.perf_counter()
            records.series_for(profile, now - 30 * 86400, now, visible_until=now, trace=None)
            generation = (time.perf_counter() - started) * 1000
            print(
                f"{profile.key}: {count} EGVs, {size / 1e6:.1f} MB, request median "
                f"{statistics.median(timings):.0f} ms, worst {max(timings):.0f} ms; generation only {generation:.0f} ms"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
