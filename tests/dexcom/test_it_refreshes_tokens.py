"""Token refresh coordination, against canned token-endpoint answers (responses)."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from apps.dexcom import client, tokens
from apps.dexcom.crypto import decrypt_token, encrypt_token
from apps.dexcom.models import DexcomConnection

BASE = "https://dexcom.test"


@pytest.fixture
def connection(patient, settings):
    settings.DEXCOM_BASE_URL = BASE
    return DexcomConnection.objects.create(
        user=patient,
        base_url=BASE,
        dexcom_user_id="u1",
        access_token_encrypted=encrypt_token("old-access"),
        refresh_token_encrypted=encrypt_token("old-refresh"),
        access_token_expires_at=timezone.now() - timedelta(minutes=1),
    )


def _token_answer(n=1):
    return {"access_token": f"new-access-{n}", "refresh_token": f"new-refresh-{n}", "expires_in": 7200}


@responses.activate
def test_it_refreshes_an_expired_token_before_use(connection):
    responses.post(f"{BASE}/v3/oauth2/token", json=_token_answer())
    access, _ = tokens.current_access_token(connection_id=connection.pk)
    assert access == "new-access-1"
    assert "refresh_token=old-refresh" in responses.calls[0].request.body
    connection.refresh_from_db()
    assert decrypt_token(connection.refresh_token_encrypted) == "new-refresh-1"
    assert connection.refresh_claimed_until is None


@responses.activate
def test_it_uses_a_fresh_token_without_calling_dexcom(connection):
    connection.access_token_expires_at = timezone.now() + timedelta(hours=1)
    connection.save()
    access, _ = tokens.current_access_token(connection_id=connection.pk)
    assert access == "old-access"
    assert len(responses.calls) == 0


@responses.activate
def test_it_marks_the_connection_for_reauthorization_when_refresh_is_refused(connection):
    responses.post(f"{BASE}/v3/oauth2/token", json={"error": "invalid_grant"}, status=400)
    with pytest.raises(client.DexcomGrantRefused):
        tokens.current_access_token(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.NEEDS_REAUTH
    assert "reconnect" in connection.last_error
    assert connection.reauth_reason == DexcomConnection.ReauthReason.WITHDRAWN
    assert not connection.refresh_token_encrypted
    assert not connection.lost_refresh_token_encrypted
    with pytest.raises(tokens.ConnectionNotActive):
        tokens.current_access_token(connection_id=connection.pk)


@responses.activate
def test_it_keeps_the_claim_for_a_pause_when_dexcom_is_down(connection):
    # A 503 may come from a proxy after Dexcom spent the token: wait before presenting it again.
    responses.post(f"{BASE}/v3/oauth2/token", status=503)
    with pytest.raises(tokens.RefreshOutcomeUnknown):
        tokens.current_access_token(connection_id=connection.pk)
    connection.refresh_from_db()
    assert connection.refresh_claimed_until > timezone.now()
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert decrypt_token(connection.refresh_token_encrypted) == "old-refresh"


@responses.activate
def test_it_refreshes_once_and_retries_once_on_401(connection):
    connection.access_token_expires_at = timezone.now() + timedelta(hours=1)
    connection.save()
    responses.post(f"{BASE}/v3/oauth2/token", json=_token_answer())
    used = []

    def call(token):
        used.append(token)
        if token == "old-access":
            raise client.DexcomAuthError("401")
        return "data"

    assert tokens.call_with_access_token(connection_id=connection.pk, call=call) == "data"
    assert used == ["old-access", "new-access-1"]
    assert len(responses.calls) == 1


@responses.activate
def test_it_gives_up_after_one_retry(connection):
    connection.access_token_expires_at = timezone.now() + timedelta(hours=1)
    connection.save()
    responses.post(f"{BASE}/v3/oauth2/token", json=_token_answer())

    def call(token):
        raise client.DexcomAuthError("401")

    with pytest.raises(client.DexcomAuthError):
        tokens.call_with_access_token(connection_id=connection.pk, call=call)
    assert len(responses.calls) == 1  # one refresh, not a loop


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_it_does_not_spend_a_refresh_token_another_worker_has_claimed(connection):
    # Another worker holds the claim and stores its new pair while we wait.
    DexcomConnection.objects.filter(pk=connection.pk).update(
        refresh_claimed_until=timezone.now() + timedelta(seconds=30)
    )
    stale = connection.access_token_encrypted

    import threading

    def winner_stores_new_pair():
        from django.db import connection as thread_db

        try:
            tokens.save_token_pair(
                connection_id=connection.pk,
                pair=client.TokenPair("their-access", "their-refresh", timezone.now() + timedelta(hours=2)),
            )
        finally:
            thread_db.close()

    timer = threading.Timer(0.3, winner_stores_new_pair)
    timer.start()
    access, _ = tokens.refresh_access_token(connection_id=connection.pk, stale_access_encrypted=stale)
    timer.join()
    assert access == "their-access"
    assert len(responses.calls) == 0
