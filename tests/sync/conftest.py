"""Fixtures for syncing against the emulator over real HTTP (pytest-django's live_server)."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection

from apps.dexcom.models import DexcomConnection
from apps.glucose.ingest import MODELS
from apps.sync.models import SyncCursor
from apps.sync.records import rows_from_records

SANDBOX_USER = "SandboxUser1"


@pytest.fixture
def emulator(live_server, settings):
    """The emulator served by the live server; DEXCOM_BASE_URL points at it."""
    from apps.sandbox import faults
    from apps.sandbox.services import ensure_sandbox_users

    settings.DEXCOM_BASE_URL = live_server.url + "/emulator"
    settings.DEXCOM_REDIRECT_URI = live_server.url + "/accounts/dexcom/login/callback/"
    settings.DEXCOM_HTTP_TIMEOUT = 20.0
    ensure_sandbox_users()
    faults.clear()
    yield live_server
    faults.clear()


@pytest.fixture
def connect(emulator, make_user):
    """connect(email, sandbox_user_key) -> a DexcomConnection made through the real token exchange."""
    from django.conf import settings

    from apps.dexcom.services import connect_with_authorization_code
    from apps.sandbox.services import authorization_code_for

    def _connect(email="patient@example.com", sandbox_user_key=SANDBOX_USER, days=None):
        user = make_user(email, "patient")
        code = authorization_code_for(
            sandbox_user_key=sandbox_user_key,
            client_id=settings.DEXCOM_CLIENT_ID,
            redirect_uri=settings.DEXCOM_REDIRECT_URI,
        )
        connection = connect_with_authorization_code(user=user, code=code, start_sync=False)
        if days:
            from apps.sync.services import reset_sync_state

            reset_sync_state(connection_id=connection.pk, days=days)
        connection.refresh_from_db()
        return connection

    return _connect


@pytest.fixture
def connection(connect):
    return connect()


def fields_of(row: dict) -> dict:
    return dict(row.items())


def assert_db_equals_truth(connection: DexcomConnection, *, sandbox_user_key: str = SANDBOX_USER):
    """Every record type: same record ids as the emulator's truth (no gaps, no extras, no
    duplicates) and the same values, over what the cursors say is complete."""
    from apps.sandbox import truth

    patient_id = connection.user_id
    cursors = dict(
        SyncCursor.objects.filter(patient_id=patient_id).values_list("record_type", "synced_until")
    )
    start = _backfill_start(connection)
    compared = {}
    for record_type, model in MODELS.items():
        end = cursors[record_type].replace(microsecond=0)
        raw = truth.records(sandbox_user_key=sandbox_user_key, record_type=record_type, start=start, end=end)
        expected, bad = rows_from_records(
            record_type, raw, patient_id=patient_id, now=end + timedelta(days=1)
        )
        assert not bad, f"the emulator's clean data should parse: {bad[:1]}"
        stored = list(
            model.objects.filter(patient_id=patient_id, system_time__gte=start, system_time__lt=end).values(
                *expected[0].keys() if expected else ["record_id"]
            )
        )
        stored_ids = [row["record_id"] for row in stored]
        assert len(stored_ids) == len(set(stored_ids)), f"duplicate {record_type}"
        expected_by_id = {row["record_id"]: row for row in expected}
        missing = sorted(expected_by_id[i]["system_time"] for i in set(expected_by_id) - set(stored_ids))
        extra = sorted(set(stored_ids) - set(expected_by_id))
        assert not missing and not extra, (
            f"{record_type} over [{start}, {end}): missing {len(missing)} (at {missing[:3]}), "
            f"extra {len(extra)}; cursors {cursors}"
        )
        for row in stored:
            assert row == expected_by_id[row["record_id"]], f"{record_type} {row['record_id']} differs"
        compared[record_type] = len(stored)
    return compared


def _backfill_start(connection):
    # The earliest cursor origin the backfill started from, plus the overlap it read before it.
    from apps.sync.models import SyncRun
    from apps.sync.services import OVERLAP

    first_run = SyncRun.objects.filter(connection=connection).order_by("started_at").first()
    days = connection.backfill_total_days
    start = first_run.started_at - timedelta(days=days) + OVERLAP + timedelta(minutes=1)
    # Whole seconds: the emulator counts in epoch seconds, the database in microseconds.
    return start.replace(microsecond=0)


@pytest.fixture
def close_thread_connections():
    """Threads get their own DB connections; close them so the test database can be dropped."""
    yield
    db_connection.close()
