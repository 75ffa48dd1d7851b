"""The emulator issues a new token pair and loses the answer: over real HTTP, end to end.

Before: the sync retried 0.5 s later with the spent refresh token, got invalid_grant, deleted the
tokens and told the patient their permission "was withdrawn". Now the refresh is held for a
pause, tried once more, and only then, when Dexcom refuses the spent token, is the patient told
plainly that the connection was lost during a token refresh; admins see the state, never tokens.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dexcom import tokens
from apps.dexcom.crypto import decrypt_token
from apps.dexcom.models import DexcomConnection
from apps.sync import services
from apps.sync.models import SyncRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

PAUSE = 1.0


@pytest.fixture
def expiring_connection(connection, settings):
    settings.DEXCOM_REFRESH_RETRY_PAUSE_SECONDS = PAUSE
    settings.DEXCOM_HTTP_TIMEOUT = 1.5
    DexcomConnection.objects.filter(pk=connection.pk).update(
        access_token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    return connection


def _emulator_refresh_tokens(connection):
    from apps.sandbox.models import RefreshToken

    return RefreshToken.objects.filter(grant__sandbox_user__key="SandboxUser1").order_by("pk")


@pytest.mark.parametrize("how", ["timeout", "malformed", "bad_gateway"])
def test_a_lost_token_answer_is_not_reported_as_a_withdrawn_permission(expiring_connection, client, how):
    from apps.sandbox import faults

    connection = expiring_connection
    presented = decrypt_token(connection.refresh_token_encrypted)
    faults.inject(kind="lost_answer", endpoint="token", how=how, seconds=3)

    with pytest.raises(tokens.RefreshOutcomeUnknown):
        services.sync_connection(connection_id=connection.pk)
    connection.refresh_from_db()
    # The emulator spent the token and issued a pair we never received...
    assert _emulator_refresh_tokens(connection).first().used_at is not None
    assert _emulator_refresh_tokens(connection).count() == 2
    # ...and the connection still stands: the spent token was not presented again at once.
    assert connection.status == DexcomConnection.Status.ACTIVE, connection.last_error
    assert connection.refresh_answer_lost_at is not None
    assert "withdrawn" not in connection.last_error

    with pytest.raises(tokens.RefreshOutcomeUnknown):
        services.sync_connection(connection_id=connection.pk)  # within the pause: no call
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE

    time.sleep(PAUSE + 0.1)
    run = services.sync_connection(connection_id=connection.pk)  # presents it once more: refused
    assert run.status == SyncRun.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.NEEDS_REAUTH
    assert connection.reauth_reason == DexcomConnection.ReauthReason.REFRESH_LOST
    assert decrypt_token(connection.lost_refresh_token_encrypted) == presented

    client.force_login(connection.user)
    page = client.get("/dexcom/").content.decode()
    assert "lost during a token refresh" in page and "withdrawn" not in page


def test_an_answer_lost_before_dexcom_spent_the_token_recovers_after_the_pause(expiring_connection):
    from apps.sandbox import faults

    connection = expiring_connection
    faults.inject(kind="server_error", endpoint="token")  # 500 before any token is issued
    with pytest.raises(tokens.RefreshOutcomeUnknown):
        services.sync_connection(connection_id=connection.pk)
    time.sleep(PAUSE + 0.1)
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert connection.refresh_started_at is None and connection.refresh_answer_lost_at is None


def test_admins_see_the_refresh_state_but_never_a_token(expiring_connection, admin_client):
    from apps.sandbox import faults

    connection = expiring_connection
    faults.inject(kind="lost_answer", endpoint="token", how="malformed")
    with pytest.raises(tokens.RefreshOutcomeUnknown):
        services.sync_connection(connection_id=connection.pk)
    connection.refresh_from_db()
    page = admin_client.get(f"/admin/dexcom/dexcomconnection/{connection.pk}/change/").content.decode()
    assert "answer lost at" in page
    tokens.mark_refresh_lost(connection_id=connection.pk)
    connection.refresh_from_db()
    page = admin_client.get(f"/admin/dexcom/dexcomconnection/{connection.pk}/change/").content.decode()
    assert "Connection lost during a token refresh" in page
    assert "spent token is kept encrypted" in page
    assert connection.lost_refresh_token_encrypted not in page
    assert decrypt_token(connection.lost_refresh_token_encrypted) not in page
