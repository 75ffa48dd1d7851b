"""429 bursts, 5xx, malformed payloads, bad records, revoked grants and expiring tokens.

Faults whose handling lives above the wire (long Retry-After, 5xx retries, resuming, damaged
records) run against the in-memory fake; those that need the wire or the emulator's token
store (a burst of 429s, a truncated body, a revoked grant, expired and concurrent refreshes)
run over real HTTP."""

import functools
import threading
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from apps.dexcom import client
from apps.dexcom.models import DexcomConnection
from apps.glucose.models import Egv
from apps.sync import services
from apps.sync.models import QuarantinedRecord, SyncRun
from tests.sync.conftest import SANDBOX_USER, assert_db_equals_truth

live = pytest.mark.django_db(transaction=True)


def _faults():
    from apps.sandbox import faults

    return faults


def _refreshes_spent(sandbox_user_key=SANDBOX_USER) -> int:
    from apps.sandbox.models import RefreshToken

    return RefreshToken.objects.filter(
        grant__sandbox_user__key=sandbox_user_key, used_at__isnull=False
    ).count()


@live
def test_it_honours_retry_after_in_a_burst_of_429s(connection):
    _faults().inject(kind="rate_limit", endpoint="egvs", times=3, retry_after=1)
    started = timezone.now()
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert (timezone.now() - started).total_seconds() >= 3  # waited as told, three times
    assert_db_equals_truth(connection)


def test_it_hands_long_retry_afters_to_the_task_queue(api, api_connection):
    connection = api_connection
    api.inject("rate_limit", "dataRange", retry_after=600)
    with pytest.raises(client.DexcomRateLimited) as raised:
        services.sync_connection(connection_id=connection.pk, api=api)
    assert raised.value.retry_after == 600
    assert api.calls == {"dataRange": 1}  # not retried inline
    connection.refresh_from_db()
    assert "too many requests" in connection.last_error
    assert connection.sync_lease_until is None  # the lease is released for the retry


def test_it_retries_5xx_and_finishes(api, api_connection, quick_backoff):
    connection = api_connection
    api.inject("server_error", "egvs", times=2)
    api.inject("unavailable", "events", times=1)
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.api_calls == sum(api.calls.values())  # the three failed attempts counted too
    assert api.calls["egvs"] == len([w for w in api.windows if w[0] == "egvs"]) + 2
    assert_db_equals_truth(connection, api=api)


def test_it_resumes_after_dexcom_stays_down_mid_backfill(api, api_connection, quick_backoff):
    connection = api_connection
    # The first egvs window commits, then Dexcom fails for good: the run stops...
    api.inject("server_error", "calibrations", times=None)
    with pytest.raises(client.DexcomServerError):
        services.sync_connection(connection_id=connection.pk, api=api)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED and run.errors
    connection.refresh_from_db()
    assert "not responding" in connection.last_error
    assert Egv.objects.filter(patient=connection.user).count() > 20000  # egvs were committed
    # ...and the rerun completes without losing or duplicating anything.
    api.clear_faults()
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED
    connection.refresh_from_db()
    assert connection.last_error == ""
    assert_db_equals_truth(connection, api=api)


@live
def test_it_rereads_a_malformed_payload(connection, quick_backoff):
    _faults().inject(kind="malformed_json", endpoint="egvs", times=1)
    _faults().inject(kind="malformed_json", endpoint="dataRange", times=1)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert_db_equals_truth(connection)


def test_it_quarantines_bad_records_and_keeps_the_rest(api, api_connection):
    connection = api_connection
    for endpoint in ("egvs", "events", "calibrations", "alerts", "devices"):
        # The emulator's damage: a required field missing, a value out of range, an unknown enum.
        damage = functools.partial(_faults().damage_records, record_type=endpoint, count=3)
        api.inject("bad_records", endpoint, damage=damage)
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    quarantined = QuarantinedRecord.objects.filter(patient=connection.user)
    # Per type: a record with fields missing and one out of range; the unknown enum is kept.
    assert run.quarantined == quarantined.count() >= 8
    assert set(quarantined.values_list("record_type", flat=True)) >= {
        "egvs",
        "events",
        "calibrations",
        "alerts",
    }
    assert all(q.reason for q in quarantined)
    assert Egv.objects.filter(patient=connection.user, trend="tripleUp").count() == 1
    # Clean data later repairs what the damaged answers left out.
    services.backfill_connection(connection_id=connection.pk, restart=True, api=api)
    assert_db_equals_truth(connection, api=api)
    assert Egv.objects.filter(patient=connection.user, trend="tripleUp").count() == 0


@live
def test_it_stops_and_asks_to_reconnect_when_the_grant_is_revoked(connection):
    _faults().inject(kind="revoked", times=1, sandbox_user_key=SANDBOX_USER)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.NEEDS_REAUTH
    assert "reconnect" in connection.last_error
    assert not connection.refresh_token_encrypted and not connection.access_token_encrypted
    assert services.sync_connection(connection_id=connection.pk) is None  # syncing stopped


@live
def test_it_refreshes_a_token_that_expires_mid_sync(connection):
    from apps.sandbox.services import expire_access_tokens

    # We believe the token is good for another hour; Dexcom has already expired it.
    expire_access_tokens(sandbox_user_key=SANDBOX_USER)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert _refreshes_spent() == 1
    assert_db_equals_truth(connection)


@live
def test_it_refreshes_when_the_token_dies_between_windows(connection):
    from apps.sandbox.services import expire_access_tokens

    _faults().inject(kind="slow", endpoint="egvs", times=2, seconds=1)
    killer = threading.Timer(
        1.5, lambda: (expire_access_tokens(sandbox_user_key=SANDBOX_USER), db_connection.close())
    )
    killer.start()
    run = services.sync_connection(connection_id=connection.pk)
    killer.join()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert _refreshes_spent() == 1
    assert_db_equals_truth(connection)


def _in_threads(count, target):
    results, errors = [None] * count, []
    barrier = threading.Barrier(count)

    def worker(index):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, errors


@live
def test_it_refreshes_exactly_once_for_20_concurrent_syncs_with_an_expiring_token(connection):
    services.sync_connection(connection_id=connection.pk)
    from apps.sandbox.services import expire_access_tokens

    expire_access_tokens(sandbox_user_key=SANDBOX_USER)
    DexcomConnection.objects.filter(pk=connection.pk).update(
        access_token_expires_at=timezone.now() + timedelta(seconds=30)
    )
    spent_before = _refreshes_spent()
    results, errors = _in_threads(20, lambda: services.sync_connection(connection_id=connection.pk))
    assert not errors, errors
    runs = [r for r in results if r is not None]
    assert len(runs) >= 1 and all(r.status == SyncRun.Status.SUCCEEDED for r in runs)
    assert _refreshes_spent() - spent_before == 1
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert_db_equals_truth(connection)


@live
def test_it_refreshes_exactly_once_for_20_concurrent_token_requests(connection):
    from apps.dexcom import tokens
    from apps.sandbox.services import expire_access_tokens

    expire_access_tokens(sandbox_user_key=SANDBOX_USER)
    DexcomConnection.objects.filter(pk=connection.pk).update(access_token_expires_at=timezone.now())

    def fetch_devices():
        return tokens.call_with_access_token(
            connection_id=connection.pk,
            call=lambda token: client.get_devices(access_token=token),
        )

    results, errors = _in_threads(20, fetch_devices)
    assert not errors, errors
    assert all(page.records for page in results)
    assert _refreshes_spent() == 1  # no invalid_grant: the single-use token was spent once
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE


def test_a_grant_revoked_between_calls_stops_the_run_without_spending_more(api, api_connection):
    connection = api_connection
    api.inject("revoked", "egvs")
    run = services.sync_connection(connection_id=connection.pk, api=api)
    assert run.status == SyncRun.Status.FAILED
    assert api.calls["token"] == 1 and api.refreshes_spent == 0  # one refresh tried, refused
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.NEEDS_REAUTH
    assert not connection.refresh_token_encrypted and not connection.access_token_encrypted
    calls = sum(api.calls.values())
    assert services.sync_connection(connection_id=connection.pk, api=api) is None
    assert sum(api.calls.values()) == calls  # syncing stopped: Dexcom is not asked again


def test_an_access_token_expired_early_is_refreshed_once(api, api_connection):
    api.expire_access_tokens()
    run = services.sync_connection(connection_id=api_connection.pk, api=api)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert api.refreshes_spent == 1
    assert_db_equals_truth(api_connection, api=api)
