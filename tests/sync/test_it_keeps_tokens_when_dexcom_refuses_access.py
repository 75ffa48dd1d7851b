"""A 403 from Dexcom (e.g. a lapsed data-sharing authorisation) is not a token problem.

Against the emulator over real HTTP: the run records "access refused by Dexcom", the patient
reads a plain message, no refresh token is spent and the tokens stay; once Dexcom serves the data
again, the next sync works with the very same tokens.
"""

import pytest
from django.test import Client

from apps.dexcom import client as dexcom_client
from apps.dexcom.models import DexcomConnection
from apps.sync import services
from apps.sync.models import SyncRun
from tests.sync.conftest import SANDBOX_USER, assert_db_equals_truth

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN_FIELDS = (
    "access_token_encrypted",
    "refresh_token_encrypted",
    "access_token_expires_at",
    "refresh_claimed_until",
    "tokens_refreshed_at",
    "status",
)


def _tokens(connection) -> dict:
    return DexcomConnection.objects.filter(pk=connection.pk).values(*TOKEN_FIELDS).get()


@pytest.fixture
def token_requests(monkeypatch):
    """Every token-endpoint request dexweb makes (the real request still goes out)."""
    sent = []
    real = dexcom_client._token_request

    def spy(form, **kwargs):
        sent.append(form["grant_type"])
        return real(form, **kwargs)

    monkeypatch.setattr(dexcom_client, "_token_request", spy)
    return sent


def _refreshes_spent() -> int:
    from apps.sandbox.models import RefreshToken

    return RefreshToken.objects.filter(grant__sandbox_user__key=SANDBOX_USER, used_at__isnull=False).count()


def test_a_403_is_access_refused_not_a_token_problem(connection, token_requests):
    from apps.sandbox import faults

    before = _tokens(connection)
    faults.inject(kind="forbidden", times=None, sandbox_user_key=SANDBOX_USER)

    run = services.sync_connection(connection_id=connection.pk)

    assert run.status == SyncRun.Status.FAILED
    assert any("access refused by Dexcom" in error for error in run.errors), run.errors
    assert token_requests == [] and _refreshes_spent() == 0
    assert _tokens(connection) == before  # still active, same tokens
    connection.refresh_from_db()
    assert "permission to share it may have lapsed" in connection.last_error
    browser = Client()
    browser.force_login(connection.user)
    assert "permission to share it may have lapsed" in browser.get("/dexcom/").content.decode()

    faults.clear()
    run = services.sync_connection(connection_id=connection.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert token_requests == [] and _tokens(connection) == before
    connection.refresh_from_db()
    assert connection.last_error == ""
    assert_db_equals_truth(connection)
