"""A token refresh whose answer is lost, against canned token-endpoint answers (responses).

Refresh tokens are single use: a lost answer may have spent the token. It must never be
presented twice in a row without a pause, and a refusal after a lost answer is "the connection
was lost during a token refresh", not "you withdrew the permission".
"""

import time
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from apps.dexcom import tokens
from apps.dexcom.crypto import decrypt_token, encrypt_token
from apps.dexcom.models import DexcomConnection
from tests.dexcom.test_it_refreshes_tokens import (
    BASE,
    connection,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.faults

TOKEN_URL = f"{BASE}/v3/oauth2/token"
PAUSE = 0.3


@pytest.fixture(autouse=True)
def short_pause(settings):
    settings.DEXCOM_REFRESH_RETRY_PAUSE_SECONDS = PAUSE


def _lose_the_answer(dexcom_connection):
    responses.post(TOKEN_URL, body=requests.ConnectionError("connection reset by peer"))
    with pytest.raises(tokens.RefreshOutcomeUnknown) as raised:
        tokens.current_access_token(connection_id=dexcom_connection.pk)
    return raised.value


@responses.activate
def test_it_records_the_refresh_in_flight_and_does_not_present_the_token_again_at_once(connection):  # noqa: F811
    lost = _lose_the_answer(connection)
    assert lost.retry_after == pytest.approx(PAUSE)
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert connection.refresh_started_at is not None
    assert connection.refresh_answer_lost_at is not None
    assert decrypt_token(connection.refresh_token_encrypted) == "old-refresh"
    # A second caller right away is told to wait; Dexcom sees the token once.
    with pytest.raises(tokens.RefreshOutcomeUnknown):
        tokens.current_access_token(connection_id=connection.pk)
    assert len(responses.calls) == 1


@responses.activate
def test_it_presents_the_token_once_more_after_the_pause_and_recovers(connection):  # noqa: F811
    _lose_the_answer(connection)
    time.sleep(PAUSE + 0.05)
    responses.replace(
        responses.POST, TOKEN_URL, json={"access_token": "a2", "refresh_token": "r2", "expires_in": 7200}
    )
    access, _ = tokens.current_access_token(connection_id=connection.pk)
    assert access == "a2"
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert connection.refresh_started_at is None and connection.refresh_answer_lost_at is None
    assert decrypt_token(connection.refresh_token_encrypted) == "r2"


@responses.activate
def test_it_says_the_connection_was_lost_when_the_spent_token_is_refused(connection):  # noqa: F811
    _lose_the_answer(connection)
    time.sleep(PAUSE + 0.05)
    responses.replace(responses.POST, TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    with pytest.raises(tokens.client.DexcomGrantRefused):
        tokens.current_access_token(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.NEEDS_REAUTH
    assert connection.reauth_reason == DexcomConnection.ReauthReason.REFRESH_LOST
    assert "lost during a token refresh" in connection.last_error
    assert "withdrawn" not in connection.last_error
    assert not connection.refresh_token_encrypted and not connection.access_token_encrypted
    assert decrypt_token(connection.lost_refresh_token_encrypted) == "old-refresh"


@responses.activate
def test_a_refresh_left_in_flight_by_a_killed_worker_counts_as_a_lost_answer(connection):  # noqa: F811
    # kill -9 mid-request: no except clause ran, only the in-flight mark and an old claim remain.
    DexcomConnection.objects.filter(pk=connection.pk).update(
        refresh_started_at=timezone.now() - timedelta(minutes=2),
        refresh_claimed_until=timezone.now() - timedelta(minutes=1),
    )
    responses.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    with pytest.raises(tokens.client.DexcomGrantRefused):
        tokens.current_access_token(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.reauth_reason == DexcomConnection.ReauthReason.REFRESH_LOST
    assert decrypt_token(connection.lost_refresh_token_encrypted) == "old-refresh"


@responses.activate
def test_reconnecting_clears_the_lost_state_and_the_kept_token(connection):  # noqa: F811
    from apps.dexcom.services import store_connection

    _lose_the_answer(connection)
    tokens.mark_refresh_lost(connection_id=connection.pk)
    store_connection(
        user=connection.user,
        dexcom_user_id="u1",
        access_token_encrypted=encrypt_token("a3"),
        refresh_token_encrypted=encrypt_token("r3"),
        expires_at=timezone.now() + timedelta(hours=2),
        start_sync=False,
    )
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert connection.reauth_reason == ""
    assert connection.lost_refresh_token_encrypted == ""
    assert connection.refresh_started_at is None and connection.refresh_answer_lost_at is None
