"""Fixtures for syncing: against the in-memory fake (most tests) or the emulator over real HTTP.

`api` is a tests.fakes.dexcom_api.FakeDexcomApi holding the emulator's truth for SandboxUser1
and `api_connection` a connection whose tokens it issued: pass `api=api` to the engine. The
`emulator` fixtures serve the same truth over HTTP (pytest-django's live_server), for the few
tests about OAuth, faults on the wire, a full backfill and late uploads.
"""

import functools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection as db_connection

from apps.dexcom.models import DexcomConnection
from apps.glucose.ingest import MODELS
from apps.sync.models import SyncCursor
from apps.sync.records import rows_from_records
from tests.fakes.dexcom_api import FakeDexcomApi

SANDBOX_USER = "SandboxUser1"
TRUTH_TYPES = ("egvs", "events", "calibrations", "alerts", "devices")


def load_truth(api: FakeDexcomApi, *, sandbox_user_key: str = SANDBOX_USER, now=None) -> FakeDexcomApi:
    """Put the emulator's records of a sandbox user, as published at `now`, into the fake
    (records already there are replaced by recordId, as Dexcom replaces edited events)."""
    now = now or datetime.now(UTC)
    published = _published(sandbox_user_key, int(now.timestamp()) // 60 * 60)
    api.devices_replaced(published["devices"])
    for record_type in TRUTH_TYPES[:-1]:
        api.add(record_type, published[record_type])
    return api


@functools.lru_cache(maxsize=8)
def _published(sandbox_user_key: str, epoch: int) -> dict[str, list[dict]]:
    # Generated once per user and minute (about a second): tests only read these records.
    from apps.sandbox import generator, truth

    now = datetime.fromtimestamp(epoch, UTC)
    start = datetime.fromtimestamp(generator.history_start(epoch), UTC)
    return {
        record_type: truth.records(
            sandbox_user_key=sandbox_user_key, record_type=record_type, start=start, end=now, now=now
        )
        for record_type in TRUTH_TYPES
    }


def api_as_of(now: datetime) -> FakeDexcomApi:
    """A fake Dexcom holding what the emulator had published of SandboxUser1 at `now`."""
    return load_truth(FakeDexcomApi(), now=now)


@pytest.fixture
def api(db):
    """A fake Dexcom holding SandboxUser1's history as the emulator publishes it now."""
    return load_truth(FakeDexcomApi())


@pytest.fixture
def quick_backoff(monkeypatch):
    """The inline backoff's pauses shortened, for tests that count retries, not seconds."""
    from apps.sync import calls

    monkeypatch.setattr(calls, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))


@pytest.fixture
def connect_fake(make_user):
    """connect_fake(api, email, days) -> a DexcomConnection with tokens the fake issued."""
    from apps.dexcom.crypto import encrypt_token
    from apps.dexcom.services import store_connection

    def _connect(api, email="patient@example.com", days=None):
        user = make_user(email, "patient")
        pair = api.issue_tokens()
        connection = store_connection(
            user=user,
            dexcom_user_id=api.user_id,
            access_token_encrypted=encrypt_token(pair.access_token),
            refresh_token_encrypted=encrypt_token(pair.refresh_token),
            expires_at=pair.expires_at,
            start_sync=False,
        )
        return _backfilling(connection, days=days)

    return _connect


def _backfilling(connection: DexcomConnection, *, days: int | None) -> DexcomConnection:
    """The connection, its backfill set `days` back first when given."""
    from apps.sync.services import reset_sync_state

    if days:
        reset_sync_state(connection_id=connection.pk, days=days)
    connection.refresh_from_db()
    return connection


@pytest.fixture
def api_connection(api, connect_fake):
    return connect_fake(api)


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
        return _backfilling(connection, days=days)

    return _connect


@pytest.fixture
def connection(connect):
    return connect()


def fields_of(row: dict) -> dict:
    return dict(row.items())


def assert_db_equals_truth(
    connection: DexcomConnection, *, sandbox_user_key: str = SANDBOX_USER, api: FakeDexcomApi | None = None
):
    """Every record type: same record ids as the truth (no gaps, no extras, no duplicates) and
    the same values, over what the cursors say is complete. The truth is the emulator's, or
    what the fake `api` serves."""
    from apps.sandbox import truth

    def served(record_type, start, end):
        if api is not None:
            return api.records_between(record_type, start, end)
        return truth.records(sandbox_user_key=sandbox_user_key, record_type=record_type, start=start, end=end)

    patient_id = connection.user_id
    cursors = dict(
        SyncCursor.objects.filter(patient_id=patient_id).values_list("record_type", "synced_until")
    )
    start = _backfill_start(connection)
    compared = {}
    for record_type, model in MODELS.items():
        end = cursors[record_type].replace(microsecond=0)
        raw = served(record_type, start, end)
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
